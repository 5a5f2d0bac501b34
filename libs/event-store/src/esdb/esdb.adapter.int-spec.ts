import { createEventStore } from '../factory';
import { testEventStore } from '../testing/event-store.contract.test-helpers';
import { EsdbEventStore, toEsdbConnectionString } from './esdb.adapter';

const url = process.env['EVENTSTORE_URL'];

describe('EventStoreDB connection strings', () => {
  it('maps kurrentdb:// to the esdb:// scheme the 6.x client understands', () => {
    expect(toEsdbConnectionString('kurrentdb://localhost:2113?tls=false')).toBe(
      'esdb://localhost:2113?tls=false',
    );
    expect(toEsdbConnectionString('kurrentdb+discover://a:2113')).toBe('esdb+discover://a:2113');
    expect(toEsdbConnectionString('esdb://localhost:2113')).toBe('esdb://localhost:2113');
  });

  it('picks the EventStoreDB adapter for esdb:// and kurrentdb:// URLs', async () => {
    for (const candidate of ['esdb://127.0.0.1:2113?tls=false', 'kurrentdb://127.0.0.1:2113?tls=false']) {
      const store = await createEventStore(candidate);
      expect(store).toBeInstanceOf(EsdbEventStore);
      await store.close();
    }
  });
});

if (url) {
  testEventStore(
    'eventstoredb',
    async ({ upcasters }) => ({ store: await createEventStore(url, { upcasters }) }),
    {
      noDropReason: 'connections of the gRPC client cannot be killed from outside the server here',
    },
  );
} else {
  // eslint-disable-next-line no-console -- a skipped test must print why (house rule)
  console.warn(
    'Skipping the EventStoreDB contract suite: EVENTSTORE_URL is not set (no EventStoreDB server can run on this ' +
      'machine). Set EVENTSTORE_URL=esdb://127.0.0.1:2113?tls=false to run it against a server.',
  );
  describe.skip('event store contract: eventstoredb (EVENTSTORE_URL not set)', () => {
    it('runs the contract suite', () => undefined);
  });
}
