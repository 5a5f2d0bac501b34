import {
  account,
  createDatabaseSql,
  createUserSql,
  dropDatabaseSql,
  dropUserSql,
  grantDatabasePattern,
  grantsMatch,
  grantSql,
  quoteIdentifier,
  setUserPasswordSql,
} from './sql';

const PASSWORD = 'Abcdefghijklmnopqrstuvwxyz012345';

describe('SQL builders', () => {
  it('builds the spec 3.1 statements', () => {
    expect(createDatabaseSql('abc_corporation_7f3a9c_auth_db')).toBe(
      'CREATE DATABASE IF NOT EXISTS `abc_corporation_7f3a9c_auth_db` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci',
    );
    expect(grantSql('abc_corporation_7f3a9c_auth_user', 'abc_corporation_7f3a9c_auth_db')).toBe(
      "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON `abc\\_corporation\\_7f3a9c\\_auth\\_db`.* TO 'abc_corporation_7f3a9c_auth_user'@'%'",
    );
    expect(createUserSql('u_1', PASSWORD)).toBe(
      `CREATE USER IF NOT EXISTS 'u_1'@'%' IDENTIFIED BY '${PASSWORD}'`,
    );
    expect(setUserPasswordSql('u_1', PASSWORD)).toBe(`ALTER USER 'u_1'@'%' IDENTIFIED BY '${PASSWORD}'`);
    expect(dropUserSql('u_1')).toBe("DROP USER IF EXISTS 'u_1'@'%'");
    expect(dropDatabaseSql('d_1')).toBe('DROP DATABASE IF EXISTS `d_1`');
  });

  it('escapes grant wildcards so a grant names exactly one database', () => {
    expect(grantDatabasePattern('a_b_db')).toBe('a\\_b\\_db');
  });

  it.each([
    'x`; DROP DATABASE mysql; --',
    "x'; DROP USER root; --",
    'abc_corporation_7f3a9c_auth_db` .* TO `evil',
    'UPPER_db',
    '',
    'a'.repeat(65),
    'a\u0000b',
  ])('refuses hostile database name %p before producing SQL', (name) => {
    expect(() => createDatabaseSql(name)).toThrow(
      expect.objectContaining({ code: 'DATABASE.INVALID_IDENTIFIER' }),
    );
    expect(() => dropDatabaseSql(name)).toThrow(
      expect.objectContaining({ code: 'DATABASE.INVALID_IDENTIFIER' }),
    );
    expect(() => grantSql('u', name)).toThrow(
      expect.objectContaining({ code: 'DATABASE.INVALID_IDENTIFIER' }),
    );
  });

  it.each(["x'@'%' IDENTIFIED BY 'p'; --", 'x`; DROP DATABASE mysql; --', 'user name'])(
    'refuses hostile user name %p',
    (name) => {
      expect(() => account(name)).toThrow(expect.objectContaining({ code: 'DATABASE.INVALID_IDENTIFIER' }));
      expect(() => createUserSql(name, PASSWORD)).toThrow(/invalid user name/);
    },
  );

  it('refuses user names over 32 characters', () => {
    expect(() => account('a'.repeat(33))).toThrow(
      expect.objectContaining({ code: 'DATABASE.USER_NAME_TOO_LONG' }),
    );
  });

  it('refuses passwords outside the generated alphabet without echoing them', () => {
    let message = '';
    try {
      createUserSql('u', "short'; DROP USER root; -- padding padding");
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/DATABASE|password/);
    expect(message).not.toContain('DROP USER');
  });

  it('doubles backticks when quoting', () => {
    expect(quoteIdentifier('a`b')).toBe('`a``b`');
  });
});

describe('grantsMatch', () => {
  const usage = "GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*ABC'";
  it('accepts exactly the spec privileges on the escaped database', () => {
    expect(
      grantsMatch(
        [usage, 'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER ON `a\\_db`.* TO `u`@`%`'],
        'a_db',
      ),
    ).toBe(true);
  });
  it('rejects missing, extra, wildcard-unescaped and global privileges', () => {
    expect(grantsMatch([usage], 'a_db')).toBe(false);
    expect(
      grantsMatch(
        [usage, 'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX ON `a\\_db`.* TO `u`@`%`'],
        'a_db',
      ),
    ).toBe(false);
    expect(
      grantsMatch(
        [usage, 'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER, DROP ON `a\\_db`.* TO `u`@`%`'],
        'a_db',
      ),
    ).toBe(false);
    expect(
      grantsMatch(
        [usage, 'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER ON `a_db`.* TO `u`@`%`'],
        'a_db',
      ),
    ).toBe(false);
    expect(
      grantsMatch(
        [
          'GRANT SELECT ON *.* TO `u`@`%`',
          'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER ON `a\\_db`.* TO `u`@`%`',
        ],
        'a_db',
      ),
    ).toBe(false);
  });
});
