import { randomBytes, randomUUID } from 'node:crypto';
import { PrivatePostgres } from '@app/testing';
import pino from 'pino';
import { EventStoreUnavailableError } from '../errors';
import type { RecordedEvent, Subscription } from '../types';
import { PostgresEventStore } from './postgres.adapter';

/**
 * The PostgreSQL adapter against a server of its own that the test restarts (`pg_ctl restart -m fast`, which
 * ends every session with 57P01, as a failover or an operator restart does) or stops for a while. Never the
 * shared server: other suites use it at the same time.
 */
describe('PostgresEventStore across a PostgreSQL restart (private server)', () => {
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const logLines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
  let server: PrivatePostgres;
  const stores: PostgresEventStore[] = [];

  function open(options: ConstructorParameters<typeof PostgresEventStore>[1] = {}): PostgresEventStore {
    const store = new PostgresEventStore(server.url('postgres', password), {
      schema: 'restart_events',
      logger,
      poolSize: 3,
      ...options,
    });
    stores.push(store);
    return store;
  }

  const event = (n: number) => ({ id: randomUUID(), type: 'Counted', data: { n } });

  beforeAll(async () => {
    server = await PrivatePostgres.start();
    await open().migrate();
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await server?.destroy();
  });

  it('keeps running when idle pool connections are terminated, logs without the URL, and appends again', async () => {
    const store = open();
    const stream = `restart-${randomBytes(4).toString('hex')}`;
    // Three parallel appends leave three idle connections in the pool.
    await Promise.all(
      [0, 1, 2].map((n) => store.append(`${stream}${n}`, [event(n)], { expectedRevision: 'any' })),
    );
    logLines.length = 0;
    await server.restart();
    // The terminations reach the idle clients asynchronously: give them time to arrive (and, unheard, to crash).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lost = logLines.filter((line) => line.includes('idle PostgreSQL connection lost'));
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(lost[0]).toContain('57P01');
    expect(logLines.join('\n')).not.toContain(password);
    await store.append(`${stream}0`, [event(3)], { expectedRevision: 0 });
    expect((await store.readStream(`${stream}0`)).map((e) => e.data)).toEqual([{ n: 0 }, { n: 3 }]);
  });

  it('answers EventStoreUnavailableError while the server is down, and works once it is back', async () => {
    const store = open();
    const stream = `down-${randomBytes(4).toString('hex')}`;
    await store.append(stream, [event(0)], { expectedRevision: 'no_stream' });
    await server.stop();
    try {
      await expect(store.append(stream, [event(1)], { expectedRevision: 0 })).rejects.toBeInstanceOf(
        EventStoreUnavailableError,
      );
      await expect(store.readStream(stream)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    } finally {
      await server.resume();
    }
    await store.append(stream, [event(1)], { expectedRevision: 0 });
    expect(await store.readStream(stream)).toHaveLength(2);
  });

  it.each([
    ['restarted', () => server.restart()],
    [
      'down for 1.5 s',
      async () => {
        await server.stop();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await server.resume();
      },
    ],
  ])(
    'a live subscription in another process delivers every event exactly once when the server is %s',
    async (_, outage) => {
      const category = `live${randomBytes(4).toString('hex')}`;
      const writer = open();
      // A poll period far beyond the test: events after the outage arrive only if the LISTEN connection came back.
      const reader = open({ pollIntervalMs: 120_000, applicationName: 'restart-reader' });
      const delivered: RecordedEvent[] = [];
      const errors: unknown[] = [];
      const subscription: Subscription = reader.subscribe(
        { category },
        {
          fromCheckpoint: 'start',
          handler: (recorded) => void delivered.push(recorded),
          onError: (error) => errors.push(error),
        },
      );
      const appended: string[] = [];
      const appendBatch = async (from: number) => {
        for (let n = from; n < from + 5; n += 1) {
          const e = event(n);
          await writer.append(`${category}-${n % 2}`, [e], { expectedRevision: 'any' });
          appended.push(e.id);
        }
      };
      const deliveredCount = async (count: number) => {
        const until = Date.now() + 20_000;
        while (delivered.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
        expect(delivered.length).toBeGreaterThanOrEqual(count);
      };
      try {
        await appendBatch(0);
        await deliveredCount(5);
        await outage();
        await appendBatch(5);
        await deliveredCount(10);
        // Anything delivered twice would show up shortly after the last event.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(delivered.map((e) => e.id)).toEqual(appended);
        expect(errors).toEqual([]);
        expect(subscription.stats().stopped).toBe(false);
      } finally {
        await subscription.stop();
      }
    },
  );
});
