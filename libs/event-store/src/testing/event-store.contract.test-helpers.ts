/**
 * The one contract suite every adapter runs (memory in a unit spec, PostgreSQL and EventStoreDB in int-specs).
 * Named `*.test-helpers.ts` so jest does not run it on its own and the production build leaves it out.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  EventStoreUnavailableError,
  InvalidEventStoreArgumentError,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '../errors';
import type {
  Checkpoint,
  EventData,
  EventStore,
  ExpectedRevision,
  RecordedEvent,
  Subscription,
  Upcasters,
} from '../types';

export interface EventStoreTestHarness {
  store: EventStore;
  /**
   * Kills the store's server connections from outside (PostgreSQL: pg_terminate_backend from another session)
   * and resolves with how many were killed. Adapters without connections leave it out.
   */
  dropConnections?: () => Promise<number>;
}

export type EventStoreTestFactory = (options: { upcasters?: Upcasters }) => Promise<EventStoreTestHarness>;

export interface EventStoreTestOptions {
  /** Why the dropped-connection test does not apply, printed when it is skipped. */
  noDropReason?: string;
}

/** A category unique to one test, so suites sharing a database never see each other's events. */
export function uniqueCategory(): string {
  return `t${randomBytes(6).toString('hex')}`;
}

export function event(type: string, data: unknown = {}, metadata: Record<string, unknown> = {}): EventData {
  return { id: randomUUID(), type, data, metadata: { schemaVersion: 1, ...metadata } };
}

export async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function expectWrongVersion(
  promise: Promise<unknown>,
  expected: { stream: string; actual: number | 'no_stream' },
): Promise<WrongExpectedVersionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WrongExpectedVersionError);
  const wrong = error as WrongExpectedVersionError;
  expect(wrong.code).toBe('EVENT_STORE.WRONG_EXPECTED_VERSION');
  expect(wrong.stream).toBe(expected.stream);
  expect(wrong.actual).toBe(expected.actual);
  return wrong;
}

