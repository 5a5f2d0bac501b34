import pino, { type Logger } from 'pino';

export type { Logger };

export function defaultLogger(): Logger {
  return pino({ name: 'event-store', level: process.env['LOG_LEVEL'] ?? 'info' });
}

/**
 * What a log line may say about an error: its class, code and message. Driver errors carry their client
 * (connection parameters, possibly a password), so the object itself is never logged.
 */
export function describeError(error: unknown): { name: string; message: string; code?: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}
