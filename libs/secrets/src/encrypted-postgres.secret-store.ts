import { isPostgresUnavailable, postgresTimeouts } from '@app/event-store';
import { Pool, type QueryResultRow } from 'pg';
import pino from 'pino';
import { SecretStoreError } from './errors';
import { LEGACY_KEY_ID, SecretCipher, type SealedSecret, type SecretKeyring } from './secret-cipher';
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
  /** Bound on opening a connection of the store's own pool (default 10 s); ignored with `pool`. */
  connectTimeoutMs?: number;
  /** Bound on one statement of the store's own pool (default 30 s); ignored with `pool`. */
  statementTimeoutMs?: number;
  schema?: string;
  /** Every key it may read with and the one it writes with (see `parseSecretStoreKeys`); or `key`. */
  keys?: SecretKeyring;
  /** One 32-byte AES key (see `parseSecretStoreKey`): a keyring holding only the `legacy` key. */
  key?: Buffer;
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

type SecretRow = SealedSecret & { key_id: string | null };

const sealedOf = (row: SecretRow): SealedSecret => ({
  keyId: row.key_id,
  iv: row.iv,
  tag: row.tag,
  ciphertext: row.ciphertext,
});

export interface KeyRotationProgress {
  /** Rows handled so far (re-encrypted, found already moved, gone, or failed). */
  done: number;
  /** Rows not under the write key when the rotation started (raised if writers with an older key add more). */
  total: number;
}

export interface KeyRotationOptions {
  /** Rows read per query (default 100); each row is then re-encrypted on its own. */
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (progress: KeyRotationProgress) => void;
  /** Stops between rows: the rotation is resumable, running it again continues where it stopped. */
  signal?: AbortSignal;
}

