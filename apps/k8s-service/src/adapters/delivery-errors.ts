import { ManifestError } from '@app/kube';
import { StepError, permanent, retryable } from '@app/platform';

/**
 * The one classification of a delivery failure (either driver), for every command handler. The drivers' own
 * failures are typed already (the API client's and the Git working copy's codes) and kept; an object that fails
 * its schema is a bug or bad input, so it fails permanently with its violations named; anything untyped (a file
 * system error in the working copy) is retryable `K8S.UNEXPECTED`, with the first line of its message only.
 */
export function deliveryStepError(error: unknown): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof ManifestError) return permanent(error.code, error.message, error);
  const message = error instanceof Error ? error.message : String(error);
  return retryable('K8S.UNEXPECTED', message.split('\n')[0].slice(0, 300), error);
}

/** Runs one delivery call, failing with `deliveryStepError`. */
export async function withDelivery<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw deliveryStepError(error);
  }
}
