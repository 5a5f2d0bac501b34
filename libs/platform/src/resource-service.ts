import {
  COMMAND_CATALOG,
  COMMAND_TYPES,
  commandRoutingKey,
  isCommandType,
  isTenantId,
  serviceQueueName,
  type CommandMessage,
  type CommandType,
  type ResourceService,
} from '@app/contracts';
import type { EventStore } from '@app/event-store';
import {
  PermanentError,
  RetryableError,
  type Message,
  type MessageConsumer,
  type MessageHandler,
  type ParkedMessage,
} from '@app/messaging';
import type { Logger } from 'pino';
import { CommandOutcomeRecorder, type CommandRecord } from './command-outcome';
import { FAULT_INJECTION_VARIABLE, injectedFault, type FaultRule } from './fault-injection';
import type { CommandHandler, CommandHandlers } from './handlers';
import { StepError, toFailureReason } from './step-error';

export interface ResourceServiceOptions {
  service: ResourceService;
  handlers: CommandHandlers;
  eventStore: EventStore;
  consumer: MessageConsumer;
  logger: Logger;
  clock?: () => Date;
  prefetch?: number;
  /** Test-only injected failures (`parseFaultInjection`); rules for other services' commands are ignored. */
  faults?: readonly FaultRule[];
}

/**
 * Code of the refusal of a command the orchestrator never decided: parked at once, no outcome recorded (the
 * orchestrator must not react to a command it did not send), a security event in the tenant stream instead.
 */
export const UNDECIDED_COMMAND_CODE = 'COMMAND.UNDECIDED';

/** The violated rules of a command envelope, checked before any handler sees it (invalid → parked). */
export function commandViolations(message: Message): string[] {
  const violations: string[] = [];
  if (!isCommandType(message.type)) violations.push(`unknown command type ${message.type}`);
  if (!isTenantId(message.metadata?.tenantId)) violations.push('metadata.tenantId is not a tenant id');
  const data = message.data as Partial<CommandMessage['data']> | undefined;
  if (!data || typeof data !== 'object') return [...violations, 'data must be an object'];
  if (typeof data.step !== 'string' || data.step.length === 0) violations.push('data.step is required');
  if (!data.tenant || data.tenant.tenantId !== message.metadata?.tenantId) {
    violations.push('data.tenant.tenantId must equal metadata.tenantId');
  }
  if (data.params === undefined || data.params === null || typeof data.params !== 'object')
    violations.push('data.params must be an object');
  return violations;
}

/**
 * The command-handling path shared by every resource service (CONVENTIONS.md 4): consume from the service's
 * queue, refuse a command the orchestrator did not decide (whoever can publish on the command exchange must
 * not be able to run one), skip a command whose outcome is already recorded, run the handler, append its
 * outcome to the tenant stream, and only then acknowledge. Retryable failures go back through the messaging
 * retry queues; once retries are exhausted the failure is recorded so the saga can roll back, and the message
 * is parked.
 */
