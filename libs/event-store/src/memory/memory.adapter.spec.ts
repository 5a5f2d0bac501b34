import { testEventStore, event } from '../testing/event-store.contract.test-helpers';
import { MemoryEventStore } from './memory.adapter';
import { createEventStore } from '../factory';
import { streamCategory } from '../streams';
import { compareCheckpoints } from '../checkpoint';
import { UnsupportedEventStoreUrlError } from '../errors';
import { TracedEventStore } from '../tracing';

testEventStore('memory', async ({ upcasters }) => ({ store: new MemoryEventStore({ upcasters }) }), {
  noDropReason: 'the in-memory adapter has no connection to drop',
});

// What createEventStore returns: the adapter behind the tracing decorator, which must change nothing.
testEventStore(
  'memory, traced',
  async ({ upcasters }) => ({ store: new TracedEventStore(new MemoryEventStore({ upcasters })) }),
  { noDropReason: 'the in-memory adapter has no connection to drop' },
);

describe('memory adapter specifics', () => {
  it('keeps stored events independent of the caller objects', async () => {
    const store = new MemoryEventStore();
    const data = { list: [1] };
    await store.append('tenant-a', [event('A', data)], { expectedRevision: 'no_stream' });
    data.list.push(2);
    const [read] = await store.readStream('tenant-a');
    expect(read.data).toEqual({ list: [1] });
    (read.data as { list: number[] }).list.push(3);
    expect((await store.readStream('tenant-a'))[0].data).toEqual({ list: [1] });
  });
});

describe('helpers', () => {
  it('takes the category from the text before the first dash', () => {
    expect(streamCategory('tenant-abc')).toBe('tenant');
    expect(streamCategory('domain-shop-1.example.com')).toBe('domain');
  });

  it('compares checkpoints in log order', () => {
    expect(compareCheckpoints('00000000000000000002', '00000000000000000010')).toBeLessThan(0);
    expect(compareCheckpoints('00000000000000000010', '00000000000000000010')).toBe(0);
  });

  it('picks the adapter from the URL scheme and rejects unknown schemes', async () => {
    const store = await createEventStore('memory:');
    expect(store).toBeInstanceOf(TracedEventStore);
    expect((store as TracedEventStore).adapter).toBeInstanceOf(MemoryEventStore);
    await expect(createEventStore('mysql://localhost/x')).rejects.toBeInstanceOf(
      UnsupportedEventStoreUrlError,
    );
  });
});
