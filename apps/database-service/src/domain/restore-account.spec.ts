import {
  createRestoreAccountSql,
  grantRestoreSql,
  restoreAccountName,
  RESTORE_PRIVILEGES,
} from './restore-account';

describe('restore account', () => {
  const scratch = 'restore_0123456789ab';
  const password = 'A'.repeat(32);

  it('is named after its scratch database and nothing else', () => {
    expect(restoreAccountName(scratch)).toBe(scratch);
    for (const bad of ['restore_xyz', 'abc_corporation_7f3a9c_auth_db', "restore_0123456789ab'@'%", ''])
      expect(() => restoreAccountName(bad)).toThrow(
        expect.objectContaining({ code: 'DATABASE.INVALID_IDENTIFIER' }),
      );
  });

  it('may reach the scratch database only, with what replaying a dump needs', () => {
    expect(RESTORE_PRIVILEGES).toEqual(['CREATE', 'DROP', 'INSERT', 'SELECT', 'REFERENCES']);
    // `_` escaped: the grant names exactly the scratch database, not `restoreX0123...`.
    expect(grantRestoreSql(scratch, scratch)).toBe(
      "GRANT CREATE, DROP, INSERT, SELECT, REFERENCES ON `restore\\_0123456789ab`.* TO 'restore_0123456789ab'@'%'",
    );
    expect(grantRestoreSql(scratch, scratch)).not.toMatch(/ALL|GRANT OPTION|\*\.\*/);
  });

  it('creates the account with one connection and refuses a password that is not a generated one', () => {
    expect(createRestoreAccountSql(scratch, password)).toBe(
      `CREATE USER 'restore_0123456789ab'@'%' IDENTIFIED BY '${password}' WITH MAX_USER_CONNECTIONS 1`,
    );
    let thrown: unknown;
    try {
      createRestoreAccountSql(scratch, "short' OR '1");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'DATABASE.INVALID_PASSWORD' });
    expect(String((thrown as Error).message)).not.toContain('short');
  });
});
