import { BUSINESS_SERVICES } from '@app/contracts';
import { objectViolations } from '@app/kube';
import { secretNameForPath } from '@app/secrets';
import { abcCorporation } from '../testing/fixtures';
import { databaseExternalSecret, externalSecrets, credentialsSecret } from './credentials';
import { DEFAULT_RENDER_OPTIONS } from './render-options';

const options = DEFAULT_RENDER_OPTIONS;
const tenant = abcCorporation('premium');

describe('spec 3.3 / 4.3 / 5.3 credentials', () => {
  it('auth-db-credentials is the spec ExternalSecret, keyed by the Secret the secret store writes for the path', () => {
    const key = secretNameForPath('/e-commerce/tenants/abc-corporation-7f3a9c/auth-db');
    expect(key).toMatch(/^e-commerce-tenants-abc-corporation-7f3a9c-auth-db-[0-9a-f]{10}$/);
    expect(databaseExternalSecret(tenant, 'auth', options).spec).toEqual({
      secretStoreRef: { name: 'tenant-secrets', kind: 'ClusterSecretStore' },
      target: { name: 'auth-db-credentials', creationPolicy: 'Owner' },
      data: [
        { secretKey: 'DB_HOST', remoteRef: { key, property: 'host' } },
        { secretKey: 'DB_PORT', remoteRef: { key, property: 'port' } },
        { secretKey: 'DB_DATABASE', remoteRef: { key, property: 'database' } },
        { secretKey: 'DB_USERNAME', remoteRef: { key, property: 'username' } },
        { secretKey: 'DB_PASSWORD', remoteRef: { key, property: 'password' } },
      ],
    });
  });

  it('one ExternalSecret per business service, plus minio, rabbitmq and the admin credentials', () => {
    const names = externalSecrets(tenant, options).map((object) => object.metadata.name);
    expect(names).toEqual([
      ...BUSINESS_SERVICES.map((s) => `${s}-db-credentials`),
      'minio-credentials',
      'rabbitmq-credentials',
      'auth-admin-credentials',
    ]);
  });

  it('minio and rabbitmq credentials extract the whole secret the storage/broker services stored (no value rendered)', () => {
    const byName = Object.fromEntries(externalSecrets(tenant, options).map((o) => [o.metadata.name, o]));
    expect(byName['minio-credentials'].spec).toEqual({
      secretStoreRef: { name: 'tenant-secrets', kind: 'ClusterSecretStore' },
      target: { name: 'minio-credentials', creationPolicy: 'Owner' },
      dataFrom: [{ extract: { key: secretNameForPath('/e-commerce/tenants/abc-corporation-7f3a9c/minio') } }],
    });
    expect((byName['rabbitmq-credentials'].spec as { dataFrom: unknown }).dataFrom).toEqual([
      { extract: { key: secretNameForPath('/e-commerce/tenants/abc-corporation-7f3a9c/rabbitmq') } },
    ]);
    expect((byName['auth-admin-credentials'].spec as { dataFrom: unknown }).dataFrom).toEqual([
      { extract: { key: secretNameForPath('/e-commerce/tenants/abc-corporation-7f3a9c/admin-initial') } },
    ]);
  });

  it('plain Secret mode renders spec 4.3 keys only, from the stored values', () => {
    const secret = credentialsSecret('minio-credentials', tenant, options, {
      MINIO_ENDPOINT: 'minio.e-commerce-shared.svc.cluster.local:9000',
      MINIO_ACCESS_KEY: 'abc-corporation-7f3a9c-app-user',
      MINIO_SECRET_KEY: 's3cr3t',
      MINIO_USE_SSL: 'false',
      MINIO_BUCKET_PRODUCTS: 'abc-corporation-7f3a9c-products',
      MINIO_BUCKET_SAV: 'abc-corporation-7f3a9c-sav',
      MINIO_BUCKET_NEWSLETTERS: 'abc-corporation-7f3a9c-newsletters',
      UNRELATED: 'x',
    });
    expect(Object.keys(secret.stringData as object)).toHaveLength(7);
    expect(secret.type).toBe('Opaque');
    expect(objectViolations(secret)).toEqual([]);
  });
});
