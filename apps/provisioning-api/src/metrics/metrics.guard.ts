import {
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { ProvisioningApiConfig } from '../config';
import { bearerToken, constantTimeEqual } from '../http/auth';
import { header, type HttpRequest } from '../http/http.types';
import { APP_CONFIG } from '../tokens';

/**
 * /metrics requires `Bearer <METRICS_TOKEN>` when it is set, which the configuration makes mandatory under
 * NODE_ENV=production; outside production without it, /metrics is public (local development).
 */
@Injectable()
export class MetricsGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: ProvisioningApiConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.METRICS_TOKEN;
    if (expected === undefined) {
      // Defence in depth: a configuration built without the schema's production rule still closes /metrics.
      if (this.config.NODE_ENV === 'production') throw new UnauthorizedException();
      return true;
    }
    const given = bearerToken(header(context.switchToHttp().getRequest<HttpRequest>(), 'authorization'));
    if (given === undefined || !constantTimeEqual(given, expected)) throw new UnauthorizedException();
    return true;
  }
}
