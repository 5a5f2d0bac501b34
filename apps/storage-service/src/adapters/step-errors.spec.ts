import { permanent, StepError } from '@app/platform';
import { IamError } from './iam.port';
import { objectStoreStepError, withObjectStore } from './step-errors';

function s3Error(code: string): Error {
  return Object.assign(new Error(`S3 said ${code} for key=AKIA-secret`), { code });
}

describe('objectStoreStepError', () => {
  it('passes a StepError through unchanged', () => {
    const original = permanent('STORAGE.BACKUP_MANIFEST_MISSING', 'manifest m not found');
    expect(objectStoreStepError('STORAGE.BACKUP_FAILED', 'x', original)).toBe(original);
  });

  it("keeps an admin API failure's code and retryability", () => {
    for (const retryable of [true, false]) {
      const error = objectStoreStepError(
        'STORAGE.QUOTA_FAILED',
        'quota of bucket b',
        new IamError('STORAGE.IAM_SET_BUCKET_QUOTA_FAILED', 'set_bucket_quota refused (HTTP 403)', retryable),
      );
      expect(error).toMatchObject({ code: 'STORAGE.IAM_SET_BUCKET_QUOTA_FAILED', retryable });
    }
  });

  it('makes transient S3 and network failures retryable under the given code, naming the S3 code', () => {
    for (const code of ['SlowDown', 'ServiceUnavailable', 'ECONNRESET']) {
      const error = objectStoreStepError(
        'STORAGE.BUCKET_CREATION_FAILED',
        'creating bucket b',
        s3Error(code),
      );
      expect(error).toMatchObject({
        code: 'STORAGE.BUCKET_CREATION_FAILED',
        retryable: true,
        message: `creating bucket b failed (${code})`,
      });
    }
  });

  it('makes a refusal no retry mends permanent, without the driver message', () => {
    const error = objectStoreStepError(
      'STORAGE.POLICY_FAILED',
      'bucket policy on b',
      s3Error('AccessDenied'),
    );
    expect(error).toMatchObject({
      code: 'STORAGE.POLICY_FAILED',
      retryable: false,
      message: 'bucket policy on b failed (AccessDenied)',
    });
  });

  it('treats a failure without any code (fetch refused, aborted) as transient', () => {
    const error = objectStoreStepError(
      'STORAGE.VERIFY_UNREACHABLE',
      'anonymous read',
      new TypeError('fetch failed'),
    );
    expect(error).toMatchObject({ code: 'STORAGE.VERIFY_UNREACHABLE', retryable: true });
  });
});

describe('withObjectStore', () => {
  it('returns the result, or throws the classified failure', async () => {
    await expect(withObjectStore('STORAGE.QUOTA_FAILED', 'x', () => Promise.resolve(42))).resolves.toBe(42);
    const failure = withObjectStore('STORAGE.QUOTA_FAILED', 'checking b', () =>
      Promise.reject(s3Error('NoSuchBucket')),
    );
    await expect(failure).rejects.toBeInstanceOf(StepError);
    await expect(failure).rejects.toMatchObject({ code: 'STORAGE.QUOTA_FAILED', retryable: false });
  });
});
