import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { decodeCheckpoint } from '../checkpoint';
import { createEventStore } from '../factory';
import { waitFor } from '../testing/event-store.contract.test-helpers';
import type { EventStore, RecordedEvent, Subscription } from '../types';
import {
  dropSchema,
  ensureTestDatabase,
  TEST_DATABASE_URL,
  uniqueSchema,
} from './test-database.test-helpers';

/**
 * A subscription to a category that is rarely written (rollouts, the purge guardrail) beside a busy one (tenants):
 * its position must move past the events its filter skips, or every poll reads again every event appended since
 * it started (measured in bench:fleet: 84,000 index scans fetching 83 million rows at 300 tenants). Moving past
 * them must never skip an event of its own category, even one whose transaction commits late.
 */
const schema = uniqueSchema('es_filtered');
let store: EventStore;
let raw: Pool;
const subscriptions: Subscription[] = [];

beforeAll(async () => {
  await ensureTestDatabase();
  store = await createEventStore(TEST_DATABASE_URL, { schema, pollIntervalMs: 50 });
  raw = new Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
});

afterAll(async () => {
  await Promise.all(subscriptions.map((subscription) => subscription.stop()));
  await store?.close();
  await raw?.end();
  await dropSchema(TEST_DATABASE_URL, schema);
});

const event = (n: number) => ({ id: randomUUID(), type: 'Noted', data: { n } });

async function appendNoise(streams: number, each: number): Promise<void> {
  for (let s = 0; s < streams; s += 1) {
    await store.append(
      `tenant-noise${randomUUID().slice(0, 8)}`,
      Array.from({ length: each }, (_, n) => event(n)),
      {
        expectedRevision: 'no_stream',
      },
    );
  }
}

function positionOf(checkpoint: string | undefined): bigint {
  return checkpoint === undefined ? -1n : decodeCheckpoint(checkpoint, 2)[1];
}

describe('PostgreSQL event store: a subscription to a rare category', () => {
  it('moves past the events its filter skips, and still delivers its own', async () => {
    const received: RecordedEvent[] = [];
    const subscription = store.subscribe(
      { category: 'rareone' },
      { name: 'rare-one', fromCheckpoint: 'start', handler: (e) => void received.push(e) },
    );
    subscriptions.push(subscription);
    await appendNoise(20, 10);
    const [last] = await store
      .readAll({ filter: { category: 'tenant' }, limit: 1000 })
      .then((all) => all.slice(-1));
    await waitFor(
      () => positionOf(subscription.checkpoint) >= positionOf(last.position),
      `the rare subscription's position to pass the last tenant event (at ${String(subscription.checkpoint)})`,
    );
    expect(received).toEqual([]);

    await store.append('rareone-a', [event(1)], { expectedRevision: 'no_stream' });
    await waitFor(() => received.length === 1, 'the rare event');
    await appendNoise(5, 4);
    await store.append('rareone-a', [event(2)], { expectedRevision: 0 });
    await waitFor(() => received.length === 2, 'the second rare event');
    expect(received.map((e) => [e.streamName, e.revision])).toEqual([
      ['rareone-a', 0],
      ['rareone-a', 1],
    ]);
  });

  it('never moves past an event of its category whose transaction commits after newer ones', async () => {
    const received: RecordedEvent[] = [];
    const subscription = store.subscribe(
      { category: 'raretwo' },
      { name: 'rare-two', fromCheckpoint: 'end', handler: (e) => void received.push(e) },
    );
    subscriptions.push(subscription);
    await waitFor(() => subscription.checkpoint !== undefined, 'the subscription to start at the end');

    // An append of the rare category inside a transaction held open while noise commits after it.
    const client = await raw.connect();
    try {
      await client.query('BEGIN');
      const held = event(7);
      await client.query(
        `SELECT outcome FROM "${schema}".append_events($1, $2, 'exact', -1, $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[])`,
        ['raretwo-held', 'raretwo', [held.id], [held.type], [JSON.stringify(held.data)], ['{}']],
      );
      await appendNoise(10, 5);
      // Several polls while the rare event is invisible and newer noise is committed.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(received).toEqual([]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
    await waitFor(() => received.length === 1, 'the late-committed rare event');
    expect(received[0].streamName).toBe('raretwo-held');
    await appendNoise(3, 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toHaveLength(1);
  });
});
