import { parseMysqlUrl } from './mysql-connections';

describe('parseMysqlUrl', () => {
  it('reads host, port, user and the URL-decoded password', () => {
    expect(parseMysqlUrl('mysql://admin:p%40ss@db.local:3307')).toEqual({
      host: 'db.local',
      port: 3307,
      user: 'admin',
      password: 'p@ss',
    });
  });

  it('rejects a malformed URL without echoing its password', () => {
    const password = 'Sup3rS3cretPw';
    let error: unknown;
    try {
      parseMysqlUrl(`mysql://root:${password}@db.local:notaport`);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeDefined();
    expect(JSON.stringify(error)).not.toContain(password);
    expect(JSON.stringify({ ...(error as Error) })).not.toContain(password);
    expect((error as Error).message).not.toContain(password);
    expect((error as Error).message).toContain('MYSQL_URL');
  });
});
