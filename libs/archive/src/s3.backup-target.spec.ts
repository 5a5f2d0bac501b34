import type * as Minio from 'minio';
import { S3BackupTarget } from './s3.backup-target';

// Construction checks only: no request is sent, so the client is never used.
const client = {} as Minio.Client;

describe('S3BackupTarget construction', () => {
  it('refuses a storage class its backups could not be read back from (verification reads every backup)', () => {
    for (const storageClass of ['GLACIER', 'DEEP_ARCHIVE'])
      expect(() => new S3BackupTarget(client, 'archive', 'us-east-1', storageClass)).toThrow(
        `storage class ${storageClass} does not read back at once`,
      );
    expect(new S3BackupTarget(client, 'archive', 'us-east-1', 'STANDARD').bucket).toBe('archive');
  });

  it("refuses an owner's transition that would come on or after the expiration", () => {
    expect(
      () =>
        new S3BackupTarget(client, 'archive', 'us-east-1', 'STANDARD', 30, {
          storageClass: 'GLACIER',
          days: 30,
        }),
    ).toThrow('invalid archive transition');
  });
});