export async function startResourceService(options: ResourceServiceOptions): Promise<void> {
  const { service, handlers, eventStore, consumer, logger } = options;
  const recorder = new CommandOutcomeRecorder(eventStore, `${service}-service`, options.clock);
  const owned = COMMAND_TYPES.filter((type) => COMMAND_CATALOG[type].service === service);
  const missing = owned.filter((type) => !handlers[type]);
  if (missing.length > 0)
    logger.warn({ missing }, 'commands of this service without a handler will be parked');
  const faults = (options.faults ?? []).filter((rule) => owned.includes(rule.command));
  /** Records the refusal where the tenant's history shows it; a tenant without a stream gets none. */
  const refuse = async (command: CommandMessage, record: CommandRecord, log: Logger): Promise<void> => {
    const reason = record.undecided ?? 'undecided';
    const recorded = record.streamExists && (await recorder.refused(command, reason));
    log.error(
      {
        commandType: command.type,
        commandId: command.metadata.messageId,
        step: command.data.step,
        reason,
        recorded,
      },
      recorded
        ? 'command refused: the orchestrator did not decide it; security event recorded'
        : 'command refused: the orchestrator did not decide it; no tenant stream to record it in',
    );
  };
  if (faults.length > 0) {
    logger.error(
      { faults, variable: FAULT_INJECTION_VARIABLE },
      'FAULT INJECTION ACTIVE: these commands will fail permanently without running (test-only)',
    );
  }

  const messageHandlers: Record<string, MessageHandler<never>> = {};
  for (const type of owned) {
    const handler = handlers[type] as CommandHandler<CommandType> | undefined;
    if (!handler) continue;
    const messageHandler: MessageHandler<CommandMessage> = {
      validate: (message) => commandViolations(message),
      handle: async (command, context) => {
        const record = await recorder.inspect(command);
        if (record.undecided !== undefined) {
          await refuse(command, record, context.logger);
          throw new PermanentError(
            UNDECIDED_COMMAND_CODE,
            `${command.type} refused: ${record.undecided}; nothing was changed`,
          );
        }
        if (record.outcomeRecorded) {
          context.logger.info(
            { commandType: command.type },
            'outcome already recorded; acknowledging duplicate',
          );
          return;
        }
        try {
          const fault = injectedFault(faults, command);
          if (fault) {
            context.logger.error(
              { commandType: command.type, code: fault.code },
              'failing command by injection',
            );
            throw fault;
          }
          const outputs = await handler(command, {
            commandId: command.metadata.messageId,
            correlationId: command.metadata.correlationId,
            attempt: context.attempt,
            logger: context.logger,
          });
          await recorder.succeeded(command, outputs);
          context.logger.info({ commandType: command.type, step: command.data.step }, 'command succeeded');
        } catch (error) {
          const reason = toFailureReason(error);
          if (error instanceof StepError && !error.retryable) {
            await recorder.failed(command, reason, context.attempt);
            context.logger.warn(
              { commandType: command.type, code: reason.code },
              'command failed permanently',
            );
            return;
          }
          context.logger.warn(
            {
              commandType: command.type,
              code: reason.code,
              attempt: context.attempt,
              ...(error instanceof StepError ? {} : { err: error }),
            },
            'command failed; will retry',
          );
          throw new RetryableError(reason.code, reason.message, { cause: error });
        }
      },
    };
    messageHandlers[type] = messageHandler as MessageHandler<never>;
  }

  await consumer.subscribe({
    queue: serviceQueueName(service),
    bindings: owned.map((type) => ({
      exchange: 'provisioningCommands' as const,
      routingKey: commandRoutingKey(type),
    })),
    handlers: messageHandlers,
    // Every outcome is checked against the event store before work, so an in-memory dedupe adds nothing.
    dedupe: false,
    prefetch: options.prefetch,
    onParked: async (parked: ParkedMessage) => {
      const envelope = parked.envelope;
      if (!envelope || commandViolations(envelope).length > 0) {
        logger.error({ reason: parked.reason, messageId: parked.messageId }, 'unusable command parked');
        return;
      }
      const command = envelope as CommandMessage;
      // Refused already, with its security event: a failure would make the orchestrator react to it.
      if (parked.error.code === UNDECIDED_COMMAND_CODE) return;
      // Parked before its check ran (retries exhausted, redelivery limit): only a decided command may fail.
      const record = await recorder.inspect(command);
      if (record.undecided !== undefined) {
        await refuse(command, record, logger);
        return;
      }
      if (record.outcomeRecorded) return;
      await recorder.failed(
        command,
        { code: parked.error.code, message: parked.error.message, retryable: parked.error.retryable },
        parked.attempts,
      );
      logger.error(
        { commandType: command.type, code: parked.error.code },
        'command parked after its last attempt',
      );
    },
  });
}
