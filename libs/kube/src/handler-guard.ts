import type { CommandMessage, CommandType, StepOutputs } from '@app/contracts';
import { StepError, permanent, retryable } from '@app/platform';
import { ManifestError } from './schema';

/**
 * Wraps a handler of a service that renders manifests: a `ManifestError` is a bug or bad input, so it fails
 * permanently with its violations named; anything untyped becomes retryable `<errorDomain>.UNEXPECTED`.
 */
export function manifestGuard(errorDomain: string) {
  return <C extends CommandType>(
      handler: (command: CommandMessage<C>, correlationId: string) => Promise<StepOutputs>,
    ) =>
    async (command: CommandMessage<C>, context: { correlationId: string }): Promise<StepOutputs> => {
      try {
        return await handler(command, context.correlationId);
      } catch (error) {
        if (error instanceof StepError) throw error;
        if (error instanceof ManifestError) throw permanent(error.code, error.message, error);
        const message = error instanceof Error ? error.message : String(error);
        throw retryable(`${errorDomain}.UNEXPECTED`, message.split('\n')[0].slice(0, 300), error);
      }
    };
}
