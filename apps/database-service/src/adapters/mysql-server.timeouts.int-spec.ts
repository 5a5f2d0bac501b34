import { randomBytes } from 'node:crypto';
import { StepError } from '@app/platform';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { dropDatabaseSql } from '@app/plans';
import { parseMysqlUrl } from './mysql-connections';
import { MysqlServer } from './mysql-server';

const MYSQL_URL = process.env.MYSQL_TEST_URL ?? 'mysql://root@127.0.0.1:3306';

/** The admin adapter's bounds against the local MariaDB: a lock held by another session, a statement that hangs. */
describe('MysqlServer bounded waits', () => {
  const database = `lockwait_test_${randomBytes(4).toString('hex')}`;
  let other: Connection;
  const servers: MysqlServer[] = [];

  function server(options: Record<string, number>): MysqlServer {
    // Loosely typed so that a copy of this suite still compiles against an adapter without these options.
    const admin = new MysqlServer(parseMysqlUrl(MYSQL_URL), { poolSize: 2, ...options });
    servers.push(admin);
    return admin;
  }

  beforeAll(async () => {
    const { host, port, user, password } = parseMysqlUrl(MYSQL_URL);
    other = await createConnection({ host, port, user, password });
    await other.query(`CREATE DATABASE ${database}`);
    await other.query(`CREATE TABLE ${database}.t (id INT PRIMARY KEY)`);
  });

  afterAll(async () => {
    await other.query('UNLOCK TABLES').catch(() => undefined);
    await other.query(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await other.end();
    await Promise.all(servers.map((admin) => admin.close().catch(() => undefined)));
  });

  it('fails a DROP DATABASE behind a table lock of another session within lock_wait_timeout, as retryable', async () => {
    const admin = server({ lockWaitTimeoutSeconds: 1 });
    await other.query(`LOCK TABLES ${database}.t WRITE`);
    try {
      const failure = await admin
        .run(dropDatabaseSql(database), 'drop', database)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StepError);
      expect(failure).toMatchObject({ retryable: true, code: 'DATABASE.LOCK_TIMEOUT' });
      expect((failure as Error).message).toContain('ER_LOCK_WAIT_TIMEOUT');
    } finally {
      await other.query('UNLOCK TABLES');
    }
    const [rows] = await other.query<RowDataPacket[]>('SHOW DATABASES LIKE ?', [database]);
    expect(rows).toHaveLength(1);
  }, 15_000);

  it('kills a statement that outlives the query timeout on the server, and keeps the pool usable', async () => {
    const admin = server({ queryTimeoutMs: 300 });
    const marker = `hang_${randomBytes(4).toString('hex')}`;
    const failure = await admin
      .run(`SELECT SLEEP(20) AS ${marker}`, 'inspect', 'server')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect(failure).toMatchObject({ retryable: true });
    // KILL QUERY is sent right after the client gives up; give the server a moment to act on it.
    let running: RowDataPacket[] = [];
    for (let i = 0; i < 20; i += 1) {
      [running] = await other.query<RowDataPacket[]>(
        "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE CONCAT('%', ?, '%') AND INFO NOT LIKE '%PROCESSLIST%'",
        [marker],
      );
      if (running.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(running).toEqual([]);
    await expect(admin.ping()).resolves.toBeUndefined();
  }, 15_000);
});
