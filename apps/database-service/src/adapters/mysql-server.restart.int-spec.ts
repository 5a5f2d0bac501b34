import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { PrivateMariadb } from '@app/testing';
import { createConnection, type Connection } from 'mysql2/promise';
import { StepError } from '@app/platform';
import { probeTableName } from './mysql-access-check';
import { parseMysqlUrl } from './mysql-connections';
import { MysqlServer } from './mysql-server';

/**
 * The MySQL adapter against a MariaDB server of the test's own that it shuts down and starts again (as a
 * failover or an upgrade does). Never the shared server: other suites use it at the same time.
 */
const maybe = PrivateMariadb.available() ? describe : describe.skip;
// eslint-disable-next-line no-console -- a skipped test must print why (house rule)
if (!PrivateMariadb.available()) console.warn('mysql-server restart suite skipped: no /usr/sbin/mariadbd');

maybe('MysqlServer across a MariaDB restart (private server)', () => {
  let server: PrivateMariadb;
  let mysql: MysqlServer;

  beforeAll(async () => {
    server = await PrivateMariadb.start();
    mysql = new MysqlServer(parseMysqlUrl(server.url()), { poolSize: 3 });
  });

  afterAll(async () => {
    await mysql?.close().catch(() => undefined);
    await server?.destroy();
  });

  async function admin(): Promise<Connection> {
    const connection = await createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
    connection.on('error', () => undefined);
    return connection;
  }

  it('keeps the process up with idle pool connections, fails as retryable while down, and works again', async () => {
    await Promise.all([1, 2, 3].map(() => mysql.run('SELECT SLEEP(0.1)', 'inspect', 'server')));
    await server.stop();
    try {
      const error = await mysql.ping().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(StepError);
      expect(error).toMatchObject({ code: 'DATABASE.UNAVAILABLE', retryable: true });
    } finally {
      await server.resume();
    }
    await expect(mysql.ping()).resolves.toBeUndefined();
  });

  it("keeps the process up when the server goes away while a verification's own connection is idle", async () => {
    const database = `svc_${randomBytes(4).toString('hex')}`;
    const username = `u_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const setup = await admin();
    await setup.query(`CREATE DATABASE ${database}`);
    await setup.query(`CREATE USER '${username}'@'%' IDENTIFIED BY '${password}'`);
    await setup.query(`GRANT SELECT, INSERT, CREATE ON ${database}.* TO '${username}'@'%'`);
    // Holding the probe table makes the verification wait on the admin pool with its own connection idle.
    const probe = probeTableName(username, database);
    await setup.query(`CREATE TABLE ${database}.${probe} (id INT)`);
    await setup.query(`LOCK TABLES ${database}.${probe} WRITE`);
    const verification = mysql.checkServiceAccess({ username, password, database }, 'mysql').then(
      () => undefined,
      (caught: unknown) => caught,
    );
    const watcher = await admin();
    const until = Date.now() + 10_000;
    for (;;) {
      const [rows] = await watcher.query(
        `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND = 'Sleep'`,
        [username],
      );
      const [waiting] = await watcher.query(
        `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table metadata lock'`,
      );
      if (Number((rows as { n: number }[])[0].n) === 1 && Number((waiting as { n: number }[])[0].n) >= 1)
        break;
      if (Date.now() > until) throw new Error('the verification did not reach its wait');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await watcher.end().catch(() => undefined);
    await server.stop();
    // The server closed the idle connection; unheard, its error would end the process.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.resume();
    const error = await verification;
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).not.toContain(password);
    await expect(mysql.ping()).resolves.toBeUndefined();
  });

  it("keeps the process up when the server goes away while a restore's own connection waits for the dump", async () => {
    const source = `src_${randomBytes(4).toString('hex')}`;
    const setup = await admin();
    await setup.query(`CREATE DATABASE ${source}`);
    await setup.query(`CREATE TABLE ${source}.items (id INT PRIMARY KEY, label VARCHAR(16))`);
    await setup.query(`INSERT INTO ${source}.items VALUES (1, 'one'), (2, 'two')`);
    await setup.end();
    const dump = await text(mysql.dump(source, '2025-07-15T10:00:00.000Z').stream);
    // The restore connects, then waits for the first line of a dump that is still on its way (from S3).
    const lines = new PassThrough();
    const restore = mysql.restoreAndCount(lines, `restore_${randomBytes(6).toString('hex')}`).then(
      (tables) => tables,
      (caught: unknown) => caught,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.stop();
    // The server closed the waiting connection; unheard, its error would end the process.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.resume();
    lines.end(dump);
    const outcome = await restore;
    expect(outcome).toBeInstanceOf(StepError);
    expect(outcome).toMatchObject({ retryable: true });
    // Retried, as the bus would, it succeeds.
    const again = new PassThrough();
    again.end(dump);
    await expect(mysql.restoreAndCount(again, `restore_${randomBytes(6).toString('hex')}`)).resolves.toEqual([
      { name: 'items', rows: 2 },
    ]);
  });
});

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}
