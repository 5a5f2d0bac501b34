import { StepError } from '@app/platform';
import { SecretStoreError } from './errors';
import { secretStoreStepError, withSecretStore } from './step-errors';

describe('secretStoreStepError', () => {
  it('keeps a typed failure no retry can mend permanent, with its code', () => {
    for (const code of ['SECRETS.DECRYPTION_FAILED', 'SECRETS.INVALID_PATH', 'SECRETS.PATH_MISMATCH']) {
      const error = secretStoreStepError(
        new SecretStoreError(code, 'no key decrypts it'),
        'BROKER',
        'read',
        'a/b',
      );
      expect(error).toMatchObject({ code, retryable: false, message: 'read a/b: no key decrypts it' });
    }
  });

  it('keeps a typed transient failure retryable, with its code', () => {
    const error = secretStoreStepError(
      new SecretStoreError('SECRETS.UNAVAILABLE', 'pool exhausted'),
      'DB',
      'store',
      'p',
    );
    expect(error).toMatchObject({ code: 'SECRETS.UNAVAILABLE', retryable: true });
  });

  it("makes an untyped failure the domain's retryable SECRET_STORE_UNAVAILABLE without its message", () => {
    const error = secretStoreStepError(
      new Error('connect ECONNREFUSED password=hunter2'),
      'STORAGE',
      'delete',
      'p',
    );
    expect(error).toMatchObject({
      code: 'STORAGE.SECRET_STORE_UNAVAILABLE',
      retryable: true,
      message: 'delete p: secret store unavailable',
    });
  });

  it('passes a StepError through and wraps a call', async () => {
    const step = new StepError('X.Y', 'as thrown', { retryable: false });
    expect(secretStoreStepError(step, 'K8S', 'read', 'p')).toBe(step);
    await expect(withSecretStore('K8S', 'read', 'p', () => Promise.resolve(7))).resolves.toBe(7);
    await expect(
      withSecretStore('K8S', 'read', 'p', () => Promise.reject(new Error('boom'))),
    ).rejects.toMatchObject({
      code: 'K8S.SECRET_STORE_UNAVAILABLE',
    });
  });
});
