import { brokerSecretPath, COMMAND_CATALOG, storageSecretPath, type TenantProfile } from '@app/contracts';
import { ManifestError } from '@app/kube';
import { permanent, StepError } from '@app/platform';
import { InMemorySecretStore, SecretStoreError } from '@app/secrets';
import { runner } from '@app/testing';
import type { DeliveryDriver, DeliveryResult, TenantChange } from './adapters/delivery.port';
import { FIELD_MANAGER } from './adapters/field-manager';
import { createHandlers } from './commands';
import { DEFAULT_RENDER_OPTIONS } from '@app/plans';
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

describe('k8s-service handlers: a tenant image tag (params.imageTag)', () => {
  async function stored(): Promise<InMemorySecretStore> {
    const secrets = new InMemorySecretStore();
    await secrets.put(storageSecretPath(tenant.tenantId), minio);
    await secrets.put(brokerSecretPath(tenant.tenantId), rabbit);
    return secrets;
  }

  /** The image of every Deployment and the migration Job a command rendered, with their `version` labels. */
  function imagesOf(driver: RecordingDriver): { images: string[]; versions: unknown[] } {
    const objects = driver.changes.flatMap((change) => change.put.flatMap((file) => file.objects));
    const templates = objects
      .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
      .map(
        (o) =>
          (
            o.spec as {
              template: {
                metadata?: { labels?: Record<string, string> };
                spec: { containers: { image: string }[] };
              };
            }
          ).template,
      );
    return {
      images: templates.flatMap((template) => template.spec.containers.map((c) => c.image)),
      versions: templates.flatMap((template) => template.metadata?.labels?.version ?? []),
    };
  }

  it.each(['DeployWorkloads', 'ResumeWorkloads', 'SuspendWorkloads'] as const)(
    '%s renders every Deployment and the migration Job with the tenant tag instead of IMAGE_TAG',
    async (command) => {
      const driver = new RecordingDriver();
      await handlersWith(driver, await stored())(command, tenant, { imageTag: 'v2.0.1-rc.1' });
      const { images, versions } = imagesOf(driver);
      expect(images).toHaveLength(14);
      for (const image of images) expect(image).toMatch(/^ecommerce\/[a-z-]+:v2\.0\.1-rc\.1$/);
      expect(new Set(versions)).toEqual(new Set(['v2.0.1-rc.1']));
    },
  );

  it('renders the service IMAGE_TAG when the command carries none', async () => {
    const driver = new RecordingDriver();
    const outputs = await handlersWith(driver, await stored())('DeployWorkloads', tenant, {});
    for (const image of imagesOf(driver).images)
      expect(image.endsWith(`:${DEFAULT_RENDER_OPTIONS.imageTag}`)).toBe(true);
    expect(outputs).toMatchObject({ imageTag: DEFAULT_RENDER_OPTIONS.imageTag });
  });

  it.each([['v1/../../etc'], ['-latest'], ['a'.repeat(129)], ['v1 2'], [42]])(
    'refuses %j for good, naming it, before anything is delivered',
    async (imageTag) => {
      const driver = new RecordingDriver();
      // The bus may carry anything: the handler checks what the type promises.
      const params = { imageTag } as { imageTag?: string };
      const failure = await handlersWith(driver, await stored())('DeployWorkloads', tenant, params).catch(
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(StepError);
      expect(failure).toMatchObject({ code: 'K8S.INVALID_IMAGE_TAG', retryable: false });
      expect((failure as Error).message).toContain('is not an OCI image tag');
      expect((failure as Error).message).toContain(JSON.stringify(imageTag).slice(0, 20));
      expect(driver.changes).toEqual([]);
    },
  );
});
