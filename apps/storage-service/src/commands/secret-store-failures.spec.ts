import { storageSecretPath } from '@app/contracts';
import { StepError } from '@app/platform';
import { InMemorySecretStore, SecretStoreError } from '@app/secrets';
import { runner, testTenant } from '@app/testing';
import type { StorageHandlerDeps } from './deps';
import { createHandlers } from './index';

/** An adapter the secret-store failure must stop the handler before reaching. */
function untouchable<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      throw new Error(`${name}.${String(property)} used before the secret was read`);
    },
  });
}

/** A secret store whose every call fails with `error`. */
function failingSecrets(error: unknown): InMemorySecretStore {
  const store = new InMemorySecretStore();
  const fail = () => Promise.reject(error);
  return Object.assign(store, { get: fail, putIfAbsent: fail, delete: fail });
}

function run(error: unknown) {
  const deps: StorageHandlerDeps = {
    store: untouchable('store'),
    iam: untouchable('iam'),
    secrets: failingSecrets(error),
    archive: untouchable('archive'),
    tenantClient: () => untouchable('tenantClient'),
    endpoint: 'http://127.0.0.1:1',
    tenantEndpoint: 'minio:9000',
    tenantUseSsl: false,
    storageClass: 'STANDARD',
  };
  return runner(createHandlers(deps));
}

async function stepError(promise: Promise<unknown>): Promise<StepError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StepError) return error;
    throw error;
  }
  throw new Error('expected a StepError');
}

/** A PostgreSQL driver error: too_many_connections, a moment's overload that a retry outlives. */
const driverError = Object.assign(new Error('sorry, too many clients already (password=hunter2)'), {
  code: '53300',
});

describe('storage-service: secret-store failures, classified by @app/secrets', () => {
  const tenant = testTenant('Secret Co');
  const path = storageSecretPath(tenant.tenantId);

  it.each([
    ['ProvisionStorage', 'store', {}],
    ['BackupStorage', 'read', { backupId: 'b1' }],
  ] as const)(
    '%s: a driver failure is the retryable STORAGE.SECRET_STORE_UNAVAILABLE',
    async (type, action, params) => {
      const error = await stepError(run(driverError)(type, tenant, params));
      expect(error).toMatchObject({
        code: 'STORAGE.SECRET_STORE_UNAVAILABLE',
        retryable: true,
        message: `${action} ${path}: secret store unavailable`,
      });
    },
  );

  it('a value no configured key decrypts stays permanent with its own code', async () => {
    const undecryptable = new SecretStoreError('SECRETS.DECRYPTION_FAILED', `no key decrypts ${path}`);
    const error = await stepError(run(undecryptable)('BackupStorage', tenant, { backupId: 'b1' }));
    expect(error).toMatchObject({ code: 'SECRETS.DECRYPTION_FAILED', retryable: false });
  });
});
