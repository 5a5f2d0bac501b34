import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ProvisioningApiConfig } from '../config';
import { bearerToken, constantTimeEqual, resolvePrincipal } from '../http/auth';
import { header, type HttpRequest, type HttpResponse } from '../http/http.types';
import { buildAsyncApiDocument } from './asyncapi-document';

/** Where the bus's AsyncAPI document is served, beside the OpenAPI document (`/api/docs-json`). */
export const ASYNCAPI_PATH = '/api/asyncapi.json';

/**
 * Whether a request may read the documents: outside production anyone, under NODE_ENV=production the bearer of
 * METRICS_TOKEN or of an operator or auditor token, as for the OpenAPI document (the bus's names and payload
 * rules are as much a map for an attacker). Both checks run, so timing does not tell which token matched.
 */
function mayRead(config: ProvisioningApiConfig, request: HttpRequest): boolean {
  if (config.NODE_ENV !== 'production') return true;
  const authorization = header(request, 'authorization');
  const given = bearerToken(authorization);
  const metricsOk =
    config.METRICS_TOKEN !== undefined && constantTimeEqual(given ?? '', config.METRICS_TOKEN);
  const principal = resolvePrincipal(authorization, [
    ...config.OPERATOR_TOKENS.map((t) => ({ ...t, role: 'operator' as const })),
    ...config.AUDITOR_TOKENS.map((t) => ({ ...t, role: 'auditor' as const })),
  ]);
  return given !== undefined && (metricsOk || principal !== undefined);
}

/** Serves the AsyncAPI document, built once from the catalogs at start-up. */
export function serveAsyncApi(app: NestExpressApplication, config: ProvisioningApiConfig): void {
  const body = JSON.stringify(buildAsyncApiDocument());
  const express = app.getHttpAdapter().getInstance() as {
    get(path: string, handler: (request: HttpRequest, response: HttpResponse) => void): void;
  };
  express.get(ASYNCAPI_PATH, (request, response) => {
    if (!mayRead(config, request)) {
      response.setHeader('WWW-Authenticate', 'Bearer');
      response.status(401).json({ statusCode: 401 });
      return;
    }
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Cache-Control', 'no-store');
    response.status(200).end(body);
  });
}
