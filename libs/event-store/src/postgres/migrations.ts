import type { Pool } from 'pg';
import { InvalidEventStoreArgumentError } from '../errors';

/** Schema names reach SQL as identifiers, so only plain lower-case names are accepted (and then quoted). */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidEventStoreArgumentError(`Invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Channel on which appends NOTIFY; one per schema so test schemas do not wake each other. */
export function notifyChannel(schema: string): string {
  return `${schema}_events`;
}

export interface Migration {
  version: number;
  name: string;
  sql: (schema: string) => string;
}

/**
 * Versioned, append-only list: never edit a released migration, add a new one.
 *
 * Ordering: `position` comes from a sequence, which is not transactional, so positions become visible out of
 * order under concurrent writers. Each event also stores the writing transaction's `pg_current_xact_id()`;
 * readers only read rows whose transaction id is below the snapshot's xmin (every transaction below it has
 * finished) and order by `(transaction_id, position)`, which is then a stable, gap-free order.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'streams_and_events',
    sql: (schema) => {
      const s = quoteIdent(schema);
      const channel = notifyChannel(schema).replace(/'/g, "''");
      return `
CREATE TABLE ${s}.streams (
  stream_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  category text NOT NULL,
  -- -1: no event yet (a row may exist only to hold stream metadata)
  revision bigint NOT NULL DEFAULT -1,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE ${s}.events (
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  position bigint GENERATED ALWAYS AS IDENTITY,
  stream_id bigint NOT NULL REFERENCES ${s}.streams (stream_id),
  stream_name text NOT NULL,
  category text NOT NULL,
  revision bigint NOT NULL,
  event_id uuid NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (transaction_id, position),
  UNIQUE (stream_id, revision),
  UNIQUE (stream_id, event_id)
);

-- No separate index per category: the tenant category dominates, so category reads walk the global order
-- index and filter, which keeps appends cheaper (one index fewer to maintain).

-- One round trip per append: the function runs as one statement, hence one short transaction.
CREATE FUNCTION ${s}.append_events(
  p_stream text, p_category text, p_mode text, p_expected bigint,
  p_ids uuid[], p_types text[], p_data jsonb[], p_metadata jsonb[]
) RETURNS TABLE (outcome text, stream_revision bigint, last_xid xid8, last_position bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_stream_id bigint;
  v_revision bigint := -1;
  v_count int := coalesce(array_length(p_ids, 1), 0);
  v_inserted int;
  v_last_revision bigint;
  v_xid xid8;
  v_position bigint;
BEGIN
  -- Serialise writers of one stream BEFORE this transaction gets its xid (advisory locks assign none; a row
  -- lock may assign it before waiting). Then a later writer of the stream always has a larger xid, so the
  -- global (transaction_id, position) order keeps every stream in revision order. The lock is released after
  -- commit, so the next writer's fresh READ COMMITTED snapshot sees the revision just written; the unique
  -- (stream_id, revision) constraint backs this up.
  PERFORM pg_advisory_xact_lock(hashtextextended('${channel}:' || p_stream, 0));
  LOOP
    SELECT s.stream_id, s.revision INTO v_stream_id, v_revision
      FROM ${s}.streams s WHERE s.name = p_stream;
    EXIT WHEN FOUND;
    v_revision := -1;
    EXIT WHEN v_count = 0 OR p_mode = 'stream_exists' OR (p_mode = 'exact' AND p_expected >= 0);
    INSERT INTO ${s}.streams AS s (name, category) VALUES (p_stream, p_category)
      ON CONFLICT (name) DO NOTHING
      RETURNING s.stream_id, s.revision INTO v_stream_id, v_revision;
    EXIT WHEN FOUND;
    -- setStreamMetadata created the row concurrently: read it on the next turn.
  END LOOP;

  IF p_mode = 'stream_exists' AND v_revision < 0 THEN
    RETURN QUERY SELECT 'wrong_expected_version'::text, v_revision, NULL::xid8, NULL::bigint;
    RETURN;
  END IF;

  IF p_mode = 'exact' AND v_revision <> p_expected THEN
    -- EventStoreDB semantics: the same batch already sitting right after the expected revision is a success.
    IF v_count > 0 AND v_revision >= p_expected + v_count AND (
      SELECT count(*) FROM ${s}.events e
       WHERE e.stream_id = v_stream_id
         AND e.revision BETWEEN p_expected + 1 AND p_expected + v_count
         AND e.event_id = p_ids[(e.revision - p_expected)::int]
    ) = v_count THEN
      SELECT e.transaction_id, e.position INTO v_xid, v_position
        FROM ${s}.events e WHERE e.stream_id = v_stream_id AND e.revision = p_expected + v_count;
      RETURN QUERY SELECT 'idempotent'::text, p_expected + v_count, v_xid, v_position;
      RETURN;
    END IF;
    RETURN QUERY SELECT 'wrong_expected_version'::text, v_revision, NULL::xid8, NULL::bigint;
    RETURN;
  END IF;

  IF v_count = 0 THEN
    RETURN QUERY SELECT 'idempotent'::text, v_revision, NULL::xid8, NULL::bigint;
    RETURN;
  END IF;

  -- Ids already in the stream are skipped, so a retried append never duplicates an event.
  WITH inserted AS (
    INSERT INTO ${s}.events (stream_id, stream_name, category, revision, event_id, type, data, metadata)
    SELECT v_stream_id, p_stream, p_category, v_revision + row_number() OVER (ORDER BY t.ord),
           t.id, t.type, t.data, t.meta
      FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS t(id, type, data, meta, ord)
     WHERE v_revision < 0 OR NOT EXISTS (
       SELECT 1 FROM ${s}.events x WHERE x.stream_id = v_stream_id AND x.event_id = t.id)
     ORDER BY t.ord
    RETURNING revision, position
  )
  SELECT count(*), max(revision), max(position) INTO v_inserted, v_last_revision, v_position FROM inserted;

  IF v_inserted = 0 THEN
    SELECT e.transaction_id, e.position INTO v_xid, v_position
      FROM ${s}.events e WHERE e.stream_id = v_stream_id AND e.event_id = ANY (p_ids)
     ORDER BY e.revision DESC LIMIT 1;
    RETURN QUERY SELECT 'idempotent'::text, v_revision, v_xid, v_position;
    RETURN;
  END IF;

  UPDATE ${s}.streams SET revision = v_last_revision WHERE stream_id = v_stream_id;
  RETURN QUERY SELECT 'ok'::text, v_last_revision, pg_current_xact_id(), v_position;
END
$fn$;
`;
    },
  },
];

/**
 * Applies missing migrations under a session advisory lock, so two processes starting together migrate once.
 * Each migration runs in its own transaction together with its row in `schema_migrations`.
 */
export async function migrate(pool: Pool, schema: string): Promise<number[]> {
  assertSchemaName(schema);
  const s = quoteIdent(schema);
  const client = await pool.connect();
  const applied: number[] = [];
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
      `event-store-migrations:${schema}`,
    ]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const done = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
      const have = new Set(done.rows.map((row) => row.version));
      for (const migration of MIGRATIONS) {
        if (have.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql(schema));
          await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
            migration.version,
            migration.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
        applied.push(migration.version);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
        `event-store-migrations:${schema}`,
      ]);
    }
  } catch (error) {
    // A session that failed mid-migration may still hold the lock or a transaction: discard it, never reuse it.
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(broken);
  }
  return applied;
}
