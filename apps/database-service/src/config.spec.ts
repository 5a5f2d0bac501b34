import { ConfigError, loadConfig } from '@app/platform';
import { buildConfigSchema } from './config';

const load = (env: NodeJS.ProcessEnv) => loadConfig(buildConfigSchema(env), env);

function variablesOf(env: NodeJS.ProcessEnv): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => issue.variable).sort();
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('database-service configuration: where final backups go', () => {
  it('writes to the S3 archive bucket by default, with the storage-service variable names', () => {
    expect(load({})).toMatchObject({
      BACKUP_TARGET: 's3',
      S3_ENDPOINT: 'http://127.0.0.1:7480',
      S3_ADMIN_ACCESS_KEY: 'rgw-admin-access',
      STORAGE_ARCHIVE_BUCKET: 'ecommerce-tenant-archives',
      STORAGE_ARCHIVE_STORAGE_CLASS: 'STANDARD',
    });
    expect(
      load({ S3_ENDPOINT: 'https://minio.example:9000', STORAGE_ARCHIVE_STORAGE_CLASS: 'STANDARD_IA' }),
    ).toMatchObject({
      S3_ENDPOINT: 'https://minio.example:9000',
      STORAGE_ARCHIVE_STORAGE_CLASS: 'STANDARD_IA',
    });
  });

  it.each(['GLACIER', 'DEEP_ARCHIVE', 'GLACIER_DEEP_ARCHIVE'])(
    'refuses to start with STORAGE_ARCHIVE_STORAGE_CLASS=%s: its dumps could not be read back and restored',
    (storageClass) => {
      expect(variablesOf({ STORAGE_ARCHIVE_STORAGE_CLASS: storageClass })).toEqual([
        'STORAGE_ARCHIVE_STORAGE_CLASS',
      ]);
      expect(() => load({ STORAGE_ARCHIVE_STORAGE_CLASS: storageClass })).toThrow(
        /STORAGE_ARCHIVE_STORAGE_CLASS: .*cannot be read back without a restore.*STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, GLACIER_IR/,
      );
    },
  );

  it("never reads the archive retention or transition: the bucket's lifecycle rules belong to the storage-service", () => {
    // Set (even invalid) or not, the variables are not part of this service's configuration.
    for (const value of [undefined, '0', '-1']) {
      const config = load({
        STORAGE_ARCHIVE_RETENTION_DAYS: value,
        STORAGE_ARCHIVE_TRANSITION_CLASS: value,
        STORAGE_ARCHIVE_TRANSITION_DAYS: value,
      });
      expect(config).not.toHaveProperty('STORAGE_ARCHIVE_RETENTION_DAYS');
      expect(config).not.toHaveProperty('STORAGE_ARCHIVE_TRANSITION_CLASS');
      expect(config).not.toHaveProperty('STORAGE_ARCHIVE_TRANSITION_DAYS');
    }
  });

  it('writes to a directory only when BACKUP_TARGET=filesystem, reading no S3 variable', () => {
    const config = load({ BACKUP_TARGET: 'filesystem', BACKUP_DIR: '/srv/backups' });
    expect(config).toMatchObject({ BACKUP_TARGET: 'filesystem', BACKUP_DIR: '/srv/backups' });
    expect(config).not.toHaveProperty('S3_ENDPOINT');
  });

  it('fails at start-up in production when an S3 key is missing, naming it without echoing values', () => {
    const env = { NODE_ENV: 'production', S3_ADMIN_SECRET_KEY: 'a-secret-key-value' };
    expect(variablesOf(env)).toEqual(['S3_ADMIN_ACCESS_KEY']);
    expect(variablesOf({ NODE_ENV: 'production', BACKUP_TARGET: 's3' })).toEqual([
      'S3_ADMIN_ACCESS_KEY',
      'S3_ADMIN_SECRET_KEY',
    ]);
    expect(() => load({ ...env, S3_ADMIN_ACCESS_KEY: 'ab' })).toThrow(/S3_ADMIN_ACCESS_KEY/);
    expect(() => load({ ...env, S3_ADMIN_ACCESS_KEY: 'ab' })).not.toThrow(/a-secret-key-value/);
    expect(load({ ...env, S3_ADMIN_ACCESS_KEY: 'archive-writer' }).BACKUP_TARGET).toBe('s3');
    // A production directory target is an explicit choice and needs no S3 key.
    expect(load({ NODE_ENV: 'production', BACKUP_TARGET: 'filesystem' }).BACKUP_TARGET).toBe('filesystem');
  });

  it('names BACKUP_TARGET when it is neither s3 nor filesystem', () => {
    expect(variablesOf({ BACKUP_TARGET: 'tape' })).toEqual(['BACKUP_TARGET']);
    expect(variablesOf({ STORAGE_ARCHIVE_STORAGE_CLASS: 'TAPE' })).toEqual(['STORAGE_ARCHIVE_STORAGE_CLASS']);
  });
});
