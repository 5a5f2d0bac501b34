import { MysqlConnections, parseMysqlUrl, PREPARED_STATEMENT_CACHE } from './mysql-connections';

const MYSQL_URL = process.env.MYSQL_TEST_URL ?? 'mysql://root@127.0.0.1:3306';

interface WithConfig {
  config?: { maxPreparedStatements?: number; connectionConfig?: { maxPreparedStatements?: number } };
  connection?: WithConfig;
}

/** mysql2's per-connection cache size, wherever the wrapper keeps the underlying connection's config. */
function cacheSize(handle: unknown): number | undefined {
  const h = handle as WithConfig;
  return (
    h.connection?.config?.maxPreparedStatements ??
    h.config?.connectionConfig?.maxPreparedStatements ??
    h.config?.maxPreparedStatements
  );
}

/**
 * Every connection the database-service opens (its pool, a dump's dedicated session, a service account's
 * login under verification) has a small prepared-statement cache: mysql2 allocates the cache at full size with
 * each connection, and the default (16,000 entries) cost half a millisecond and half a megabyte per login, on
 * every verification of every tenant.
 */
describe('MysqlConnections: every connection with a small statement cache (real MariaDB)', () => {
  const endpoint = parseMysqlUrl(MYSQL_URL);
  const connections = new MysqlConnections(endpoint, { poolSize: 1 });

  afterAll(() => connections.end());

  it('opens pooled, dedicated and service-account connections that work, each with the small cache', async () => {
    await connections.query('SELECT 1');
    const pooled = await (
      connections as unknown as { pool: { getConnection(): Promise<WithConfig & { release(): void }> } }
    ).pool.getConnection();
    expect(cacheSize(pooled)).toBe(PREPARED_STATEMENT_CACHE);
    pooled.release();

    const dedicated = connections.dedicated({});
    expect(cacheSize(dedicated)).toBe(PREPARED_STATEMENT_CACHE);
    dedicated.destroy();

    const login = await connections.connectAs(endpoint.user, endpoint.password ?? '');
    try {
      expect(cacheSize(login)).toBe(PREPARED_STATEMENT_CACHE);
      const [rows] = await login.query('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await login.end();
    }
  });
});
