import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse, NextFunction } from './http.types';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

function hasBody(request: HttpRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Body-parser failure types (`err.type`) and the answer each gets; fixed messages, never the input. */
const BODY_ERRORS: Record<string, { status: number; error: string; message: string }> = {
  'entity.too.large': {
    status: 413,
    error: 'PAYLOAD_TOO_LARGE',
    message: 'request body exceeds the size limit',
  },
  'entity.parse.failed': { status: 400, error: 'MALFORMED_JSON', message: 'request body is not valid JSON' },
  'encoding.unsupported': {
    status: 415,
    error: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'unsupported content encoding',
  },
  'charset.unsupported': { status: 415, error: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported charset' },
};

/**
 * JSON only, size-limited, strict (objects and arrays at the top level), raw bytes kept for HMAC checks.
 * Every body failure is answered here with a 4xx JSON body, so a bad request can never become a 500.
 */
export function installBodyParsing(app: NestExpressApplication, limitBytes: number, logger: Logger): void {
  app.use((request: HttpRequest, response: HttpResponse, next: NextFunction) => {
    if (METHODS_WITH_BODY.has(request.method) && hasBody(request) && !request.is('application/json')) {
      response.status(415).json({
        statusCode: 415,
        error: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'Content-Type must be application/json',
      });
      return;
    }
    next();
  });
  app.useBodyParser('json', { limit: limitBytes, strict: true, type: 'application/json' });
  app.use((error: unknown, _request: HttpRequest, response: HttpResponse, next: NextFunction) => {
    if (response.headersSent) return next(error);
    const type = (error as { type?: unknown } | null)?.type;
    const known = typeof type === 'string' ? BODY_ERRORS[type] : undefined;
    const status = (error as { status?: unknown } | null)?.status;
    const answer = known ?? {
      status: typeof status === 'number' && status >= 400 && status < 500 ? status : 400,
      error: 'BAD_REQUEST',
      message: 'request body could not be read',
    };
    logger.info(
      { bodyError: typeof type === 'string' ? type : 'unknown', status: answer.status },
      'request body refused',
    );
    response
      .status(answer.status)
      .json({ statusCode: answer.status, error: answer.error, message: answer.message });
  });
}
