import type { ProvisioningApiConfig } from '../config';
import { bearerToken, constantTimeEqual, resolvePrincipal } from '../http/auth';
import { header, type HttpRequest, type HttpResponse, type NextFunction } from '../http/http.types';

/**
 * Under NODE_ENV=production, /api/docs (UI, `-json`, `-yaml`) answers only `Authorization: Bearer <token>`:
 * METRICS_TOKEN (what a scraper or a CI job already holds) or an operator or auditor static token. The
 * document names every route and payload rule, which is a map for an attacker. Elsewhere it stays open for
 * local development. Returns undefined when no check applies.
 */
export function docsAuthMiddleware(
  config: ProvisioningApiConfig,
): ((request: HttpRequest, response: HttpResponse, next: NextFunction) => void) | undefined {
  if (config.NODE_ENV !== 'production') return undefined;
  const metricsToken = config.METRICS_TOKEN;
  const roleTokens = [
    ...config.OPERATOR_TOKENS.map((t) => ({ ...t, role: 'operator' as const })),
    ...config.AUDITOR_TOKENS.map((t) => ({ ...t, role: 'auditor' as const })),
  ];
  return (request, response, next) => {
    const path = request.url.split('?')[0];
    if (path !== '/api/docs' && !path.startsWith('/api/docs/') && !path.startsWith('/api/docs-')) {
      next();
      return;
    }
    const authorization = header(request, 'authorization');
    const given = bearerToken(authorization);
    // Both checks run, so timing does not tell which kind of token was presented.
    const metricsOk = metricsToken !== undefined && constantTimeEqual(given ?? '', metricsToken);
    const principal = resolvePrincipal(authorization, roleTokens);
    if (given !== undefined && (metricsOk || principal !== undefined)) {
      next();
      return;
    }
    response.setHeader('WWW-Authenticate', 'Bearer');
    response.status(401).json({ statusCode: 401 });
  };
}
