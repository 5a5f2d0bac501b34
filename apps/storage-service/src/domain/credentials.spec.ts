import { randomBytes } from 'crypto';
import { SECRET_KEY_LENGTH, secretFromRandom, storageSecretValues } from './credentials';

describe('storage credentials (spec 4.3)', () => {
  it('has exactly the spec keys', () => {
    expect(
      storageSecretValues(
        'abc-corporation-7f3a9c',
        'minio.e-commerce-shared.svc.cluster.local:9000',
        false,
        'k',
      ),
    ).toEqual({
      MINIO_ENDPOINT: 'minio.e-commerce-shared.svc.cluster.local:9000',
      MINIO_ACCESS_KEY: 'abc-corporation-7f3a9c-app-user',
      MINIO_SECRET_KEY: 'k',
      MINIO_USE_SSL: 'false',
      MINIO_BUCKET_PRODUCTS: 'abc-corporation-7f3a9c-products',
      MINIO_BUCKET_SAV: 'abc-corporation-7f3a9c-sav',
      MINIO_BUCKET_NEWSLETTERS: 'abc-corporation-7f3a9c-newsletters',
    });
  });

  it('generates 40 alphanumeric characters, skipping biased bytes', () => {
    const secret = secretFromRandom(randomBytes);
    expect(secret).toMatch(new RegExp(`^[A-Za-z0-9]{${SECRET_KEY_LENGTH}}$`));
    // Bytes >= 248 would bias the alphabet: they are dropped, so all-255 input never yields a character.
    let calls = 0;
    const mostlyHigh = (n: number) => (calls++ === 0 ? Buffer.alloc(n, 255) : Buffer.alloc(n, 0));
    expect(secretFromRandom(mostlyHigh)).toBe('A'.repeat(40));
  });
});
