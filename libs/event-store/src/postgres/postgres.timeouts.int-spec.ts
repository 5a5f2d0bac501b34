import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import pino from 'pino';
import { startSilentPeer, type SilentPeer } from '../../../../test/support/silent-peer';
import { EventStoreUnavailableError } from '../errors';
import { notifyChannel } from './migrations';
import { PostgresEventStore, type PostgresEventStoreOptions } from './postgres.adapter';
import { ensureTestDatabase, TEST_DATABASE_URL, uniqueSchema } from './test-database.test-helpers';

const logger = pino({ level: 'silent' });

describe('PostgresEventStore bounded waits', () => {
  let peer: SilentPeer;
  const stores: PostgresEventStore[] = [];

  beforeAll(async () => {
    peer = await startSilentPeer();
    await ensureTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
    await peer.close();
  });

  // Loosely typed so that a copy of this suite still compiles against a store without these options.
  function open(url: string, options: Record<string, string | number>): PostgresEventStore {
    const store = new PostgresEventStore(url, {
      logger,
      poolSize: 2,
      ...(options as PostgresEventStoreOptions),
    });
    stores.push(store);
    return store;
  }

  it('gives up connecting to a server that accepts and never answers, as unavailable', async () => {
    const store = open(`postgres://postgres@${peer.address}/provisioning_test`, { connectTimeoutMs: 300 });
    const failure = await store.readStream(`silent-${randomUUID()}`).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EventStoreUnavailableError);
    expect((failure as Error).message).toMatch(/timeout/i);
    expect(peer.accepted()).toBeGreaterThanOrEqual(1);
  }, 10_000);

  it('cancels a statement that waits past the statement timeout (an append behind a held stream lock)', async () => {
    const schema = uniqueSchema('es_timeout');
    const store = open(TEST_DATABASE_URL, { schema, statementTimeoutMs: 300 });
    await store.migrate();
    const stream = `locked-${randomUUID()}`;
    // The append serialises writers of a stream with this advisory lock (see migrations.ts): hold it elsewhere.
    const holder = new Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `${notifyChannel(schema)}:${stream}`,
      ]);
      const failure = await store
        .append(stream, [{ id: randomUUID(), type: 'Waited', data: {} }], { expectedRevision: 'any' })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(EventStoreUnavailableError);
      expect((failure as Error).message).toMatch(/statement timeout/i);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await holder.end();
    }
  }, 15_000);
});
