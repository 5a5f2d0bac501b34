import { isPostgresUnavailable } from '@app/event-store';
import { Pool, type QueryResultRow } from 'pg';
import pino from 'pino';
import { SecretStoreError } from './errors';
import { SecretCipher } from './secret-cipher';
import type { SecretStore, SecretValues } from './secret-store.port';

export const SECRET_SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
/** Paths look like `/e-commerce/tenants/<tenantId>/<name>`; anything outside this alphabet is refused. */
export const SECRET_PATH_PATTERN = /^\/[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

export interface EncryptedPostgresSecretStoreOptions {
  /** Either a pool the caller owns, or a connection string (the store then owns and closes its pool). */
  pool?: Pool;
  connectionString?: string;
  /** Connections the store's own pool may hold (default 4); ignored with `pool`. */
  poolSize?: number;
  schema?: string;
  /** 32-byte AES key (see `parseSecretStoreKey`). */
  key: Buffer;
  /** Where lost connections are reported (a pino logger named `secret-store` by default). */
  logger?: SecretStoreLogger;
}

/** The part of a pino logger the store uses. */
export interface SecretStoreLogger {
  warn(details: object, message: string): void;
}

export function assertSecretPath(path: string): void {
  if (
    typeof path !== 'string' ||
    path.length > 512 ||
    !SECRET_PATH_PATTERN.test(path) ||
    path.includes('/../')
  ) {
    throw new SecretStoreError(
      'SECRETS.INVALID_PATH',
      `invalid secret path ${JSON.stringify(String(path).slice(0, 80))}`,
    );
  }
}

interface SecretRow {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/**
 * Secrets encrypted at rest in PostgreSQL (AES-256-GCM, see SecretCipher). The table lives in its own
 * schema, created when missing. Only ciphertext, IV and tag are stored; values never reach a log.
 */
export class EncryptedPostgresSecretStore implements SecretStore {
  readonly schema: string;
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly cipher: SecretCipher;
  private readonly table: string;
  private ready?: Promise<void>;

  constructor(options: EncryptedPostgresSecretStoreOptions) {
    this.schema = options.schema ?? 'secret_store';
    if (!SECRET_SCHEMA_PATTERN.test(this.schema)) {
      throw new SecretStoreError(
        'SECRETS.INVALID_SCHEMA',
        `invalid secret store schema ${JSON.stringify(this.schema)}`,
      );
    }
    this.cipher = new SecretCipher(options.key);
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else if (options.connectionString) {
      this.pool = new Pool({ connectionString: options.connectionString, max: options.poolSize ?? 4 });
      this.ownsPool = true;
      const logger =
        options.logger ?? pino({ name: 'secret-store', level: process.env['LOG_LEVEL'] ?? 'info' });
      // The server ending an idle connection (a restart, a failover) emits here; unheard, it would end the
      // process. The pool has already dropped that connection and opens a new one on the next query. Only the
      // code and message are logged: the error object carries the client and its connection string.
      this.pool.on('error', (error: Error & { code?: unknown }) =>
        logger.warn(
          { code: typeof error.code === 'string' ? error.code : undefined, err: error.message },
          'idle secret store connection lost',
        ),
      );
    } else {
      throw new SecretStoreError(
        'SECRETS.NO_CONNECTION',
        'EncryptedPostgresSecretStore needs a pool or a connection string',
      );
    }
    this.table = `"${this.schema}"."secrets"`;
  }

  /** Creates the schema and table when missing; called lazily by every operation, safe to call again. */
  init(): Promise<void> {
    this.ready ??= this.createTable().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async createTable(): Promise<void> {
    await this.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
    await this.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         path text PRIMARY KEY,
         iv bytea NOT NULL,
         tag bytea NOT NULL,
         ciphertext bytea NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         updated_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  }

  async put(path: string, values: SecretValues): Promise<void> {
    assertSecretPath(path);
    await this.init();
    const sealed = this.cipher.seal(path, values);
    await this.query(
      `INSERT INTO ${this.table} (path, iv, tag, ciphertext) VALUES ($1, $2, $3, $4)
       ON CONFLICT (path) DO UPDATE SET iv = EXCLUDED.iv, tag = EXCLUDED.tag, ciphertext = EXCLUDED.ciphertext,
         updated_at = now()`,
      [path, sealed.iv, sealed.tag, sealed.ciphertext],
    );
  }

  async putIfAbsent(path: string, values: SecretValues): Promise<SecretValues> {
    assertSecretPath(path);
    await this.init();
    const sealed = this.cipher.seal(path, values);
    // ON CONFLICT DO NOTHING makes concurrent writers race on the primary key: exactly one row wins and
    // everyone reads that row back, so no caller hands out a password that is not the stored one.
    await this.query(
      `INSERT INTO ${this.table} (path, iv, tag, ciphertext) VALUES ($1, $2, $3, $4) ON CONFLICT (path) DO NOTHING`,
      [path, sealed.iv, sealed.tag, sealed.ciphertext],
    );
    const stored = await this.get(path);
    if (!stored) {
      // Deleted between our insert and our read: a concurrent removal won, which the caller must see.
      throw new SecretStoreError(
        'SECRETS.CONCURRENT_DELETE',
        `secret at ${path} was deleted while being written`,
      );
    }
    return stored;
  }

  async get(path: string): Promise<SecretValues | undefined> {
    assertSecretPath(path);
    await this.init();
    const result = await this.query<SecretRow>(
      `SELECT iv, tag, ciphertext FROM ${this.table} WHERE path = $1`,
      [path],
    );
    const row = result.rows[0];
    return row ? this.cipher.open(path, row) : undefined;
  }

  async delete(path: string): Promise<void> {
    assertSecretPath(path);
    await this.init();
    await this.query(`DELETE FROM ${this.table} WHERE path = $1`, [path]);
  }

  async ping(): Promise<void> {
    await this.init();
    await this.query(`SELECT 1 FROM ${this.table} LIMIT 1`);
  }

  async list(prefix: string): Promise<string[]> {
    await this.init();
    // starts_with avoids LIKE, whose % and _ in a prefix would match more than asked.
    const result = await this.query<{ path: string }>(
      `SELECT path FROM ${this.table} WHERE starts_with(path, $1) ORDER BY path COLLATE "C"`,
      [prefix],
    );
    return result.rows.map((row) => row.path);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /**
   * A query whose server went away (restarting, refusing connections, connection cut) fails as
   * `SECRETS.UNAVAILABLE`, which callers retry; any other error is passed on as it is.
   */
  private async query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]) {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      if (!isPostgresUnavailable(error)) throw error;
      const code = (error as { code?: unknown }).code;
      throw new SecretStoreError(
        'SECRETS.UNAVAILABLE',
        `secret store unavailable${typeof code === 'string' ? ` (${code})` : ''}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
