import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Logger } from 'pino';
import type { ProvisioningApiConfig } from '../config';
import { verifyWebhookCredentials, type WebhookAuthSettings } from '../http/auth';
import { header, type HttpRequest } from '../http/http.types';
import { CLOCK, UseCaseError, type Clock } from '@app/tenancy';
import { APP_CONFIG, APP_LOGGER } from '../tokens';
import { SEEN_SIGNATURES, type SeenSignatures } from './seen-signatures';

/** The part of Express's response the guard watches: a failed request's signature is let in again. */
interface FinishingResponse {
  statusCode: number;
  once(event: 'finish', listener: () => void): unknown;
}

/** Billing's webhook credentials (see `verifyWebhookCredentials`); a signed request is accepted once. */
@Injectable()
export class WebhookAuthGuard implements CanActivate {
  private readonly settings: WebhookAuthSettings;

  constructor(
    @Inject(APP_CONFIG) config: ProvisioningApiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    @Inject(SEEN_SIGNATURES) private readonly seen: SeenSignatures,
  ) {
    this.settings = {
      signingSecret: config.WEBHOOK_SIGNING_SECRET,
      bearerSecret: config.WEBHOOK_BEARER_SECRET,
      requireSignature: config.WEBHOOK_REQUIRE_SIGNATURE,
      toleranceSeconds: config.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS,
    };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const path = request.url.split('?')[0];
    const now = this.clock().getTime();
    const result = verifyWebhookCredentials(
      {
        authorization: header(request, 'authorization'),
        signature: header(request, 'x-signature'),
        timestamp: header(request, 'x-signature-timestamp'),
        stripeSignature: header(request, 'stripe-signature'),
        rawBody: request.rawBody,
      },
      this.settings,
      now,
    );
    if (!result.ok) {
      // The reason goes to the log for operators; the caller learns nothing beyond 401.
      this.logger.warn({ reason: result.reason, path }, 'webhook authentication refused');
      throw new UnauthorizedException();
    }
    if (result.method === 'signature') {
      if (!(await this.seen.remember(result.replayKey, result.expiresAtMs, now))) {
        this.logger.warn({ reason: 'replayed', path }, 'webhook authentication refused');
        // A genuine retry is signed anew (a new timestamp) and is let in.
        throw new UseCaseError(
          'WEBHOOK.REPLAYED',
          'this signed request was already received; a retry must be signed again with a new timestamp',
        );
      }
      // Our failure, not billing's: the same signed request may come again.
      const response = context.switchToHttp().getResponse<FinishingResponse>();
      const key = result.replayKey;
      response.once('finish', () => {
        if (response.statusCode < 500) return;
        this.seen
          .forget(key)
          .catch((error: Error) =>
            this.logger.warn({ err: error.message }, 'could not forget a failed webhook signature'),
          );
      });
    }
    return true;
  }
}
