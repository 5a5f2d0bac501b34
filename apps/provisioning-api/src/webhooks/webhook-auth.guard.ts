import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Logger } from 'pino';
import type { ProvisioningApiConfig } from '../config';
import { verifyWebhookCredentials } from '../http/auth';
import { header, type HttpRequest } from '../http/http.types';
import { APP_CONFIG, APP_LOGGER, CLOCK, type Clock } from '../tokens';

/** Billing's webhook credentials: bearer secret or HMAC signature (see `verifyWebhookCredentials`). */
@Injectable()
export class WebhookAuthGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: ProvisioningApiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const result = verifyWebhookCredentials(
      {
        authorization: header(request, 'authorization'),
        signature: header(request, 'x-signature'),
        timestamp: header(request, 'x-signature-timestamp'),
        rawBody: request.rawBody,
      },
      this.config.WEBHOOK_SECRET,
      this.config.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS,
      this.clock().getTime(),
    );
    if (!result.ok) {
      // The reason goes to the log for operators; the caller learns nothing beyond 401.
      this.logger.warn(
        { reason: result.reason, path: request.url.split('?')[0] },
        'webhook authentication refused',
      );
      throw new UnauthorizedException();
    }
    return true;
  }
}
