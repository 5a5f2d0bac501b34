import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createEventStore } from '../factory';
import { event, testEventStore, uniqueCategory, waitFor } from '../testing/event-store.contract.test-helpers';
import type { EventStore, RecordedEvent } from '../types';
import { EventStoreUnavailableError } from '../errors';
import { PostgresEventStore } from './postgres.adapter';
import { MIGRATIONS, notifyChannel, quoteIdent } from './migrations';
import {
  dropSchema,
  ensureTestDatabase,
  TEST_DATABASE_URL,
  terminateSessions,
  uniqueSchema,
  withClient,
} from './test-database.test-helpers';

const schema = uniqueSchema();

beforeAll(async () => {
  await ensureTestDatabase();
});

afterAll(async () => {
  await dropSchema(TEST_DATABASE_URL, schema);
});

testEventStore('postgres', async ({ upcasters }) => {
  const applicationName = `es-test-${randomBytes(5).toString('hex')}`;
  const store = await createEventStore(TEST_DATABASE_URL, {
    schema,
    upcasters,
    applicationName,
    pollIntervalMs: 500,
  });
  return { store, dropConnections: () => terminateSessions(TEST_DATABASE_URL, applicationName) };
});

describe('postgres adapter specifics', () => {
  it('refuses a database whose name does not mark it as a test database', async () => {
    await expect(ensureTestDatabase('postgres://postgres@127.0.0.1:5432/postgres')).rejects.toThrow(
      /must contain/,
    );
  });

  it('waits at start-up while the server has no connection slot for it, within startupTimeoutMs', async () => {
    // A role allowed one connection, held elsewhere: PostgreSQL refuses the store with 53300, as a server whose
    // max_connections is reached does.
    const role = `es_slots_${randomBytes(4).toString('hex')}`;
    const fresh = uniqueSchema('es_slots');
    const url = new URL(TEST_DATABASE_URL);
    url.username = role;
    await withClient(TEST_DATABASE_URL, async (client) => {
      await client.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`);
      await client.query(`GRANT CREATE ON DATABASE "${url.pathname.slice(1)}" TO ${role}`);
    });
    let store: EventStore | undefined;
    try {
      // Wrapped: an async function returning the promise itself would hold the slot until it settled.
      const { waiting } = await withClient(url.toString(), async () => {
        // Without waiting, the store gives up at once.
        await expect(createEventStore(url.toString(), { schema: fresh })).rejects.toThrow(
          EventStoreUnavailableError,
        );
        // With a start-up timeout, it keeps trying and gets the slot once the other session leaves.
        const waiting = createEventStore(url.toString(), { schema: fresh, startupTimeoutMs: 20_000 });
        await new Promise((resolve) => setTimeout(resolve, 700));
        return { waiting };
      });
      store = await waiting;
      await store.append(`slots-${randomBytes(3).toString('hex')}`, [event('Started')], {
        expectedRevision: 'no_stream',
      });
    } finally {
      // Cleaned up whatever failed, so no role or schema outlives the test.
      await store?.close();
      await withClient(TEST_DATABASE_URL, async (client) => {
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [
          role,
        ]);
        await client.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
        await client.query(`REVOKE CREATE ON DATABASE "${url.pathname.slice(1)}" FROM ${role}`);
        await client.query(`DROP ROLE ${role}`);
      });
    }
  });

  it('migrates once when two processes start at the same time, and is idempotent', async () => {
    const fresh = uniqueSchema('es_mig');
    const a = new PostgresEventStore(TEST_DATABASE_URL, { schema: fresh });
    const b = new PostgresEventStore(TEST_DATABASE_URL, { schema: fresh });
    try {
      const [appliedA, appliedB] = await Promise.all([a.migrate(), b.migrate()]);
      expect([...appliedA, ...appliedB].sort()).toEqual(MIGRATIONS.map((migration) => migration.version));
      expect(await a.migrate()).toEqual([]);
      const rows = await withClient(TEST_DATABASE_URL, (client) =>
        client.query<{ version: number }>(
          `SELECT version FROM "${fresh}".schema_migrations ORDER BY version`,
        ),
      );
      expect(rows.rows.map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
    } finally {
      await Promise.all([a.close(), b.close()]);
      await dropSchema(TEST_DATABASE_URL, fresh);
    }
  });

  it('rejects an unsafe schema name', () => {
    expect(() => new PostgresEventStore(TEST_DATABASE_URL, { schema: 'x"; DROP TABLE y; --' })).toThrow(
      /Invalid PostgreSQL schema name/,
    );
  });

  it('does not deliver a later-committed event past an earlier, still open transaction', async () => {
    const store = await createEventStore(TEST_DATABASE_URL, { schema, migrate: false, pollIntervalMs: 200 });
    const category = uniqueCategory();
    const received: RecordedEvent[] = [];
    const subscription = store.subscribe(
      { category },
      { handler: (recorded) => void received.push(recorded) },
    );
    const slow = event('Slow');
    try {
      await withClient(TEST_DATABASE_URL, async (client) => {
        // The slow transaction takes its position first, then stays open while a faster one commits.
        await client.query('BEGIN');
        await client.query(
          `SELECT * FROM "${schema}".append_events($1, $2, 'any', NULL, $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])`,
          [`${category}-slow`, category, [slow.id], ['Slow'], ['{}'], ['{"schemaVersion":1}']],
        );
        await store.append(`${category}-fast`, [event('Fast')], { expectedRevision: 'no_stream' });
        await new Promise((resolve) => setTimeout(resolve, 600));
        expect(received).toEqual([]);
        expect(store.getSubscriptionLag()[0]).toMatchObject({ delivered: 0 });
        await client.query('COMMIT');
      });
      await waitFor(() => received.length === 2, 'both events');
      expect(received.map((e) => e.type)).toEqual(['Slow', 'Fast']);
    } finally {
      await subscription.stop();
      await store.close();
    }
  });

  /** Until a session has run `LISTEN` on `channel` to its end (pg_stat_activity keeps an idle one's last). */
  async function waitForListen(channel: string): Promise<void> {
    const client = new Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await client.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1 AND state = 'idle'",
          [`LISTEN ${quoteIdent(channel)}`],
        );
        if (rows[0].n > 0) return;
        if (Date.now() > deadline) throw new Error(`no session listens on ${channel}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await client.end();
    }
  }

  it('wakes a subscriber in another process through NOTIFY, long before its fallback poll', async () => {
    const writer = await createEventStore(TEST_DATABASE_URL, { schema });
    // The subscriber's own poll is a minute away: only LISTEN/NOTIFY can deliver within the test's bound.
    const subscriber = await createEventStore(TEST_DATABASE_URL, {
      schema,
      migrate: false,
      pollIntervalMs: 60_000,
    });
    const category = uniqueCategory();
    const received: RecordedEvent[] = [];
    const subscription = subscriber.subscribe(
      { category },
      { handler: (recorded) => void received.push(recorded) },
    );
    try {
      await waitFor(
        () => subscriber.getSubscriptionLag()[0]?.caughtUp === true,
        'the subscriber to catch up',
      );
      // Its LISTEN session opens beside the catch-up, not before it: a NOTIFY sent before the server runs the
      // LISTEN is lost by design (the poll covers that gap in production), so wait until the server shows it.
      await waitForListen(notifyChannel(schema));
      await writer.append(`${category}-1`, [event('Notified')], { expectedRevision: 'no_stream' });
      // Within 5 s, against a 60 s poll period: only the NOTIFY can have woken the subscriber.
      await waitFor(() => received.length === 1, 'the notified event', 5_000);
      expect(received[0].type).toBe('Notified');
    } finally {
      await subscription.stop();
      await subscriber.close();
      await writer.close();
    }
  });
});
