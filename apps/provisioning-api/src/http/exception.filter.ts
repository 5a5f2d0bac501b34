import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { EventStoreUnavailableError } from '@app/event-store';
import { UseCaseError } from '@app/tenancy';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse } from './http.types';

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
    const { status, body } = this.map(error);
    if (status >= 500) {
      this.logger.error(
        { err: error, method: request.method, path: request.url.split('?')[0] },
        'request failed',
      );
    }
    response.status(status).json(body);
  }

  private map(error: unknown): { status: number; body: Record<string, unknown> } {
    if (error instanceof UseCaseError) {
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
