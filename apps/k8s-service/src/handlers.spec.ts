import { brokerSecretPath, COMMAND_CATALOG, storageSecretPath, type TenantProfile } from '@app/contracts';
import { ManifestError } from '@app/kube';
import { permanent, StepError } from '@app/platform';
import { InMemorySecretStore, SecretStoreError } from '@app/secrets';
import { runner } from '@app/testing';
import type { DeliveryDriver, DeliveryResult, TenantChange } from './adapters/delivery.port';
import { FIELD_MANAGER } from './adapters/field-manager';
import { createHandlers } from './commands';
import { DEFAULT_RENDER_OPTIONS } from './domain/render-options';
import { abcCorporation } from './testing/fixtures';

/** Direct delivery that records each change instead of applying it, or fails with `failure`. */
class RecordingDriver implements DeliveryDriver {
  readonly mode = 'direct' as const;
  readonly changes: TenantChange[] = [];
  failure?: unknown;

  async applyTenant(change: TenantChange): Promise<DeliveryResult> {
    if (this.failure !== undefined) throw this.failure;
    this.changes.push(change);
    const names = change.put.flatMap((file) => file.objects.map((o) => `${o.kind}/${o.metadata.name}`));
    return { mode: this.mode, changed: names.length > 0, applied: names, removed: [] };
  }

  async removeTenant(): Promise<DeliveryResult> {
    return { mode: this.mode, changed: false, applied: [], removed: [] };
  }

  async health(): Promise<boolean> {
    return true;
  }
}

const tenant: TenantProfile = abcCorporation('standard');
const minio = {
  MINIO_ENDPOINT: 'minio.local:9000',
  MINIO_ACCESS_KEY: 'app-user',
  MINIO_SECRET_KEY: 'minio-Secret-Value',
};
const rabbit = {
  RABBITMQ_HOST: 'rabbitmq.local',
  RABBITMQ_USER: 'u',
  RABBITMQ_PASSWORD: 'rabbit-Secret-Value',
};

function handlersWith(driver: DeliveryDriver, secrets = new InMemorySecretStore()) {
  return runner(
    createHandlers({
      driver,
      options: { ...DEFAULT_RENDER_OPTIONS, managedBy: FIELD_MANAGER, credentialsMode: 'secret' },
      secrets,
      probe: () => Promise.reject(new Error('not called')),
      verify: { timeoutMs: 0, intervalMs: 0, trustCommit: false },
    }),
  );
}

describe('k8s-service handlers', () => {
  it('handle every command of the k8s service, and only those', () => {
    const owned = Object.entries(COMMAND_CATALOG)
      .filter(([, entry]) => entry.service === 'k8s')
      .map(([type]) => type);
    expect(Object.keys(createHandlers({} as never)).sort()).toEqual(owned.sort());
  });
});

describe('k8s-service handlers: plain-Secret credentials (direct delivery)', () => {
  async function storedSecrets(): Promise<InMemorySecretStore> {
    const secrets = new InMemorySecretStore();
    await secrets.put(storageSecretPath(tenant.tenantId), minio);
    await secrets.put(brokerSecretPath(tenant.tenantId), rabbit);
    return secrets;
  }

  it('apply the stored credentials as plain Secrets in place of the two extracted ExternalSecrets', async () => {
    const driver = new RecordingDriver();
    await handlersWith(driver, await storedSecrets())('DeployWorkloads', tenant, {});
    const objects = driver.changes[0].put.flatMap((file) => file.objects);
    const named = (kind: string, name: string) =>
      objects.find((o) => o.kind === kind && o.metadata.name === name);
    expect(named('Secret', 'minio-credentials')?.stringData).toEqual(minio);
    expect(named('Secret', 'rabbitmq-credentials')?.stringData).toEqual(rabbit);
    expect(named('ExternalSecret', 'minio-credentials')).toBeUndefined();
    expect(named('ExternalSecret', 'rabbitmq-credentials')).toBeUndefined();
    expect(named('ExternalSecret', 'auth-db-credentials')).toBeDefined();
  });

  it('retry while the storage or broker credentials are not stored yet', async () => {
    await expect(handlersWith(new RecordingDriver())('DeployWorkloads', tenant, {})).rejects.toMatchObject({
      code: 'K8S.CREDENTIALS_MISSING',
      retryable: true,
    });
  });

  async function deployReading(failure: Error): Promise<unknown> {
    const secrets = await storedSecrets();
    secrets.get = () => Promise.reject(failure);
    return handlersWith(new RecordingDriver(), secrets)('DeployWorkloads', tenant, {}).catch(
      (error: unknown) => error,
    );
  }

  it.each(['SECRETS.DECRYPTION_FAILED', 'SECRETS.INVALID_PATH', 'SECRETS.PATH_MISMATCH'])(
    'fail permanently on %s',
    async (code) => {
      expect(await deployReading(new SecretStoreError(code, 'refused'))).toMatchObject({
        code,
        retryable: false,
      });
    },
  );

  it('retry when the store is unreachable, naming the path only', async () => {
    expect(await deployReading(new Error('connect ECONNREFUSED 10.0.0.1:5432'))).toMatchObject({
      code: 'K8S.SECRET_STORE_UNAVAILABLE',
      retryable: true,
      message: expect.stringMatching(
        /^read \/e-commerce\/tenants\/abc-corporation-7f3a9c\/(minio|rabbitmq): secret store unavailable$/,
      ),
    });
  });
});

describe('k8s-service handlers: delivery failures', () => {
  async function provisionFailing(failure: unknown): Promise<unknown> {
    const driver = new RecordingDriver();
    driver.failure = failure;
    return handlersWith(driver)('ProvisionNamespace', tenant, {}).catch((error: unknown) => error);
  }

  it('keep a driver StepError as it is', async () => {
    const original = permanent('K8S.UNSAFE_PATH', 'refusing to write path');
    expect(await provisionFailing(original)).toBe(original);
  });

  it('fail permanently on an object that fails its schema, with its code', async () => {
    const failure = await provisionFailing(
      new ManifestError('K8S.INVALID_MANIFEST', 'Namespace Bad_Name is invalid', ['DNS-1123 label']),
    );
    expect(failure).toBeInstanceOf(StepError);
    expect(failure).toMatchObject({
      code: 'K8S.INVALID_MANIFEST',
      retryable: false,
      message: 'Namespace Bad_Name is invalid',
    });
  });

  it('retry anything untyped as K8S.UNEXPECTED, with the first line of its message only', async () => {
    expect(await provisionFailing(new Error('ENOSPC: no space left\n    at writeFile'))).toMatchObject({
      code: 'K8S.UNEXPECTED',
      retryable: true,
      message: 'ENOSPC: no space left',
    });
  });
});
