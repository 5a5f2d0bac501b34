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

/** /metrics is public unless METRICS_TOKEN is set. */
@Injectable()
export class MetricsGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: ProvisioningApiConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.METRICS_TOKEN;
    if (expected === undefined) return true;
    const given = bearerToken(header(context.switchToHttp().getRequest<HttpRequest>(), 'authorization'));
    if (given === undefined || !constantTimeEqual(given, expected)) throw new UnauthorizedException();
    return true;
  }
}
