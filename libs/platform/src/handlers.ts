import type { CommandMessage, CommandType, StepOutputs } from '@app/contracts';
import type { Logger } from 'pino';

export interface CommandContext {
  commandId: string;
  correlationId: string;
  /** 1 for the first delivery, then 2, 3, ... on retries. */
  attempt: number;
  logger: Logger;
}

/**
 * What a resource service implements: one function per command it owns. It must be idempotent
 * (create-if-absent, PUT semantics, absent-is-success on removal) because commands are delivered at least
 * once. It returns the facts to record in the success event (names, ids, secret paths, never secret values)
 * and throws `StepError` on failure.
 */
export type CommandHandler<C extends CommandType = CommandType> = (
  command: CommandMessage<C>,
  context: CommandContext,
) => Promise<StepOutputs>;

export type CommandHandlers = { [C in CommandType]?: CommandHandler<C> };
