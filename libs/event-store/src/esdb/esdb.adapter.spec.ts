import { randomUUID } from 'node:crypto';
import {
  AccessDeniedError,
  ANY,
  CancelledError,
  DeadlineExceededError,
  EventStoreDBClient,
  MaxAppendSizeExceededError,
  UnavailableError,
  UnknownError,
  type AllStreamRecordedEvent,
  type Filter,
} from '@eventstore/db-client';
import pino from 'pino';
import { EventStoreUnavailableError, StreamNotFoundError, WrongExpectedVersionError } from '../errors';
import { createEventStore } from '../factory';
import { TracedEventStore } from '../tracing';
import type { EventData, RecordedEvent, Subscription } from '../types';
import { EsdbEventStore } from './esdb.adapter';
import { FakeEsdbClient, type FakeSubscription } from './fake-esdb-client.test-helpers';

const URL = 'esdb://eventstore.test:2113?tls=false';
const logger = pino({ level: 'silent' });
/** What `13 INTERNAL: Received RST_STREAM` becomes in the 6.x client (no specific status mapping). */
const rstStream = (): UnknownError =>
  new UnknownError(
    undefined,
    '13 INTERNAL: Received RST_STREAM with code 2 triggered by internal client error',
  );

function event(type: string, data: unknown = {}): EventData {
  return { id: randomUUID(), type, data, metadata: { schemaVersion: 1 } };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets the fake's pending ticks (subscription start, replay) run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('EventStoreDB adapter against a fake of @eventstore/db-client', () => {
  let fake: FakeEsdbClient;
  const stores: EsdbEventStore[] = [];
  const open = (options: ConstructorParameters<typeof EsdbEventStore>[1] = {}): EsdbEventStore => {
    const store = new EsdbEventStore(URL, { logger, ...options });
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    fake = FakeEsdbClient.install();
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    jest.restoreAllMocks();
  });

  describe('start-up (defect 1)', () => {
    it('waits while the server is unavailable, within startupTimeoutMs', async () => {
      fake.failNext.readAll = [new UnavailableError(), new UnavailableError()];
      const store = await createEventStore(URL, { logger, startupTimeoutMs: 10_000 });
      stores.push(store as EsdbEventStore);
      expect(fake.callsOf('readAll')).toHaveLength(3);
    });

    it('gives up with EventStoreUnavailableError once startupTimeoutMs has passed, and closes the client', async () => {
      fake.unavailable = true;
      const started = Date.now();
      await expect(createEventStore(URL, { logger, startupTimeoutMs: 400 })).rejects.toBeInstanceOf(
        EventStoreUnavailableError,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(fake.callsOf('readAll').length).toBeGreaterThan(1);
      expect(fake.disposed).toBe(true);
    });
  });

  describe('category reads (defect 2)', () => {
    const seed = (): AllStreamRecordedEvent[] => {
      fake.record('$stats-node', [{ id: randomUUID(), type: '$statsCollected', data: {} }]);
      const [first] = fake.record('tenant-a', [
        { id: randomUUID(), type: 'TenantRequested', data: { n: 1 } },
      ]);
      // A foreign program's binary, non-JSON event in $all.
      fake.record('billing-x', [
        {
          id: randomUUID(),
          type: 'Invoice',
          data: Buffer.from('<xml/>'),
          isJson: false,
          metadata: undefined,
        },
      ]);
      const [second] = fake.record('tenant-b', [
        { id: randomUUID(), type: 'TenantRequested', data: { n: 2 } },
      ]);
      fake.record('other-1', [{ id: randomUUID(), type: 'Other', data: {} }]);
      return [first, second];
    };

    it('filters on the server by stream-name prefix and never transfers or parses foreign events', async () => {
      const [first, second] = seed();
      const store = open();
      const events = await store.readAll({ filter: { category: 'tenant' } });
      expect(events.map((e) => [e.streamName, e.data])).toEqual([
        ['tenant-a', { n: 1 }],
        ['tenant-b', { n: 2 }],
      ]);
      expect(events.map((e) => e.id)).toEqual([first.id, second.id]);
      expect(fake.scanned).toBe(0);
      const filters = fake
        .callsOf('subscribeToAll')
        .map(([options]) => (options as { filter: Filter }).filter);
      expect(filters).toEqual([expect.objectContaining({ filterOn: 'streamName', prefixes: ['tenant-'] })]);
      expect(fake.open()).toHaveLength(0);
    });

    it('honours after and limit, and an unfiltered read skips non-JSON and system events', async () => {
      const [first, second] = seed();
      const store = open();
      const after = (await store.readAll({ filter: { category: 'tenant' }, limit: 1 }))[0];
      expect(after.id).toBe(first.id);
      const rest = await store.readAll({ filter: { category: 'tenant' }, after: after.position });
      expect(rest.map((e) => e.id)).toEqual([second.id]);
      const all = await store.readAll();
      expect(all.map((e) => e.streamName)).toEqual(['tenant-a', 'tenant-b', 'other-1']);
    });

    it('ends on the last event that existed when the read began, for servers that send no caughtUp', async () => {
      seed();
      fake.sendsCaughtUp = false;
      fake.record('tenant-c', [{ id: randomUUID(), type: 'TenantRequested', data: { n: 3 } }]);
      const events = await open().readAll({ filter: { category: 'tenant' } });
      expect(events.map((e) => e.streamName)).toEqual(['tenant-a', 'tenant-b', 'tenant-c']);
    });
  });

  describe('subscriptions (defects 3 and 7)', () => {
    const subscribe = (
      store: EsdbEventStore,
      category = 'tenant',
    ): { received: RecordedEvent[]; errors: unknown[]; subscription: Subscription } => {
      const received: RecordedEvent[] = [];
      const errors: unknown[] = [];
      const subscription = store.subscribe(
        { category },
        { handler: (e) => void received.push(e), onError: (error) => errors.push(error), name: 'test' },
      );
      return { received, errors, subscription };
    };
    const current = (): FakeSubscription => fake.subscriptions[fake.subscriptions.length - 1];

    it.each([
      ['UnknownError (13 INTERNAL: RST_STREAM)', rstStream],
      ['UnavailableError', () => new UnavailableError(undefined, '14 UNAVAILABLE: Connection dropped')],
      ['DeadlineExceededError', () => new DeadlineExceededError(undefined, '4 DEADLINE_EXCEEDED')],
      ['CancelledError', () => new CancelledError(undefined, '1 CANCELLED: server shutting down')],
    ])('resubscribes after %s from the last handled event, without reporting it', async (_name, error) => {
      const [first] = fake.record('tenant-a', [{ id: randomUUID(), type: 'A', data: {} }]);
      const { received, errors, subscription } = subscribe(open());
      await waitFor(() => received.length === 1, 'first event');
      current().fail(error());
      await waitFor(() => fake.subscriptions.length === 2, 'resubscription');
      expect(current().fromPosition).toEqual(first.position);
      fake.record('tenant-a', [{ id: randomUUID(), type: 'B', data: {} }]);
      await waitFor(() => received.length === 2, 'event after the drop');
      expect(received.map((e) => e.type)).toEqual(['A', 'B']);
      expect(errors).toEqual([]);
      expect(subscription.stats().stopped).toBe(false);
    });

    it('from the end, delivers only events appended after it started, across a drop', async () => {
      fake.record('tenant-a', [{ id: randomUUID(), type: 'Old', data: {} }]);
      const received: RecordedEvent[] = [];
      open().subscribe(
        { category: 'tenant' },
        { fromCheckpoint: 'end', handler: (e) => void received.push(e) },
      );
      await waitFor(() => fake.subscriptions.length === 1, 'subscribe');
      current().fail(new UnavailableError());
      fake.record('tenant-a', [{ id: randomUUID(), type: 'DuringOutage', data: {} }]);
      await waitFor(() => received.length === 1, 'event appended during the outage');
      expect(received.map((e) => e.type)).toEqual(['DuringOutage']);
    });

    it('retries a subscription that cannot even start, with backoff', async () => {
      fake.failNext.subscribeToAll = [rstStream(), new UnavailableError()];
      fake.record('tenant-a', [{ id: randomUUID(), type: 'A', data: {} }]);
      const { received, errors } = subscribe(open());
      await waitFor(() => received.length === 1, 'event after two failed starts');
      expect(fake.subscriptions).toHaveLength(3);
      expect(errors).toEqual([]);
    });

    it('stops for good on access denied, reporting a client error once', async () => {
      const { errors, subscription } = subscribe(open());
      await waitFor(() => fake.subscriptions.length === 1, 'subscribe');
      current().fail(new AccessDeniedError(undefined, '7 PERMISSION_DENIED: Access denied'));
      await waitFor(() => errors.length === 1, 'onError');
      await settle();
      expect(errors[0]).toBeInstanceOf(AccessDeniedError);
      expect(fake.subscriptions).toHaveLength(1);
      expect(subscription.stats().stopped).toBe(true);
    });

    it("reports the handler's own error, and does not retry it", async () => {
      fake.record('tenant-a', [{ id: randomUUID(), type: 'A', data: {} }]);
      const failure = new Error('handler broke');
      const errors: unknown[] = [];
      open().subscribe(
        { category: 'tenant' },
        {
          handler: () => {
            throw failure;
          },
          onError: (error) => errors.push(error),
        },
      );
      await waitFor(() => errors.length === 1, 'onError');
      await settle();
      expect(errors).toEqual([failure]);
      expect(fake.subscriptions).toHaveLength(1);
    });

    it('saves the checkpoints the server reports, and resumes after them', async () => {
      fake.record('other-1', [
        { id: randomUUID(), type: 'X', data: {} },
        { id: randomUUID(), type: 'Y', data: {} },
      ]);
      const last = fake.log[fake.log.length - 1];
      const { subscription } = subscribe(open());
      await waitFor(() => subscription.checkpoint !== undefined, 'checkpoint');
      expect(subscription.checkpoint).toBe(
        `${last.position.commit.toString().padStart(20, '0')}:${last.position.prepare.toString().padStart(20, '0')}`,
      );
      current().fail(rstStream());
      await waitFor(() => fake.subscriptions.length === 2, 'resubscription');
      expect(current().fromPosition).toEqual(last.position);
    });

    it('is not caught up after fellBehind or a reconnect, so its lag is not 0 while behind', async () => {
      fake.record('tenant-a', [
        { id: randomUUID(), type: 'A', data: {}, created: new Date(Date.now() - 60_000) },
      ]);
      const { received, subscription } = subscribe(open());
      await waitFor(() => subscription.stats().caughtUp, 'caughtUp');
      expect(received).toHaveLength(1);
      expect(subscription.stats().lagMs).toBe(0);
      current().fellBehind();
      await waitFor(() => !subscription.stats().caughtUp, 'fellBehind');
      expect(subscription.stats().lagMs).toBeGreaterThanOrEqual(60_000);
      current().caughtUp();
      await waitFor(() => subscription.stats().caughtUp, 'caught up again');
      fake.sendsCaughtUp = false;
      current().fail(new UnavailableError());
      await waitFor(() => fake.subscriptions.length === 2, 'resubscription');
      await settle();
      expect(subscription.stats().caughtUp).toBe(false);
      expect(subscription.stats().lagMs).toBeGreaterThanOrEqual(60_000);
    });
  });

  describe('errors of one-shot calls (defects 3 and 7)', () => {
    it('maps transport errors, RST_STREAM included, to EventStoreUnavailableError', async () => {
      const store = open();
      fake.failNext.appendToStream = [rstStream()];
      await expect(
        store.append('tenant-a', [event('A')], { expectedRevision: 'no_stream' }),
      ).rejects.toBeInstanceOf(EventStoreUnavailableError);
      fake.failNext.readStream = [new UnavailableError()];
      await expect(store.readStream('tenant-a')).rejects.toBeInstanceOf(EventStoreUnavailableError);
      fake.record('tenant-b', [{ id: randomUUID(), type: 'A', data: {} }]);
      fake.failNext.subscribeToAll = [rstStream()];
      await expect(store.readAll({ filter: { category: 'tenant' } })).rejects.toBeInstanceOf(
        EventStoreUnavailableError,
      );
    });

    it('maps a hard-deleted stream: appends refuse with STREAM_DELETED, reads see no stream', async () => {
      const store = open();
      fake.tombstoned.add('tenant-gone');
      await expect(
        store.append('tenant-gone', [event('A')], { expectedRevision: 'any' }),
      ).rejects.toMatchObject({
        code: 'EVENT_STORE.STREAM_DELETED',
        stream: 'tenant-gone',
      });
      await expect(store.append('tenant-gone', [event('A')], { expectedRevision: 3 })).rejects.toMatchObject({
        code: 'EVENT_STORE.STREAM_DELETED',
      });
      await expect(store.readStream('tenant-gone')).rejects.toBeInstanceOf(StreamNotFoundError);
    });
  });

  describe('idempotent any / stream_exists appends (defect 4)', () => {
    it('reads raw ids without upcasting, then appends the new ones at the exact revision', async () => {
      const store = open({
        upcasters: {
          Broken: () => {
            throw new Error('this upcaster fails on every read');
          },
        },
      });
      fake.record('tenant-a', [{ id: randomUUID(), type: 'Broken', data: {} }]);
      const known = event('Known');
      await store.append('tenant-a', [known], { expectedRevision: 'any' });
      const result = await store.append('tenant-a', [known, event('New')], { expectedRevision: 'any' });
      expect(result.nextExpectedRevision).toBe(2);
      expect(fake.streamEvents('tenant-a').map((e) => e.type)).toEqual(['Broken', 'Known', 'New']);
      const revisions = fake
        .callsOf('appendToStream')
        .map(([, , options]) => (options as { expectedRevision: unknown }).expectedRevision);
      expect(revisions).toEqual([0n, 1n]);
      expect(revisions).not.toContain(ANY);
    });

    it('reads again and retries when another writer appended in between', async () => {
      const store = open();
      fake.record('tenant-a', [{ id: randomUUID(), type: 'First', data: {} }]);
      const mine = event('Mine');
      let raced = false;
      fake.beforeAppend = (stream) => {
        if (raced) return;
        raced = true;
        fake.record(stream, [{ id: randomUUID(), type: 'Theirs', data: {} }]);
      };
      const result = await store.append('tenant-a', [mine], { expectedRevision: 'stream_exists' });
      expect(result.nextExpectedRevision).toBe(2);
      expect(fake.streamEvents('tenant-a').map((e) => e.type)).toEqual(['First', 'Theirs', 'Mine']);
      // Retrying the same command later appends nothing.
      const again = await store.append('tenant-a', [mine], { expectedRevision: 'any' });
      expect(again.nextExpectedRevision).toBe(2);
      expect(fake.streamEvents('tenant-a')).toHaveLength(3);
    });

    it('stream_exists on a missing stream is a conflict, any creates it with no_stream', async () => {
      const store = open();
      await expect(
        store.append('tenant-new', [event('A')], { expectedRevision: 'stream_exists' }),
      ).rejects.toBeInstanceOf(WrongExpectedVersionError);
      await store.append('tenant-new', [event('A')], { expectedRevision: 'any' });
      const [, , options] = fake.callsOf('appendToStream').at(-1) ?? [];
      expect(options).toEqual({ expectedRevision: 'no_stream' });
    });
  });

  describe('append size (defect 5)', () => {
    const big = (): EventData => event('Big', { blob: 'x'.repeat(600 * 1024) });

    it('refuses a batch over the 1 MiB default with APPEND_TOO_LARGE before sending it', async () => {
      const store = open();
      await expect(
        store.append('tenant-a', [big(), big()], { expectedRevision: 'no_stream' }),
      ).rejects.toMatchObject({ code: 'EVENT_STORE.APPEND_TOO_LARGE', maxBytes: 1024 * 1024 });
      expect(fake.callsOf('appendToStream')).toHaveLength(0);
      await store.append('tenant-a', [big()], { expectedRevision: 'no_stream' });
      expect(fake.streamEvents('tenant-a')).toHaveLength(1);
    });

    it("maps the server's MaxAppendSizeExceededError when its limit is lower", async () => {
      fake.maxAppendSize = 1000;
      const store = open();
      const error: unknown = await store
        .append('tenant-a', [event('A', { text: 'y'.repeat(2000) })], { expectedRevision: 'any' })
        .catch((caught: unknown) => caught);
      expect(error).not.toBeInstanceOf(MaxAppendSizeExceededError);
      expect(error).toMatchObject({ code: 'EVENT_STORE.APPEND_TOO_LARGE', maxBytes: 1000 });
    });
  });

  describe('empty appends (defect 7)', () => {
    it('answer "no stream" (-1) for a missing stream and the current revision otherwise, appending nothing', async () => {
      const store = open();
      expect((await store.append('tenant-a', [], { expectedRevision: 'any' })).nextExpectedRevision).toBe(-1);
      expect(
        (await store.append('tenant-a', [], { expectedRevision: 'no_stream' })).nextExpectedRevision,
      ).toBe(-1);
      await expect(
        store.append('tenant-a', [], { expectedRevision: 'stream_exists' }),
      ).rejects.toBeInstanceOf(WrongExpectedVersionError);
      fake.record('tenant-a', [
        { id: randomUUID(), type: 'A', data: {} },
        { id: randomUUID(), type: 'B', data: {} },
      ]);
      expect((await store.append('tenant-a', [], { expectedRevision: 1 })).nextExpectedRevision).toBe(1);
      await expect(store.append('tenant-a', [], { expectedRevision: 0 })).rejects.toMatchObject({
        actual: 1,
      });
      expect(fake.streamEvents('tenant-a')).toHaveLength(2);
    });
  });

  it('picks the EventStoreDB adapter for DNS-discovered clusters too (defect 6)', async () => {
    for (const url of ['esdb+discover://cluster.test:2113', 'kurrentdb+discover://cluster.test:2113']) {
      const store = await createEventStore(url, { logger });
      expect((store as TracedEventStore).adapter).toBeInstanceOf(EsdbEventStore);
      await store.close();
    }
    expect(jest.mocked(EventStoreDBClient.connectionString).mock.calls.map(([url]) => url)).toEqual([
      'esdb+discover://cluster.test:2113',
      'esdb+discover://cluster.test:2113',
    ]);
  });
});
