import {
  COMMAND_CATALOG,
  resultEventId,
  tenantStream,
  type CommandFailedData,
  type CommandMessage,
  type CommandSucceededData,
  type FailureReason,
  type MessageMetadata,
  type StepOutputs,
} from '@app/contracts';
import { StreamNotFoundError, type EventData, type EventStore } from '@app/event-store';

/**
 * Appending the one outcome of a command to its tenant stream. Success and failure share one event id
 * derived from the command id, so a redelivered command can never record two outcomes.
 */
export class CommandOutcomeRecorder {
  constructor(
    private readonly eventStore: EventStore,
    private readonly actor: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Whether an outcome for this command is already in the tenant stream (the dedupe check before work). */
  async hasOutcome(command: CommandMessage): Promise<boolean> {
    const id = resultEventId(command.metadata.messageId);
    try {
      const events = await this.eventStore.readStream(tenantStream(command.metadata.tenantId), {
        direction: 'backwards',
        limit: 500,
      });
      return events.some((event) => event.id === id);
    } catch (error) {
      if (error instanceof StreamNotFoundError) return false;
      throw error;
    }
  }

  async succeeded(command: CommandMessage, outputs: StepOutputs): Promise<void> {
    const data: CommandSucceededData = {
      commandId: command.metadata.messageId,
      step: command.data.step,
      outputs,
    };
    await this.append(command, COMMAND_CATALOG[command.type].succeeded, data);
  }

  async failed(command: CommandMessage, reason: FailureReason, attempts: number): Promise<void> {
    const data: CommandFailedData = {
      commandId: command.metadata.messageId,
      step: command.data.step,
      error: reason,
      attempts,
    };
    await this.append(command, COMMAND_CATALOG[command.type].failed, data);
  }

  private async append(
    command: CommandMessage,
    type: string,
    data: CommandSucceededData | CommandFailedData,
  ) {
    const commandId = command.metadata.messageId;
    const event: EventData<CommandSucceededData | CommandFailedData, MessageMetadata> = {
      id: resultEventId(commandId),
      type,
      data,
      metadata: {
        messageId: resultEventId(commandId),
        schemaVersion: 1,
        occurredAt: this.clock().toISOString(),
        tenantId: command.metadata.tenantId,
        correlationId: command.metadata.correlationId,
        causationId: commandId,
        commandId,
        actor: this.actor,
      },
    };
    // 'any' is safe here: the caller checked for an existing outcome first, and the adapters refuse an event
    // id already present in the stream (DESIGN.md section 4, EventStoreDB trap).
    await this.eventStore.append(tenantStream(command.metadata.tenantId), [event], {
      expectedRevision: 'any',
    });
  }
}
