import { StepError } from '@app/platform';
import { classifyMysqlError } from './mysql-errors';
import { SqlBuilderError } from '@app/plans';

function mysqlError(code: string, errno?: number, sqlMessage?: string) {
  return Object.assign(new Error(sqlMessage ?? code), {
    code,
    errno,
    sqlMessage,
    sql: "IDENTIFIED BY 'hunter2'",
  });
}

describe('classifyMysqlError', () => {
  it.each([
    [mysqlError('ECONNREFUSED'), 'DATABASE.UNAVAILABLE'],
    [mysqlError('ETIMEDOUT'), 'DATABASE.UNAVAILABLE'],
    [mysqlError('PROTOCOL_CONNECTION_LOST'), 'DATABASE.UNAVAILABLE'],
    [mysqlError('ER_LOCK_DEADLOCK', 1213), 'DATABASE.LOCK_TIMEOUT'],
    [mysqlError('ER_LOCK_WAIT_TIMEOUT', 1205), 'DATABASE.LOCK_TIMEOUT'],
  ])('connection trouble is retryable', (error, code) => {
    const result = classifyMysqlError(error, 'create-database', 'db');
    expect(result).toMatchObject({ code, retryable: true });
  });

  it('access denied on a grant is DATABASE.GRANT_REFUSED, permanent', () => {
    const result = classifyMysqlError(
      mysqlError('ER_DBACCESS_DENIED_ERROR', 1044, 'Access denied'),
      'grant',
      'u',
    );
    expect(result).toMatchObject({ code: 'DATABASE.GRANT_REFUSED', retryable: false });
  });

  it('admin login refused is DATABASE.ADMIN_ACCESS_DENIED', () => {
    expect(classifyMysqlError(mysqlError('ER_ACCESS_DENIED_ERROR', 1045), 'connect', 'server').code).toBe(
      'DATABASE.ADMIN_ACCESS_DENIED',
    );
  });

  it('syntax errors are permanent and never quote a sensitive statement', () => {
    const result = classifyMysqlError(
      mysqlError('ER_PARSE_ERROR', 1064, "near 'hunter2' at line 1"),
      'create-user',
      'u',
      true,
    );
    expect(result).toMatchObject({ code: 'DATABASE.SQL_SYNTAX', retryable: false });
    expect(result.message).not.toContain('hunter2');
    expect(result.cause).toBeUndefined();
  });

  it('keeps StepErrors and maps builder errors to permanent', () => {
    const step = new StepError('X.Y', 'm', { retryable: true });
    expect(classifyMysqlError(step, 'drop', 'x')).toBe(step);
    expect(
      classifyMysqlError(new SqlBuilderError('DATABASE.INVALID_IDENTIFIER', 'bad'), 'drop', 'x'),
    ).toMatchObject({
      code: 'DATABASE.INVALID_IDENTIFIER',
      retryable: false,
    });
  });
});