export function testEventStore(
  name: string,
  factory: EventStoreTestFactory,
  testOptions: EventStoreTestOptions = {},
): void {
  describe(`event store contract: ${name}`, () => {
    const harnesses: EventStoreTestHarness[] = [];
    const subscriptions: Subscription[] = [];
    let store: EventStore;
    let harness: EventStoreTestHarness;

    const open = async (options: { upcasters?: Upcasters } = {}): Promise<EventStoreTestHarness> => {
      const created = await factory(options);
      harnesses.push(created);
      return created;
    };

    beforeAll(async () => {
      harness = await open();
      store = harness.store;
    });

    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((subscription) => subscription.stop()));
    });

    afterAll(async () => {
      await Promise.all(harnesses.map((opened) => opened.store.close()));
    });

    const collect = (
      target: { category: string } | { all: true },
      fromCheckpoint?: Checkpoint | 'start' | 'end',
    ): { received: RecordedEvent[]; subscription: Subscription } => {
      const received: RecordedEvent[] = [];
      const subscription = store.subscribe(target, {
        fromCheckpoint,
        handler: (recorded) => {
          received.push(recorded);
        },
      });
      subscriptions.push(subscription);
      return { received, subscription };
    };

    describe('append and read', () => {
      it('appends to a new stream and reads the events back with their envelope', async () => {
        const stream = `${uniqueCategory()}-abc`;
        const first = event(
          'TenantRequested',
          { plan: 'pro', n: 1 },
          { correlationId: 'c-1', actor: 'intake' },
        );
        const second = event('NamespaceCreated', { name: 'tenant-abc' });
        const result = await store.append(stream, [first, second], { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(1);
        expect(typeof result.position).toBe('string');

        const events = await store.readStream(stream);
        expect(events.map((e) => [e.id, e.type, e.revision, e.streamName])).toEqual([
          [first.id, 'TenantRequested', 0, stream],
          [second.id, 'NamespaceCreated', 1, stream],
        ]);
        expect(events[0].data).toEqual({ plan: 'pro', n: 1 });
        expect(events[0].metadata).toEqual({ schemaVersion: 1, correlationId: 'c-1', actor: 'intake' });
        expect(events[0].recordedAt).toBeInstanceOf(Date);
        expect(events[0].position < events[1].position).toBe(true);
        expect(events[1].position).toBe(result.position);
      });

      it('defaults metadata.schemaVersion to 1', async () => {
        const stream = `${uniqueCategory()}-1`;
        await store.append(stream, [{ id: randomUUID(), type: 'Plain', data: { a: 1 } }], {
          expectedRevision: 'any',
        });
        const [read] = await store.readStream(stream);
        expect(read.metadata.schemaVersion).toBe(1);
      });

      it('throws StreamNotFoundError for a stream without events', async () => {
        const stream = `${uniqueCategory()}-missing`;
        await expect(store.readStream(stream)).rejects.toBeInstanceOf(StreamNotFoundError);
        await expect(store.readStream(stream)).rejects.toMatchObject({
          code: 'EVENT_STORE.STREAM_NOT_FOUND',
          stream,
        });
      });

      it('rejects invalid stream names, event ids and duplicate ids in one batch', async () => {
        const stream = `${uniqueCategory()}-x`;
        await expect(
          store.append('no dash', [event('A')], { expectedRevision: 'any' }),
        ).rejects.toBeInstanceOf(InvalidEventStoreArgumentError);
        await expect(
          store.append(stream, [{ id: 'not-a-uuid', type: 'A', data: {} }], { expectedRevision: 'any' }),
        ).rejects.toMatchObject({ code: 'EVENT_STORE.INVALID_ARGUMENT' });
        const twice = event('A');
        await expect(
          store.append(stream, [twice, twice], { expectedRevision: 'any' }),
        ).rejects.toBeInstanceOf(InvalidEventStoreArgumentError);
      });
    });

    describe('optimistic concurrency', () => {
      it('no_stream fails once the stream exists', async () => {
        const stream = `${uniqueCategory()}-a`;
        await store.append(stream, [event('A')], { expectedRevision: 'no_stream' });
        const error = await expectWrongVersion(
          store.append(stream, [event('B')], { expectedRevision: 'no_stream' }),
          {
            stream,
            actual: 0,
          },
        );
        expect(error.expected).toBe('no_stream');
      });

      it('an exact revision fails when the stream moved on, and when it does not exist', async () => {
        const stream = `${uniqueCategory()}-a`;
        await expectWrongVersion(store.append(stream, [event('A')], { expectedRevision: 0 }), {
          stream,
          actual: 'no_stream',
        });
        await store.append(stream, [event('A'), event('B')], { expectedRevision: 'no_stream' });
        const error = await expectWrongVersion(store.append(stream, [event('C')], { expectedRevision: 0n }), {
          stream,
          actual: 1,
        });
        expect(error.expected).toBe(0);
        const ok = await store.append(stream, [event('C')], { expectedRevision: 1 });
        expect(ok.nextExpectedRevision).toBe(2);
      });

      it('stream_exists fails on a missing stream and succeeds on an existing one', async () => {
        const stream = `${uniqueCategory()}-a`;
        await expectWrongVersion(store.append(stream, [event('A')], { expectedRevision: 'stream_exists' }), {
          stream,
          actual: 'no_stream',
        });
        await store.append(stream, [event('A')], { expectedRevision: 'any' });
        const ok = await store.append(stream, [event('B')], { expectedRevision: 'stream_exists' });
        expect(ok.nextExpectedRevision).toBe(1);
      });

      it('any never conflicts', async () => {
        const stream = `${uniqueCategory()}-a`;
        const a = await store.append(stream, [event('A')], { expectedRevision: 'any' });
        const b = await store.append(stream, [event('B')], { expectedRevision: 'any' });
        expect([a.nextExpectedRevision, b.nextExpectedRevision]).toEqual([0, 1]);
      });

      it('lets exactly one of several concurrent writers at the same revision win', async () => {
        for (const expectedRevision of ['no_stream', 0] as ExpectedRevision[]) {
          const stream = `${uniqueCategory()}-race`;
          if (expectedRevision === 0)
            await store.append(stream, [event('Seed')], { expectedRevision: 'no_stream' });
          const results = await Promise.allSettled(
            Array.from({ length: 6 }, (_, i) => store.append(stream, [event(`W${i}`)], { expectedRevision })),
          );
          const won = results.filter((result) => result.status === 'fulfilled');
          const lost = results.filter(
            (result): result is PromiseRejectedResult => result.status === 'rejected',
          );
          expect(won).toHaveLength(1);
          for (const failure of lost) expect(failure.reason).toBeInstanceOf(WrongExpectedVersionError);
          const events = await store.readStream(stream);
          expect(events).toHaveLength(expectedRevision === 0 ? 2 : 1);
        }
      });
    });

    describe('idempotent append', () => {
      it('re-appending the same batch at the same expected revision succeeds without duplicates', async () => {
        const stream = `${uniqueCategory()}-idem`;
        await store.append(stream, [event('Seed')], { expectedRevision: 'no_stream' });
        const batch = [event('A'), event('B')];
        const first = await store.append(stream, batch, { expectedRevision: 0 });
        await store.append(stream, [event('Later')], { expectedRevision: 2 });
        const retry = await store.append(stream, batch, { expectedRevision: 0 });
        expect(retry.nextExpectedRevision).toBe(first.nextExpectedRevision);
        const events = await store.readStream(stream);
        expect(events.map((e) => e.type)).toEqual(['Seed', 'A', 'B', 'Later']);
      });

      it('re-appending the creating batch with no_stream succeeds without duplicates', async () => {
        const stream = `${uniqueCategory()}-idem`;
        const batch = [event('Reserved')];
        await store.append(stream, batch, { expectedRevision: 'no_stream' });
        const retry = await store.append(stream, batch, { expectedRevision: 'no_stream' });
        expect(retry.nextExpectedRevision).toBe(0);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('a different batch at an already used revision is still a conflict', async () => {
        const stream = `${uniqueCategory()}-idem`;
        await store.append(stream, [event('A')], { expectedRevision: 'no_stream' });
        await expectWrongVersion(store.append(stream, [event('Other')], { expectedRevision: 'no_stream' }), {
          stream,
          actual: 0,
        });
      });

      it('with any, ids already in the stream are skipped and new ones appended', async () => {
        const stream = `${uniqueCategory()}-idem`;
        const a = event('A');
        const b = event('B');
        await store.append(stream, [a, b], { expectedRevision: 'any' });
        await store.append(stream, [event('C')], { expectedRevision: 'any' });
        const retry = await store.append(stream, [b], { expectedRevision: 'any' });
        expect(retry.nextExpectedRevision).toBe(2);
        const d = event('D');
        const mixed = await store.append(stream, [a, d], { expectedRevision: 'any' });
        expect(mixed.nextExpectedRevision).toBe(3);
        const events = await store.readStream(stream);
        expect(events.map((e) => e.id)).toEqual([a.id, b.id, events[2].id, d.id]);
        expect(events.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
      });
    });

    describe('reading', () => {
      it('reads backwards with a limit and forwards from a revision', async () => {
        const stream = `${uniqueCategory()}-r`;
        await store.append(
          stream,
          Array.from({ length: 6 }, (_, i) => event(`E${i}`)),
          { expectedRevision: 'no_stream' },
        );
        const lastTwo = await store.readStream(stream, { direction: 'backwards', limit: 2 });
        expect(lastTwo.map((e) => e.revision)).toEqual([5, 4]);
        const fromThree = await store.readStream(stream, { direction: 'backwards', from: 3, limit: 10 });
        expect(fromThree.map((e) => e.revision)).toEqual([3, 2, 1, 0]);
        const forwards = await store.readStream(stream, { from: 2, limit: 3 });
        expect(forwards.map((e) => e.type)).toEqual(['E2', 'E3', 'E4']);
        const beyond = await store.readStream(stream, { from: 50 });
        expect(beyond).toEqual([]);
      });

      it('readAll orders events by commit and filters by category and stream prefix', async () => {
        const markerCategory = uniqueCategory();
        const marker = await store.append(`${markerCategory}-m`, [event('Marker')], {
          expectedRevision: 'any',
        });
        const category = uniqueCategory();
        const other = uniqueCategory();
        await store.append(`${category}-1`, [event('A1'), event('A2')], { expectedRevision: 'any' });
        await store.append(`${other}-1`, [event('O1')], { expectedRevision: 'any' });
        await store.append(`${category}-2`, [event('B1')], { expectedRevision: 'any' });
        await store.append(`${category}-1`, [event('A3')], { expectedRevision: 1 });

        // Global reads may lag commits briefly (PostgreSQL waits for older transactions to finish).
        const read = async (): Promise<RecordedEvent[]> =>
          store.readAll({ after: marker.position, filter: { category } });
        let byCategory = await read();
        for (let attempt = 0; byCategory.length < 4 && attempt < 200; attempt += 1) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          byCategory = await read();
        }
        expect(byCategory.map((e) => e.type)).toEqual(['A1', 'A2', 'B1', 'A3']);
        const positions = byCategory.map((e) => e.position);
        expect([...positions].sort()).toEqual(positions);
        expect(new Set(positions).size).toBe(4);

        const byPrefix = await store.readAll({
          after: marker.position,
          filter: { streamPrefix: `${category}-2` },
        });
        expect(byPrefix.map((e) => e.type)).toEqual(['B1']);

        const page1 = await store.readAll({ after: marker.position, filter: { category }, limit: 3 });
        const page2 = await store.readAll({ after: page1[2].position, filter: { category }, limit: 3 });
        expect([...page1, ...page2].map((e) => e.type)).toEqual(['A1', 'A2', 'B1', 'A3']);

        const unfiltered = await store.readAll({ after: marker.position, limit: 10_000 });
        const mine = unfiltered.filter(
          (e) => e.streamName.startsWith(`${category}-`) || e.streamName.startsWith(other),
        );
        expect(mine.map((e) => e.type)).toEqual(['A1', 'A2', 'O1', 'B1', 'A3']);
      });
    });

    describe('subscriptions', () => {
      it('catches up, then delivers live events in order', async () => {
        const category = uniqueCategory();
        await store.append(`${category}-1`, [event('A'), event('B')], { expectedRevision: 'no_stream' });
        await store.append(`${uniqueCategory()}-1`, [event('Noise')], { expectedRevision: 'no_stream' });
        await store.append(`${category}-2`, [event('C')], { expectedRevision: 'no_stream' });
        const { received, subscription } = collect({ category });
        await waitFor(() => received.length === 3, 'catch-up');
        await waitFor(() => subscription.stats().caughtUp, 'caught up');
        await store.append(`${category}-1`, [event('D')], { expectedRevision: 1 });
        await store.append(`${category}-3`, [event('E')], { expectedRevision: 'no_stream' });
        await waitFor(() => received.length === 5, 'live events');
        expect(received.map((e) => e.type)).toEqual(['A', 'B', 'C', 'D', 'E']);
        expect(subscription.checkpoint).toBe(received[4].position);
        const lag = store.getSubscriptionLag().find((stats) => stats.checkpoint === received[4].position);
        expect(lag).toMatchObject({ delivered: 5, stopped: false });
      });

      it('resumes a category subscription after a stored checkpoint', async () => {
        const category = uniqueCategory();
        await store.append(`${category}-1`, [event('A'), event('B'), event('C')], {
          expectedRevision: 'no_stream',
        });
        const first = collect({ category });
        await waitFor(() => first.received.length === 3, 'first run');
        await first.subscription.stop();
        const stored = first.received[1].position;

        await store.append(`${category}-1`, [event('D')], { expectedRevision: 2 });
        const resumed = collect({ category }, stored);
        await waitFor(() => resumed.received.length === 2, 'resumed run');
        expect(resumed.received.map((e) => e.type)).toEqual(['C', 'D']);
      });

      it('subscribing to all delivers events of every category', async () => {
        const markerCategory = uniqueCategory();
        const marker = await store.append(`${markerCategory}-m`, [event('Marker')], {
          expectedRevision: 'any',
        });
        const a = uniqueCategory();
        const b = uniqueCategory();
        const { received } = collect({ all: true }, marker.position);
        await store.append(`${a}-1`, [event('A')], { expectedRevision: 'any' });
        await store.append(`${b}-1`, [event('B')], { expectedRevision: 'any' });
        await waitFor(
          () => received.filter((e) => e.streamName === `${a}-1` || e.streamName === `${b}-1`).length === 2,
          'both categories',
        );
        const mine = received.filter((e) => e.streamName === `${a}-1` || e.streamName === `${b}-1`);
        expect(mine.map((e) => e.type)).toEqual(['A', 'B']);
      });

      it('from the end delivers only new events', async () => {
        const category = uniqueCategory();
        await store.append(`${category}-1`, [event('Old')], { expectedRevision: 'no_stream' });
        // 'end' is the end of what readers can see: a store that shows events only once every earlier
        // transaction ended (PostgreSQL) may still hide Old for a moment, and would then deliver it as new.
        for (const until = Date.now() + 20_000; (await store.readAll({ filter: { category } })).length < 1;) {
          if (Date.now() > until) throw new Error('Timed out waiting for Old to become visible');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const { received, subscription } = collect({ category }, 'end');
        await waitFor(() => subscription.stats().caughtUp, 'caught up');
        await store.append(`${category}-1`, [event('New')], { expectedRevision: 0 });
        await waitFor(() => received.length === 1, 'the new event');
        expect(received[0].type).toBe('New');
      });

      it('stops and reports when the handler throws, keeping the last handled checkpoint', async () => {
        const category = uniqueCategory();
        await store.append(`${category}-1`, [event('A'), event('Poison'), event('C')], {
          expectedRevision: 'no_stream',
        });
        const errors: unknown[] = [];
        const handled: string[] = [];
        const subscription = store.subscribe(
          { category },
          {
            handler: (recorded) => {
              if (recorded.type === 'Poison') throw new Error('handler failed');
              handled.push(recorded.type);
            },
            onError: (error) => errors.push(error),
          },
        );
        subscriptions.push(subscription);
        await waitFor(() => errors.length === 1, 'onError');
        expect((errors[0] as Error).message).toBe('handler failed');
        expect(handled).toEqual(['A']);
        expect(subscription.stats().stopped).toBe(true);
        const [first] = await store.readStream(`${category}-1`, { limit: 1 });
        expect(subscription.checkpoint).toBe(first.position);
      });

      const dropTest = harnessHasDrop(testOptions) ? it : it.skip;
      if (!harnessHasDrop(testOptions)) {
        // eslint-disable-next-line no-console -- a skipped test must print why (house rule)
        console.warn(`[${name}] skipping "survives a dropped connection": ${testOptions.noDropReason}`);
      }
      dropTest('keeps delivering after its connections are killed', async () => {
        if (!harness.dropConnections) throw new Error(`${name}: dropConnections missing from the harness`);
        const category = uniqueCategory();
        const stream = `${category}-1`;
        await store.append(stream, [event('Before')], { expectedRevision: 'no_stream' });
        const { received } = collect({ category });
        await waitFor(() => received.length === 1, 'first event');
        expect(await harness.dropConnections()).toBeGreaterThan(0);
        // Appends may hit a killed pooled connection: retrying is safe because the event id makes it idempotent.
        const after = event('After');
        for (let attempt = 0; ; attempt += 1) {
          try {
            await store.append(stream, [after], { expectedRevision: 0 });
            break;
          } catch (error) {
            if (!(error instanceof EventStoreUnavailableError) || attempt > 20) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
        await waitFor(() => received.length === 2, 'event after the drop', 30_000);
        expect(received.map((e) => e.type)).toEqual(['Before', 'After']);
        expect(await store.readStream(stream)).toHaveLength(2);
      });
    });

    describe('stream metadata', () => {
      it('stores custom metadata and honours truncateBefore', async () => {
        const stream = `${uniqueCategory()}-meta`;
        expect(await store.getStreamMetadata(stream)).toEqual({});
        await store.append(
          stream,
          Array.from({ length: 4 }, (_, i) => event(`E${i}`)),
          { expectedRevision: 'no_stream' },
        );
        await store.setStreamMetadata(stream, {
          truncateBefore: 2,
          owner: 'auditors',
          retention: { days: 30 },
        });
        expect(await store.getStreamMetadata(stream)).toMatchObject({
          truncateBefore: 2,
          owner: 'auditors',
          retention: { days: 30 },
        });
        const events = await store.readStream(stream);
        expect(events.map((e) => e.type)).toEqual(['E2', 'E3']);
        const backwards = await store.readStream(stream, { direction: 'backwards' });
        expect(backwards.map((e) => e.type)).toEqual(['E3', 'E2']);
      });

      it('hides events older than maxAge', async () => {
        const stream = `${uniqueCategory()}-meta`;
        await store.append(stream, [event('Old')], { expectedRevision: 'no_stream' });
        await store.setStreamMetadata(stream, { maxAge: 1 });
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await store.append(stream, [event('Fresh')], { expectedRevision: 0 });
        const events = await store.readStream(stream);
        expect(events.map((e) => e.type)).toEqual(['Fresh']);
      });
    });

    describe('serialization', () => {
      it('upcasts old schema versions on read and keeps the stored version in metadata', async () => {
        const upcasters: Upcasters = {
          ContactChanged: (data, fromVersion) => {
            if (fromVersion >= 2) return data;
            const old = data as { name: string };
            const [firstName, lastName] = old.name.split(' ');
            return { firstName, lastName };
          },
        };
        const withUpcasters = (await open({ upcasters })).store;
        const stream = `${uniqueCategory()}-contact`;
        await withUpcasters.append(
          stream,
          [
            event('ContactChanged', { name: 'Ada Lovelace' }, { schemaVersion: 1 }),
            event('ContactChanged', { firstName: 'Grace', lastName: 'Hopper' }, { schemaVersion: 2 }),
            event('Unrelated', { name: 'x y' }),
          ],
          { expectedRevision: 'no_stream' },
        );
        const events = await withUpcasters.readStream(stream);
        expect(events.map((e) => e.data)).toEqual([
          { firstName: 'Ada', lastName: 'Lovelace' },
          { firstName: 'Grace', lastName: 'Hopper' },
          { name: 'x y' },
        ]);
        expect(events.map((e) => e.metadata.schemaVersion)).toEqual([1, 2, 1]);
      });

      it('reports a failing upcaster with a typed error', async () => {
        const failing = (
          await open({
            upcasters: {
              Broken: () => {
                throw new Error('cannot upcast');
              },
            },
          })
        ).store;
        const stream = `${uniqueCategory()}-broken`;
        await failing.append(stream, [event('Broken', { a: 1 })], { expectedRevision: 'no_stream' });
        await expect(failing.readStream(stream)).rejects.toMatchObject({ code: 'EVENT_STORE.UPCAST_FAILED' });
      });
    });
  });
}

function harnessHasDrop(options: EventStoreTestOptions): boolean {
  return options.noDropReason === undefined;
}
