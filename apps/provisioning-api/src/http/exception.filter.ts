import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { EventStoreUnavailableError } from '@app/event-store';
import type { Logger } from 'pino';
import { IntakeError, INTAKE_ERROR_CODES, type IntakeErrorCode } from '../intake/intake.errors';
import { ApiError } from './api-error';
import type { HttpRequest, HttpResponse } from './http.types';

const INTAKE_STATUS: Record<IntakeErrorCode, number> = {
  [INTAKE_ERROR_CODES.VALIDATION_FAILED]: 400,
  [INTAKE_ERROR_CODES.TENANT_NOT_FOUND]: 404,
  [INTAKE_ERROR_CODES.SUBSCRIPTION_MISMATCH]: 409,
  [INTAKE_ERROR_CODES.TENANT_PURGED]: 409,
  [INTAKE_ERROR_CODES.TENANT_ID_COLLISION]: 409,
  [INTAKE_ERROR_CODES.DOMAIN_EXHAUSTED]: 409,
  [INTAKE_ERROR_CODES.CONCURRENCY_EXHAUSTED]: 503,
  [INTAKE_ERROR_CODES.TENANT_ID_EXHAUSTED]: 503,
  [INTAKE_ERROR_CODES.TENANT_NOT_ACTIVE]: 409,
  [INTAKE_ERROR_CODES.CHANGE_IN_PROGRESS]: 409,
  [INTAKE_ERROR_CODES.NOT_IN_GRACE_PERIOD]: 409,
};

/**
 * The one place errors become HTTP answers (CONVENTIONS.md 8). Bodies carry a stable code and a message we
 * wrote; never a stack, never the request's content, never a secret. A 401 says nothing at all.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<HttpResponse>();
    const request = http.getRequest<HttpRequest>();
    const { status, body } = this.map(error, request);
    if (status >= 500) {
      this.logger.error(
        { err: error, method: request.method, path: request.url.split('?')[0] },
        'request failed',
      );
    }
    response.status(status).json(body);
  }

  private map(error: unknown, _request: HttpRequest): { status: number; body: Record<string, unknown> } {
    if (error instanceof IntakeError) {
      const status = INTAKE_STATUS[error.code];
      if (error.code === INTAKE_ERROR_CODES.VALIDATION_FAILED) {
        return {
          status,
          body: { statusCode: status, error: 'VALIDATION_FAILED', violations: error.violations },
        };
      }
      return { status, body: { statusCode: status, error: error.code, message: error.message } };
    }
    if (error instanceof ApiError) {
      return {
        status: error.status,
        body: {
          statusCode: error.status,
          error: error.code,
          message: error.message,
          ...(error.violations.length > 0 ? { violations: error.violations } : {}),
        },
      };
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status === 401) return { status, body: { statusCode: 401 } };
      const response = error.getResponse();
      const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
      return {
        status,
        body: { statusCode: status, error: error.name, ...(typeof message === 'string' ? { message } : {}) },
      };
    }
    if (error instanceof EventStoreUnavailableError) {
      return { status: 503, body: { statusCode: 503, error: 'EVENT_STORE_UNAVAILABLE' } };
    }
    return { status: 500, body: { statusCode: 500, error: 'INTERNAL_ERROR' } };
  }
}
