import {
  buildEvent,
  COMMAND_CATALOG,
  deterministicId,
  resultEventId,
  tenantStream,
  type CommandFailedData,
  type CommandMessage,
  type CommandSucceededData,
  type FailureReason,
  type LifecycleEventData,
  type StepOutputs,
} from '@app/contracts';
import { readStreamOrEmpty, WrongExpectedVersionError, type EventStore } from '@app/event-store';

/** Events read per page of the tenant stream; a command's decision is almost always in the first page. */
const PAGE_SIZE = 500;
/** Longest text taken from a refused message into its security event (the sender chose it). */
const MAX_RECORDED_TEXT = 200;

/** What the tenant stream says about one command, from one read (more pages only for a long stream). */
export interface CommandRecord {
  /** Whether the tenant stream exists: without it nothing is appended for the command, not even a refusal. */
  streamExists: boolean;
  /** An outcome of this command is already recorded (a redelivery: acknowledge without work). */
  outcomeRecorded: boolean;
  /** Why the command is not one the orchestrator decided; absent when its `StepStarted` matches it. */
  undecided?: string;
}

type StepStartedData = LifecycleEventData['StepStarted'];

/** JSON with every object's keys sorted: stored events (PostgreSQL JSONB) do not keep key order. */
function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, nested: unknown) =>
    nested !== null && typeof nested === 'object' && !Array.isArray(nested)
      ? Object.fromEntries(Object.entries(nested).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : nested,
  );
}

/**
 * How a command differs from the orchestrator's decision with the same id, or undefined when it is that
 * decision: the orchestrator builds each command from its `StepStarted` (type, step, params), so a legitimate
 * command (first dispatch, redispatch, retry, compensation, purge step, operator retry) always matches.
 */
export function decisionMismatch(command: CommandMessage, decision: StepStartedData): string | undefined {
  if (decision.commandType !== command.type) {
    return `the decision with this command id is a ${String(decision.commandType)}, not a ${command.type}`;
  }
  if (decision.step !== command.data.step) {
    return `the decision with this command id is for step ${String(decision.step)}, not ${command.data.step}`;
  }
  if (canonicalJson(decision.params) !== canonicalJson(command.data.params)) {
    return 'the params differ from the decision with this command id';
  }
  return undefined;
}

function truncated(text: string): string {
  return text.length > MAX_RECORDED_TEXT ? `${text.slice(0, MAX_RECORDED_TEXT)}…` : text;
}

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

  /**
   * The check before any work, in one backwards read of the tenant stream: whether the orchestrator decided
   * this command (a `StepStarted` with its id, type, step and params) and whether its outcome is recorded.
   * A decision older than the first page is looked for page by page; the outcome always follows its decision.
   */
  async inspect(command: CommandMessage): Promise<CommandRecord> {
    const stream = tenantStream(command.metadata.tenantId);
    const commandId = command.metadata.messageId;
    const outcomeId = resultEventId(commandId);
    let outcomeRecorded = false;
    let mismatch: string | undefined;
    let from: number | undefined;
    for (;;) {
      const page = await readStreamOrEmpty(this.eventStore, stream, {
        direction: 'backwards',
        limit: PAGE_SIZE,
        ...(from === undefined ? {} : { from }),
      });
      // Reading backwards from the end or from an existing revision finds at least one event, if the stream exists.
      if (page.length === 0) {
        if (from === undefined) {
          return { streamExists: false, outcomeRecorded: false, undecided: 'the tenant has no stream' };
        }
        break;
      }
      for (const event of page) {
        if (event.id === outcomeId) outcomeRecorded = true;
        if (event.type !== 'StepStarted') continue;
        const decision = event.data as StepStartedData | null;
        if (decision?.commandId !== commandId) continue;
        const difference = decisionMismatch(command, decision);
        if (difference === undefined) return { streamExists: true, outcomeRecorded };
        mismatch ??= difference;
      }
      const oldest = page[page.length - 1];
      if (page.length < PAGE_SIZE || oldest === undefined || oldest.revision === 0) break;
      from = oldest.revision - 1;
    }
    return {
      streamExists: true,
      outcomeRecorded,
      undecided: mismatch ?? 'the tenant stream has no StepStarted with this command id',
    };
  }

  /**
   * Records a refused command as a security event in its tenant stream, once per command id (redeliveries
   * append nothing more). Never creates a stream: false when the tenant has none.
   */
  async refused(command: CommandMessage, reason: string): Promise<boolean> {
    const commandId = command.metadata.messageId;
    const id = deterministicId('undecided', commandId);
    const data: LifecycleEventData['UndecidedCommandRefused'] = {
      commandId: truncated(commandId),
      commandType: command.type,
      step: truncated(command.data.step),
      service: COMMAND_CATALOG[command.type].service,
      reason,
      refusedAt: this.clock().toISOString(),
    };
    const event = buildEvent(
      'UndecidedCommandRefused',
      data,
      {
        tenantId: command.metadata.tenantId,
        correlationId: truncated(String(command.metadata.correlationId)),
        causationId: data.commandId,
        actor: this.actor,
      },
      id,
      data.refusedAt,
    );
    try {
      await this.eventStore.append(tenantStream(command.metadata.tenantId), [event], {
        expectedRevision: 'stream_exists',
      });
      return true;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return false;
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
    const event = buildEvent(
      type,
      data,
      {
        tenantId: command.metadata.tenantId,
        correlationId: command.metadata.correlationId,
        causationId: commandId,
        commandId,
        actor: this.actor,
      },
      resultEventId(commandId),
      this.clock(),
    );
    // 'any' is safe here: the caller checked for an existing outcome first, and the adapters refuse an event
    // id already present in the stream (DESIGN.md section 4, EventStoreDB trap).
    await this.eventStore.append(tenantStream(command.metadata.tenantId), [event], {
      expectedRevision: 'any',
    });
  }
}
