import { COMMAND_CATALOG, isCommandType, type CommandType, type ResourceService } from '@app/contracts';
import type { EventStore } from '@app/event-store';
import type { MessageConsumer } from '@app/messaging';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import type { FaultRule } from '../fault-injection';
import type { CommandHandler, CommandHandlers } from '../handlers';
import { startResourceService } from '../resource-service';

export interface CommandTransportOptions {
  service: ResourceService;
  eventStore: EventStore;
  consumer: MessageConsumer;
  logger: Logger;
  prefetch: number;
  faults: readonly FaultRule[];
  /** Wraps the handlers before they are served (the command duration metrics). */
  instrument?: (handlers: CommandHandlers) => CommandHandlers;
}

/**
 * The resource services' Nest transport: the service's `@MessagePattern(<command type>)` handlers, served from
 * its RabbitMQ command queue through the path every resource service shares (`startResourceService`): refuse a
 * command the orchestrator did not decide, skip one whose outcome is recorded, run the handler, append the
 * outcome, and only then acknowledge; retry queues, parking and the handler deadline are `@app/messaging`'s.
 *
 * Commands are request/outcome, not request/reply: the outcome goes to the tenant's event stream, never back on
 * the broker, so the handler's value is the step's outputs and its error (a `StepError`, kept as thrown by
 * `RethrowRpcErrors`) decides retry or failure.
 */
export class CommandTransport extends Server implements CustomTransportStrategy {
  private started = false;
  private closing?: Promise<void>;

  constructor(private readonly options: CommandTransportOptions) {
    super();
  }

  /** Called by `NestMicroservice.listen()` once the modules' init and bootstrap hooks have run. */
  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  /** Stops consuming and waits (bounded) for the commands in flight; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.started ? this.options.consumer.stop() : Promise.resolve();
    return this.closing;
  }

  /** Whether the service consumes its queue (after `listen`, before `close`). */
  get listening(): boolean {
    return this.started && this.closing === undefined;
  }

  /** Commands arrive only on the service's queue: there are no transport events to listen to. */
  on(): never {
    throw new Error('CommandTransport emits no events');
  }

  unwrap<T>(): T {
    return this.options.consumer as T;
  }

  /** The registered `@MessagePattern` handlers by command type, each checked against `COMMAND_CATALOG`. */
  commandHandlers(): CommandHandlers {
    const handlers: Record<string, CommandHandler> = {};
    for (const [pattern, handler] of this.getHandlers()) {
      if (handler.isEventHandler) {
        throw new Error(`@EventPattern('${pattern}'): resource services handle commands only`);
      }
      const type = commandTypeOf(pattern, this.options.service);
      if (handlers[type]) throw new Error(`two handlers for ${type}`);
      handlers[type] = async (command, context) =>
        lastValueFrom(this.transformToObservable(await handler(command, context)));
    }
    return handlers as CommandHandlers;
  }

  private async start(): Promise<void> {
    const handlers = this.commandHandlers();
    const { instrument } = this.options;
    await startResourceService({
      service: this.options.service,
      handlers: instrument ? instrument(handlers) : handlers,
      eventStore: this.options.eventStore,
      consumer: this.options.consumer,
      logger: this.options.logger,
      prefetch: this.options.prefetch,
      faults: this.options.faults,
    });
    this.started = true;
  }
}

/** A pattern names a command of this service's catalog, or the service does not start. */
export function commandTypeOf(pattern: string, service: ResourceService): CommandType {
  if (!isCommandType(pattern)) {
    throw new Error(`@MessagePattern('${pattern}') is not a command type of COMMAND_CATALOG`);
  }
  const owner = COMMAND_CATALOG[pattern].service;
  if (owner !== service) {
    throw new Error(`@MessagePattern('${pattern}') belongs to the ${owner} service, not ${service}`);
  }
  return pattern;
}
