import { isTransient, s3ErrorCode } from '@app/archive';
import { permanent, retryable, StepError } from '@app/platform';
import { IamError } from './iam.port';

/**
 * The one classification of an object-store failure, for every command handler: an S3 call (minio-js, the
 * archive target, an anonymous HTTP read) or an admin API call (MinIO admin, RGW admin-ops). A `StepError`
 * passes through; an `IamError` keeps its code and retryability; any other failure gets `code`, retryable
 * when it is transient (network errors, SlowDown, 5xx, no S3 code at all), with the S3 error code in the
 * message. Messages name what failed, never a key.
 */
export function objectStoreStepError(code: string, what: string, error: unknown): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof IamError)
    return new StepError(error.code, error.message, { retryable: error.retryable, cause: error });
  const s3 = s3ErrorCode(error);
  const message = `${what} failed${s3 ? ` (${s3})` : ''}`;
  return isTransient(error) ? retryable(code, message, error) : permanent(code, message, error);
}

/** Runs object-store calls, failing with `objectStoreStepError`. */
export async function withObjectStore<T>(code: string, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw objectStoreStepError(code, what, error);
  }
}
