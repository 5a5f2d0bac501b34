import {
  Inject,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Logger } from 'pino';
import type { ProvisioningApiConfig } from '../config';
import { bearerToken, resolvePrincipal, type Principal, type RoleToken } from '../http/auth';
import { header, type HttpRequest } from '../http/http.types';
import { OidcUnavailableError, OidcVerifier, looksLikeJwt } from '../http/oidc';
import { APP_CONFIG, APP_LOGGER } from '../tokens';

/**
 * Operators and auditors read tenants and their audit history; anyone else gets a bare 401. A caller is named
 * by a static token (`OPERATOR_TOKENS` / `AUDITOR_TOKENS`) or, when `OIDC_ISSUER` is set, by an access token of
 * that OpenID Connect provider whose roles claim names an operator or auditor role.
 */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  private readonly tokens: RoleToken[];
  private readonly oidc?: OidcVerifier;

  constructor(
    @Inject(APP_CONFIG) config: ProvisioningApiConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.tokens = [
      ...config.OPERATOR_TOKENS.map((t) => ({ ...t, role: 'operator' as const })),
      ...config.AUDITOR_TOKENS.map((t) => ({ ...t, role: 'auditor' as const })),
    ];
    if (config.OIDC_ISSUER && config.OIDC_AUDIENCE) {
      this.oidc = new OidcVerifier({
        issuer: config.OIDC_ISSUER,
        audience: config.OIDC_AUDIENCE,
        jwksUrl: config.OIDC_JWKS_URL,
        rolesClaim: config.OIDC_ROLES_CLAIM,
        operatorRoles: config.OIDC_OPERATOR_ROLES,
        auditorRoles: config.OIDC_AUDITOR_ROLES,
        nameClaim: config.OIDC_NAME_CLAIM,
      });
    }
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const authorization = header(request, 'authorization');
    let principal: Principal | undefined = resolvePrincipal(authorization, this.tokens);
    const token = bearerToken(authorization);
    if (!principal && this.oidc && token && looksLikeJwt(token)) {
      try {
        principal = await this.oidc.principal(token);
      } catch (error) {
        if (!(error instanceof OidcUnavailableError)) throw error;
        this.logger.error(
          { err: error.message },
          'OIDC provider unavailable: access tokens cannot be checked',
        );
        throw new ServiceUnavailableException('identity provider unavailable');
      }
    }
    if (!principal) throw new UnauthorizedException();
    request.principal = principal;
    return true;
  }
}
