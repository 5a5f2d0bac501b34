import { randomBytes } from 'node:crypto';
import { tenantStream } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import { Client } from 'pg';
import { appendTenantEvents, silentLogger, uniqueTenantId, waitUntil } from './audit.test-helpers';
import { parseCheckpoint } from './chain';
import { exportNdjson, verifyNdjson } from './ndjson';
import { AuditChainProjector } from './projector';
import { auditStream, readWholeStream } from './streams';
import { verifyTenant } from './verify';

const URL_ = process.env['AUDIT_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
const schema = `audit_test_${randomBytes(5).toString('hex')}`;

async function sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: URL_ });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function ensureTestDatabase(): Promise<void> {
  const database = new URL(URL_).pathname.slice(1);
  // Tests alter stored events by hand: never against a database that is not marked as a test database.
  if (!/test/i.test(database) || !/^[a-z_][a-z0-9_]*$/.test(database)) {
    throw new Error(`Refusing to run against database "${database}": its name must contain "test"`);
  }
  const admin = new URL(URL_);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

const stores: EventStore[] = [];
async function openStore(): Promise<EventStore> {
  const store = await createEventStore(URL_, {
    schema,
    logger: silentLogger,
    pollIntervalMs: 200,
    poolSize: 3,
  });
  stores.push(store);
  return store;
}

async function lastRevision(store: EventStore, tenantId: string): Promise<number> {
  const [last] = await store.readStream(tenantStream(tenantId), { direction: 'backwards', limit: 1 });
  return last.revision;
}

async function coveredRevisions(store: EventStore, tenantId: string): Promise<number[]> {
  const events = await readWholeStream(store, auditStream(tenantId));
  return events.flatMap((event) => parseCheckpoint(event.data).entries.map((entry) => entry.revision));
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const result: string[] = [];
  for await (const line of lines) result.push(line);
  return result;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('audit chain on PostgreSQL', () => {
  const tenants = [uniqueTenantId('alpha'), uniqueTenantId('beta'), uniqueTenantId('gamma')];
  let reader: EventStore;

  beforeAll(async () => {
    await ensureTestDatabase();
    reader = await openStore();
  });

  afterAll(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('covers concurrent writers (expectedRevision any) with two projector instances running', async () => {
    const writers = await Promise.all([openStore(), openStore(), openStore()]);
    const projectorStores = await Promise.all([openStore(), openStore()]);
    const projectors = await Promise.all(
      projectorStores.map(async (store) => {
        const projector = new AuditChainProjector(store, { logger: silentLogger, flushDelayMs: 20 });
        await projector.start();
        return projector;
      }),
    );
    await Promise.all(
      writers.flatMap((writer, w) =>
        tenants.map((tenantId) => appendTenantEvents(writer, tenantId, 12, `svc${w}`)),
      ),
    );
    for (const tenantId of tenants) {
      expect(await lastRevision(reader, tenantId)).toBe(35);
      const result = await waitUntil(
        () => verifyTenant(reader, tenantId),
        (value) => value.coveredUpTo === 35,
      );
      expect(result).toMatchObject({ ok: true, checkedEvents: 36, uncoveredEvents: 0 });
      expect(await coveredRevisions(reader, tenantId)).toEqual(range(36));
    }
    // Covered can come before delivered (a projector reads the stream up to its end): stop both only once each
    // has been delivered all 108 events, so the cursor they leave is at the end for the next test.
    for (const store of projectorStores) {
      await waitUntil(
        async () => store.getSubscriptionLag().find((stats) => stats.name === 'audit-chain')?.delivered ?? 0,
        (delivered) => delivered >= 108,
      );
    }
    await Promise.all(projectors.map((projector) => projector.stop()));
  });

  it('resumes after a restart from the saved cursor without duplicate checkpoints', async () => {
    const cursor = await sql<{ metadata: { checkpoint?: string } }>(
      `SELECT metadata FROM "${schema}".streams WHERE name = 'auditcursor-audit-chain'`,
    );
    expect(cursor[0]?.metadata.checkpoint).toMatch(/^\d{20}:\d{20}$/);

    await appendTenantEvents(reader, tenants[0], 5, 'late');
    const store = await openStore();
    const projector = new AuditChainProjector(store, { logger: silentLogger, flushDelayMs: 20 });
    await projector.start();
    const result = await waitUntil(
      () => verifyTenant(reader, tenants[0]),
      (value) => value.coveredUpTo === 40,
    );
    // Resumed from the cursor: the subscription delivered only the five new events, not the 108 before them
    // (they reach it once visible, which can be after the chain covered them by reading the stream).
    const delivered = await waitUntil(
      async () => store.getSubscriptionLag().find((stats) => stats.name === 'audit-chain')?.delivered ?? 0,
      (count) => count >= 5,
    );
    expect(delivered).toBe(5);
    await projector.stop();
    expect(result).toMatchObject({ ok: true, checkedEvents: 41 });
    expect(await coveredRevisions(reader, tenants[0])).toEqual(range(41));
    expect(projector.stats().eventsCovered).toBe(5);
  });

  it('fails verify at exactly the event whose data was altered in the events table', async () => {
    const tenantId = tenants[1];
    const victim = (await reader.readStream(tenantStream(tenantId), { from: 17, limit: 1 }))[0];
    const updated = await sql(
      `UPDATE "${schema}".events SET data = jsonb_set(data, '{amount}', '1000000')
        WHERE stream_name = $1 AND revision = $2 RETURNING event_id`,
      [tenantStream(tenantId), 17],
    );
    expect(updated).toHaveLength(1);

    const result = await verifyTenant(reader, tenantId);
    expect(result).toMatchObject({
      ok: false,
      checkedEvents: 17,
      coveredUpTo: 35,
      firstMismatch: { revision: 17, eventId: victim.id, type: victim.type, reason: 'hash' },
    });
    expect(result.firstMismatch?.actualHash).not.toBe(result.firstMismatch?.expectedHash);

    const offline = verifyNdjson(await collect(exportNdjson(reader, tenantId)));
    expect(offline).toMatchObject({
      ok: false,
      checkedEvents: 17,
      firstError: { line: 18, revision: 17, eventId: victim.id, reason: 'hash' },
    });
    // The other tenants are untouched.
    expect((await verifyTenant(reader, tenants[2])).ok).toBe(true);
  });

  it('fails verify at an event whose metadata was altered, and at a deleted event', async () => {
    const tenantId = tenants[2];
    const events = await reader.readStream(tenantStream(tenantId), { from: 30, limit: 1 });
    await sql(
      `UPDATE "${schema}".events SET metadata = metadata || '{"actor":"intruder"}'::jsonb
        WHERE stream_name = $1 AND revision = 30`,
      [tenantStream(tenantId)],
    );
    expect((await verifyTenant(reader, tenantId)).firstMismatch).toMatchObject({
      revision: 30,
      eventId: events[0].id,
      reason: 'hash',
    });
    await sql(`DELETE FROM "${schema}".events WHERE stream_name = $1 AND revision = 4`, [
      tenantStream(tenantId),
    ]);
    expect((await verifyTenant(reader, tenantId)).firstMismatch).toMatchObject({
      revision: 4,
      reason: 'missing-event',
    });
  });
});
