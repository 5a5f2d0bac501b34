import { permanent, retryable, StepError } from '@app/platform';
import { SecretStoreError } from './errors';

/**
 * Secret-store failures no retry can mend: a value that does not decrypt with any configured key, a path the
 * store refuses, a secret at the path that belongs to something else. Everything else (the store unreachable,
 * out of connections, timing out) is transient.
 */
const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'SECRETS.DECRYPTION_FAILED',
  'SECRETS.INVALID_PATH',
  'SECRETS.PATH_MISMATCH',
  'SECRETS.BAD_ARGUMENT',
  'SECRETS.KEY_INVALID',
  'SECRETS.KEY_MISSING',
]);

/**
 * The one classification of a secret-store failure, for every command handler: a typed `SecretStoreError` keeps
 * its code (permanent or retryable as above); an untyped error (a driver's connection refusal, a Kubernetes API
 * error) becomes the retryable `<errorDomain>.SECRET_STORE_UNAVAILABLE`. Messages name the action and the path,
 * never a value.
 */
export function secretStoreStepError(
  error: unknown,
  errorDomain: string,
  action: string,
  path: string,
): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof SecretStoreError) {
    return PERMANENT_CODES.has(error.code)
      ? permanent(error.code, `${action} ${path}: ${error.message}`)
      : retryable(error.code, `${action} ${path}: ${error.message}`);
  }
  return retryable(`${errorDomain}.SECRET_STORE_UNAVAILABLE`, `${action} ${path}: secret store unavailable`);
}

/** Runs one secret-store call, failing with `secretStoreStepError`. */
export async function withSecretStore<T>(
  errorDomain: string,
  action: string,
  path: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw secretStoreStepError(error, errorDomain, action, path);
  }
}