export interface KeyRotationReport {
  keyId: string;
  total: number;
  /** Re-encrypted under `keyId` by this run. */
  rotated: number;
  /** Rewritten by a writer under `keyId` meanwhile (nothing left to do). */
  rewritten: number;
  /** Deleted meanwhile. */
  deleted: number;
  /** Rows left as they were: their path and the error code (never a value). */
  failed: { path: string; code: string }[];
  /** Rows still under another key afterwards, by key id (`legacy` for format 0); empty when every row moved. */
  remaining: Record<string, number>;
  interrupted: boolean;
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
    if (!options.keys && !options.key) {
      throw new SecretStoreError('SECRETS.KEY_MISSING', 'EncryptedPostgresSecretStore needs keys or a key');
    }
    this.cipher = new SecretCipher(options.keys ?? options.key!);
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else if (options.connectionString) {
      this.pool = new Pool({
        connectionString: options.connectionString,
        max: options.poolSize ?? 4,
        ...postgresTimeouts(options),
      });
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

  /** The id new writes are sealed under. */
  get writeKeyId(): string {
    return this.cipher.writeKeyId;
  }

  /** Every key id it reads with. */
  get keyIds(): string[] {
    return this.cipher.keyIds;
  }

  private async createTable(): Promise<void> {
    await this.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
    // key_id NULL is format 0 (see SecretCipher): rows written before key ids, and those the legacy key writes.
    await this.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (
         path text PRIMARY KEY,
         key_id text,
         iv bytea NOT NULL,
         tag bytea NOT NULL,
         ciphertext bytea NOT NULL,
         created_at timestamptz NOT NULL DEFAULT now(),
         updated_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    // A table from before key ids gains the column; checked first, as ALTER TABLE locks the table even when
    // there is nothing to add.
    const column = await this.query(
      `SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'secrets' AND column_name = 'key_id'`,
      [this.schema],
    );
    if (column.rowCount === 0)
      await this.query(`ALTER TABLE ${this.table} ADD COLUMN IF NOT EXISTS key_id text`);
  }

  async put(path: string, values: SecretValues): Promise<void> {
    assertSecretPath(path);
    await this.init();
    const sealed = this.cipher.seal(path, values);
    await this.query(
      `INSERT INTO ${this.table} (path, key_id, iv, tag, ciphertext) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (path) DO UPDATE SET key_id = EXCLUDED.key_id, iv = EXCLUDED.iv, tag = EXCLUDED.tag,
         ciphertext = EXCLUDED.ciphertext, updated_at = now()`,
      [path, sealed.keyId, sealed.iv, sealed.tag, sealed.ciphertext],
    );
  }

  async putIfAbsent(path: string, values: SecretValues): Promise<SecretValues> {
    assertSecretPath(path);
    await this.init();
    const sealed = this.cipher.seal(path, values);
    // ON CONFLICT DO NOTHING makes concurrent writers race on the primary key: exactly one row wins and
    // everyone reads that row back, so no caller hands out a password that is not the stored one.
    await this.query(
      `INSERT INTO ${this.table} (path, key_id, iv, tag, ciphertext) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (path) DO NOTHING`,
      [path, sealed.keyId, sealed.iv, sealed.tag, sealed.ciphertext],
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
    const row = await this.readRow(path);
    return row ? this.cipher.open(path, sealedOf(row)) : undefined;
  }

  private async readRow(path: string): Promise<SecretRow | undefined> {
    const result = await this.query<SecretRow>(
      `SELECT key_id, iv, tag, ciphertext FROM ${this.table} WHERE path = $1`,
      [path],
    );
    return result.rows[0];
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

  /**
   * Re-encrypts every row not under the write key with it, by path order, one row per statement. Each update
   * applies only if the row still holds the ciphertext that was decrypted (same key id and IV, and the IV is
   * fresh on every write), so a concurrent writer is never overwritten with the older value: the row is read
   * again instead. Idempotent and resumable: rows already under the write key are never touched. A row that
   * cannot be opened (unknown key id, failed authentication) is reported by path and left as it is.
   */
  async rotateKey(options: KeyRotationOptions = {}): Promise<KeyRotationReport> {
    await this.init();
    const keyId = this.cipher.writeKeyId;
    const batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new SecretStoreError('SECRETS.BAD_ARGUMENT', 'batch size must be a positive integer');
    }
    // Format 0 rows (key_id NULL) belong to the legacy key: `IS DISTINCT FROM` with NULL standing for it.
    const writesFormat0 = this.cipher.isCurrent(null);
    const stale = writesFormat0 ? 'key_id IS NOT NULL' : 'key_id IS DISTINCT FROM $1';
    const staleArgs = writesFormat0 ? [] : [keyId];
    const counted = await this.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.table} WHERE ${stale}`,
      staleArgs,
    );
    const report: KeyRotationReport = {
      keyId,
      total: Number(counted.rows[0].n),
      rotated: 0,
      rewritten: 0,
      deleted: 0,
      failed: [],
      remaining: {},
      interrupted: false,
    };
    let done = 0;
    let after = '';
    batches: for (;;) {
      const cursor = `$${staleArgs.length + 1}`;
      const page = await this.query<SecretRow & { path: string }>(
        `SELECT path, key_id, iv, tag, ciphertext FROM ${this.table}
         WHERE ${stale} AND path COLLATE "C" > ${cursor} ORDER BY path COLLATE "C" LIMIT ${batchSize}`,
        [...staleArgs, after],
      );
      for (const row of page.rows) {
        if (options.signal?.aborted) {
          report.interrupted = true;
          break batches;
        }
        const outcome = await this.rotateRow(row.path, row);
        if (typeof outcome === 'string') report[outcome] += 1;
        else report.failed.push({ path: row.path, code: outcome.failed });
        done += 1;
      }
      report.total = Math.max(report.total, done);
      options.onProgress?.({ done, total: report.total });
      if (page.rows.length < batchSize) break;
      after = page.rows[page.rows.length - 1].path;
    }
    const left = await this.query<{ key_id: string | null; n: string }>(
      `SELECT key_id, count(*) AS n FROM ${this.table} WHERE ${stale} GROUP BY key_id`,
      staleArgs,
    );
    for (const row of left.rows) report.remaining[row.key_id ?? LEGACY_KEY_ID] = Number(row.n);
    return report;
  }

  /** Up to three attempts: each lost race means a writer changed the row after it was read. */
  private async rotateRow(
    path: string,
    first: SecretRow,
  ): Promise<'rotated' | 'rewritten' | 'deleted' | { failed: string }> {
    let row: SecretRow | undefined = first;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      if (!row) return 'deleted';
      if (this.cipher.isCurrent(row.key_id)) return 'rewritten';
      let values: SecretValues;
      try {
        values = this.cipher.open(path, sealedOf(row));
      } catch (error) {
        if (!(error instanceof SecretStoreError)) throw error;
        return { failed: error.code };
      }
      const sealed = this.cipher.seal(path, values);
      const updated = await this.query(
        `UPDATE ${this.table} SET key_id = $2, iv = $3, tag = $4, ciphertext = $5
         WHERE path = $1 AND iv = $6 AND key_id IS NOT DISTINCT FROM $7`,
        [path, sealed.keyId, sealed.iv, sealed.tag, sealed.ciphertext, row.iv, row.key_id],
      );
      if (updated.rowCount === 1) return 'rotated';
      row = await this.readRow(path);
    }
    return { failed: 'SECRETS.CONCURRENT_WRITES' };
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
