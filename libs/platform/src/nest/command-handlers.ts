import type { ResourceService } from '@app/contracts';
import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { MetadataScanner } from '@nestjs/core';
import { ListenerMetadataExplorer } from '@nestjs/microservices/listener-metadata-explorer';
import { throwError, type Observable } from 'rxjs';
import type { CommandHandler, CommandHandlers } from '../handlers';
import { commandTypeOf } from './command-transport';

/**
 * Keeps a command handler's error as it was thrown. Nest's default RPC filter answers any error that is not an
 * `RpcException` with `{ status: 'error', message: 'Internal server error' }`, which would lose the
 * `StepError`'s code and retryability the outcome recorder needs.
 */
@Catch()
export class RethrowRpcErrors implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

/**
 * The `@MessagePattern` methods of handler instances, found the way Nest's microservice module finds them, as
 * the plain command functions the resource-service path runs. For tests and tools that drive handlers without
 * a broker; the running service gets the same methods through `CommandTransport`, behind Nest's pipes and
 * filters.
 */
export function commandHandlersOf(service: ResourceService, instances: readonly object[]): CommandHandlers {
  const explorer = new ListenerMetadataExplorer(new MetadataScanner());
  const handlers: Record<string, CommandHandler> = {};
  for (const instance of instances) {
    for (const listener of explorer.explore(instance)) {
      for (const pattern of listener.patterns) {
        const type = commandTypeOf(String(pattern), service);
        if (handlers[type]) throw new Error(`two handlers for ${type}`);
        handlers[type] = listener.targetCallback.bind(instance) as CommandHandler;
      }
    }
  }
  return handlers as CommandHandlers;
}
