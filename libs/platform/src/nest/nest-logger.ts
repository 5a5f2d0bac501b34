import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/**
 * Routes Nest's own messages into the process's pino logger. Its start-up chatter (modules initialised,
 * "Nest application successfully started") goes to debug so the info stream stays the app's own; a failed
 * start-up is logged once, as `start-up failed`, by the bootstrap that rethrows it, not also by Nest's
 * exception handler.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: unknown, context?: string): void {
    if (context === 'ExceptionHandler' || trace === 'ExceptionHandler') {
      this.logger.debug({ context: 'ExceptionHandler' }, String(message));
      return;
    }
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
