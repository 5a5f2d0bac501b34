import { BackupObjectNotFoundError, BackupTargetError } from '@app/archive';
import { StepError } from '@app/platform';
import { SqlBuilderError } from '@app/plans';
import { classifyBackupError } from './backup-errors';

describe('classifyBackupError', () => {
  it('makes a missing object DATABASE.BACKUP_OBJECT_MISSING and keeps other target refusals, all permanent', () => {
    expect(
      classifyBackupError(new BackupObjectNotFoundError('t/databases/a.sql.gz'), 'read', 'k'),
    ).toMatchObject({
      code: 'DATABASE.BACKUP_OBJECT_MISSING',
      retryable: false,
    });
    expect(
      classifyBackupError(new BackupTargetError('BACKUP.INVALID_KEY', 'invalid backup key'), 'write', 'k'),
    ).toMatchObject({ code: 'BACKUP.INVALID_KEY', retryable: false });
  });

  it("passes a StepError through and keeps the app's typed refusals permanent", () => {
    const step = new StepError('DATABASE.UNAVAILABLE', 'server gone', { retryable: true });
    expect(classifyBackupError(step, 'read', 'k')).toBe(step);
    expect(
      classifyBackupError(new SqlBuilderError('DATABASE.BACKUP_MANIFEST_INVALID', 'not JSON'), 'read', 'k'),
    ).toMatchObject({ code: 'DATABASE.BACKUP_MANIFEST_INVALID', retryable: false });
  });

  it('makes any other failure a retryable read or write failure naming the key', () => {
    const cut = new Error('socket hang up');
    expect(classifyBackupError(cut, 'read', 't/databases/m.json')).toMatchObject({
      code: 'DATABASE.BACKUP_READ_FAILED',
      retryable: true,
      message: 'reading t/databases/m.json failed: socket hang up',
    });
    expect(classifyBackupError(cut, 'write', 't/databases/m.json')).toMatchObject({
      code: 'DATABASE.BACKUP_WRITE_FAILED',
      retryable: true,
      message: 'writing t/databases/m.json failed: socket hang up',
    });
  });
});
