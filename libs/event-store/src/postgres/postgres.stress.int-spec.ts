import { randomBytes, randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createEventStore } from '../factory';
import { uniqueCategory, waitFor } from '../testing/event-store.contract.test-helpers';
import type { EventStore, RecordedEvent } from '../types';
import {
  dropSchema,
  ensureTestDatabase,
  TEST_DATABASE_URL,
  uniqueSchema,
} from './test-database.test-helpers';

/**
 * Concurrent writers with transactions of varying length: some append through the adapter (one short
 * statement), others call the same append function inside an explicit transaction and hold it open with
 * pg_sleep before committing, so sequence positions commit out of order. The subscriber must still see every
 * event exactly once, each stream in revision order, in the same order a later full read returns.
 */
const WRITERS = 16;
const STREAMS_PER_WRITER = 30;
const APPENDS_PER_STREAM = 3;
const HOT_STREAM_APPENDS_PER_WRITER = 5;

const schema = uniqueSchema('es_stress');
let store: EventStore;
let rawPool: Pool;

beforeAll(async () => {
  await ensureTestDatabase();
  store = await createEventStore(TEST_DATABASE_URL, {
    schema,
    poolSize: 8,
    applicationName: `es-stress-${randomBytes(4).toString('hex')}`,
    pollIntervalMs: 250,
  });
  rawPool = new Pool({ connectionString: TEST_DATABASE_URL, max: 8 });
});

afterAll(async () => {
  await store?.close();
  await rawPool?.end();
  await dropSchema(TEST_DATABASE_URL, schema);
});

function newEvent(type: string, writer: number, n: number) {
  return { id: randomUUID(), type, data: { writer, n }, metadata: { schemaVersion: 1 } };
}

/** Appends inside an explicit transaction that stays open for `holdMs` after taking its positions. */
async function appendHeldOpen(
  stream: string,
  expected: number,
  events: ReturnType<typeof newEvent>[],
  holdMs: number,
) {
  const client = await rawPool.connect();
  try {
    await client.query('BEGIN');
    const result = await client.query<{ outcome: string }>(
      `SELECT outcome FROM "${schema}".append_events($1, $2, $3, $4, $5::uuid[], $6::text[], $7::jsonb[], $8::jsonb[])`,
      [
        stream,
        stream.split('-')[0],
        expected < 0 ? 'exact' : 'exact',
        expected,
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => JSON.stringify(e.metadata)),
      ],
    );
    await client.query('SELECT pg_sleep($1)', [holdMs / 1000]);
    await client.query('COMMIT');
    if (result.rows[0].outcome !== 'ok')
      throw new Error(`held-open append returned ${result.rows[0].outcome}`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

it('delivers every event exactly once, in per-stream order, under concurrent out-of-order commits', async () => {
  const category = uniqueCategory();
  const received: RecordedEvent[] = [];
  const subscription = store.subscribe({ category }, { handler: (event) => void received.push(event) });
  const written = new Set<string>();
  const hotStream = `${category}-hot`;

  const writer = async (w: number): Promise<void> => {
    const streams = Array.from({ length: STREAMS_PER_WRITER }, (_, s) => `${category}-w${w}s${s}`);
    const revisions = new Map(streams.map((stream) => [stream, -1]));
    for (let round = 0; round < APPENDS_PER_STREAM; round += 1) {
      for (const [index, stream] of streams.entries()) {
        const size = 1 + ((w + index + round) % 3);
        const batch = Array.from({ length: size }, (_, n) => newEvent(`R${round}`, w, n));
        const expected = revisions.get(stream) ?? -1;
        if ((w * 7 + index * 3 + round) % 11 === 0) {
          await appendHeldOpen(stream, expected, batch, 20 + ((w * 13 + index) % 5) * 40);
        } else {
          await store.append(stream, batch, { expectedRevision: expected < 0 ? 'no_stream' : expected });
        }
        revisions.set(stream, expected + size);
        for (const event of batch) written.add(event.id);
      }
      for (let h = 0; h < Math.ceil(HOT_STREAM_APPENDS_PER_WRITER / APPENDS_PER_STREAM); h += 1) {
        const hot = newEvent('Hot', w, h + round * 10);
        await store.append(hotStream, [hot], { expectedRevision: 'any' });
        written.add(hot.id);
      }
    }
  };

  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  await waitFor(() => received.length >= written.size, `${written.size} events`, 40_000);
  // Give a duplicate, if any, the chance to arrive before asserting.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await subscription.stop();

  const ids = received.map((event) => event.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBe(written.size);
  expect(ids.every((id) => written.has(id))).toBe(true);

  const positions = received.map((event) => event.position);
  expect(positions.every((position, i) => i === 0 || positions[i - 1] < position)).toBe(true);

  const lastRevision = new Map<string, number>();
  for (const event of received) {
    expect(event.revision).toBe((lastRevision.get(event.streamName) ?? -1) + 1);
    lastRevision.set(event.streamName, event.revision);
  }

  const all: RecordedEvent[] = [];
  for (let page = await store.readAll({ filter: { category }, limit: 1000 }); page.length > 0;) {
    all.push(...page);
    page = await store.readAll({ filter: { category }, limit: 1000, after: page[page.length - 1].position });
  }
  expect(all.map((event) => event.id)).toEqual(ids);
});
