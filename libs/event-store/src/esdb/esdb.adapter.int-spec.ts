import { createEventStore } from '../factory';
import { TracedEventStore } from '../tracing';
import { testEventStore, type EventStoreTestOptions } from '../testing/event-store.contract.test-helpers';
import { startTcpProxy, type TcpProxy } from '../testing/tcp-proxy.test-helpers';
import { EsdbEventStore, toEsdbConnectionString } from './esdb.adapter';

const url = process.env['EVENTSTORE_URL'];
const esdbUrl = url !== undefined && /^(esdb|kurrentdb|kurrent)(\+discover)?:/i.test(url) ? url : undefined;

/**
 * The one node of a plain-text single-node URL, which a TCP relay can stand in for. A cluster (gossip, DNS
 * discovery) hands the client other nodes' addresses, and TLS checks the host name: neither can be relayed.
 */
function relayableNode(candidate: string): { host: string; port: number } | undefined {
  const match = /^(?:esdb|kurrentdb|kurrent):\/\/(?:[^@/]*@)?([^,/?:]+)(?::(\d+))?\/?\?(.*)$/i.exec(
    candidate,
  );
  if (!match || !/(^|&)tls=false(&|$)/i.test(match[3])) return undefined;
  return { host: match[1], port: Number(match[2] ?? 2113) };
}

describe('EventStoreDB connection strings', () => {
  it('maps kurrentdb:// to the esdb:// scheme the 6.x client understands', () => {
    expect(toEsdbConnectionString('kurrentdb://localhost:2113?tls=false')).toBe(
      'esdb://localhost:2113?tls=false',
    );
    expect(toEsdbConnectionString('kurrentdb+discover://a:2113')).toBe('esdb+discover://a:2113');
    expect(toEsdbConnectionString('esdb://localhost:2113')).toBe('esdb://localhost:2113');
  });

  it('picks the EventStoreDB adapter for esdb:// and kurrentdb:// URLs, connecting lazily without startupTimeoutMs', async () => {
    for (const candidate of ['esdb://127.0.0.1:2113?tls=false', 'kurrentdb://127.0.0.1:2113?tls=false']) {
      const store = await createEventStore(candidate);
      expect((store as TracedEventStore).adapter).toBeInstanceOf(EsdbEventStore);
      await store.close();
    }
  });

  it('relays only plain-text single-node URLs', () => {
    expect(relayableNode('esdb://127.0.0.1:2113?tls=false')).toEqual({ host: '127.0.0.1', port: 2113 });
    expect(relayableNode('kurrentdb://admin:changeit@es:2114?tls=false&x=1')).toEqual({
      host: 'es',
      port: 2114,
    });
    expect(relayableNode('esdb://127.0.0.1:2113?tls=true')).toBeUndefined();
    expect(relayableNode('esdb://a:2113,b:2113?tls=false')).toBeUndefined();
    expect(relayableNode('esdb+discover://cluster:2113?tls=false')).toBeUndefined();
  });
});

if (esdbUrl) {
  const node = relayableNode(esdbUrl);
  const proxies: TcpProxy[] = [];
  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
  });
  const options: EventStoreTestOptions = node
    ? {}
    : { noDropReason: `EVENTSTORE_URL is not a plain-text single-node URL, which a TCP relay could cut` };
  testEventStore(
    'eventstoredb',
    async ({ upcasters }) => {
      if (!node) return { store: await createEventStore(esdbUrl, { upcasters, startupTimeoutMs: 30_000 }) };
      // Through a relay the test can cut, as a network failure or a server restart would.
      const proxy = await startTcpProxy(node);
      proxies.push(proxy);
      const relayed = esdbUrl.replace(/:\/\/([^@/]*@)?[^/?]+/, `://$1127.0.0.1:${proxy.port}`);
      const store = await createEventStore(relayed, { upcasters, startupTimeoutMs: 30_000 });
      return { store, dropConnections: () => proxy.dropConnections() };
    },
    options,
  );
} else {
  // eslint-disable-next-line no-console -- a skipped test must print why (house rule)
  console.warn(
    'Skipping the EventStoreDB contract suite: EVENTSTORE_URL is not an esdb:// or kurrentdb:// URL (no ' +
      'EventStoreDB server can run on this machine). Set EVENTSTORE_URL=esdb://127.0.0.1:2113?tls=false to run it ' +
      'against a server.',
  );
  describe.skip('event store contract: eventstoredb (EVENTSTORE_URL is not an EventStoreDB URL)', () => {
    it('runs the contract suite', () => undefined);
  });
}
