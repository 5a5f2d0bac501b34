import { randomUUID } from 'node:crypto';
import { ConcurrencyExhaustedError, decideAndAppend, readStreamOrEmpty } from './decide-and-append';
import { EventStoreUnavailableError, WrongExpectedVersionError } from './errors';
import { MemoryEventStore } from './memory/memory.adapter';
import type { EventData } from './types';

function event(type: string, data: Record<string, unknown> = {}): EventData {
  return { id: randomUUID(), type, data };
}

/** A counter stream: each decision appends `Incremented` only while the count is below `limit`. */
function incrementBelow(store: MemoryEventStore, stream: string, limit: number, seen: number[] = []) {
  return async () => {
    const events = await readStreamOrEmpty(store, stream);
    seen.push(events.length);
    return {
      append: events.length < limit ? [event('Incremented')] : [],
      expectedRevision: events.length > 0 ? events[events.length - 1].revision : ('no_stream' as const),
      result: events.length,
    };
  };
}

describe('decideAndAppend', () => {
  it('appends what the attempt decided at the revision it read, creating the stream', async () => {
    const store = new MemoryEventStore();
    expect(await decideAndAppend(store, 'counter-1', incrementBelow(store, 'counter-1', 5))).toBe(0);
    expect(await decideAndAppend(store, 'counter-1', incrementBelow(store, 'counter-1', 5))).toBe(1);
    expect((await store.readStream('counter-1')).map((e) => e.type)).toEqual(['Incremented', 'Incremented']);
  });

  it('appends nothing when the attempt decides nothing', async () => {
    const store = new MemoryEventStore();
    await store.append('counter-2', [event('Incremented')], { expectedRevision: 'no_stream' });
    expect(await decideAndAppend(store, 'counter-2', incrementBelow(store, 'counter-2', 1))).toBe(1);
    expect(await store.readStream('counter-2')).toHaveLength(1);
  });

  it('decides again on the new state when another writer appended in between, never on a stale one', async () => {
    const store = new MemoryEventStore();
    const seen: number[] = [];
    const decide = incrementBelow(store, 'counter-3', 2, seen);
    let raced = false;
    const result = await decideAndAppend(store, 'counter-3', async (n) => {
      const decision = await decide();
      if (!raced) {
        raced = true;
        // Two other writers get in between this read and this append.
        await store.append('counter-3', [event('Incremented')], { expectedRevision: 'no_stream' });
        await store.append('counter-3', [event('Incremented')], { expectedRevision: 0 });
      }
      expect(n).toBe(seen.length - 1);
      return decision;
    });
    // The second attempt saw the limit reached and appended nothing: the count never passes the limit.
    expect(seen).toEqual([0, 2]);
    expect(result).toBe(2);
    expect(await store.readStream('counter-3')).toHaveLength(2);
  });

  it('gives up after the configured conflicts with the caller’s error, or its own', async () => {
    const store = new MemoryEventStore();
    await store.append('counter-4', [event('Incremented')], { expectedRevision: 'no_stream' });
    const stale = async () => ({
      append: [event('Incremented')],
      expectedRevision: 'no_stream' as const,
      result: 0,
    });
    const conflicts: string[] = [];
    await expect(
      decideAndAppend(store, 'counter-4', stale, {
        maxConflicts: 3,
        onConflict: (error) => conflicts.push(error.stream),
      }),
    ).rejects.toBeInstanceOf(ConcurrencyExhaustedError);
    expect(conflicts).toEqual(['counter-4', 'counter-4', 'counter-4']);
    await expect(
      decideAndAppend(store, 'counter-4', stale, { maxConflicts: 1, exhausted: () => new Error('busy') }),
    ).rejects.toThrow('busy');
  });

  it('propagates any other error at once', async () => {
    const store = new MemoryEventStore();
    let attempts = 0;
    await expect(
      decideAndAppend(store, 'counter-5', async () => {
        attempts += 1;
        throw new EventStoreUnavailableError('down');
      }),
    ).rejects.toBeInstanceOf(EventStoreUnavailableError);
    expect(attempts).toBe(1);
  });

  it('never calls append for a decision that appends nothing', async () => {
    const store = new MemoryEventStore();
    const append = jest.spyOn(store, 'append');
    const result = await decideAndAppend(store, 'counter-6', async () => ({
      append: [],
      expectedRevision: 41,
      result: 'nothing',
    }));
    expect(result).toBe('nothing');
    expect(append).not.toHaveBeenCalled();
  });

  it('propagates an error of the append that is not a conflict, after one attempt', async () => {
    const store = new MemoryEventStore();
    jest.spyOn(store, 'append').mockRejectedValue(new EventStoreUnavailableError('down'));
    let attempts = 0;
    await expect(
      decideAndAppend(store, 'counter-7', async () => {
        attempts += 1;
        return { append: [event('Incremented')], expectedRevision: 'no_stream' as const, result: 0 };
      }),
    ).rejects.toBeInstanceOf(EventStoreUnavailableError);
    expect(attempts).toBe(1);
  });

  it('does not retry a conflict thrown by the attempt itself (another stream’s append)', async () => {
    const store = new MemoryEventStore();
    let attempts = 0;
    await expect(
      decideAndAppend(store, 'counter-8', async () => {
        attempts += 1;
        throw new WrongExpectedVersionError('other-1', 0, 3);
      }),
    ).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect(attempts).toBe(1);
  });

  it('names the stream and the conflicts to the caller’s error, and refuses a limit below one', async () => {
    const store = new MemoryEventStore();
    await store.append('counter-9', [event('Incremented')], { expectedRevision: 'no_stream' });
    const stale = async () => ({
      append: [event('Incremented')],
      expectedRevision: 'no_stream' as const,
      result: 0,
    });
    const seen: [string, number][] = [];
    await expect(
      decideAndAppend(store, 'counter-9', stale, {
        maxConflicts: 2,
        exhausted: (stream, conflicts) => {
          seen.push([stream, conflicts]);
          return new Error('busy');
        },
      }),
    ).rejects.toThrow('busy');
    expect(seen).toEqual([['counter-9', 2]]);
    await expect(decideAndAppend(store, 'counter-9', stale, { maxConflicts: 0 })).rejects.toBeInstanceOf(
      RangeError,
    );
  });
});

describe('readStreamOrEmpty', () => {
  it('reads as readStream does with the options given, and answers [] for a missing stream', async () => {
    const store = new MemoryEventStore();
    await store.append('counted-1', [event('A'), event('B'), event('C')], { expectedRevision: 'no_stream' });
    expect((await readStreamOrEmpty(store, 'counted-1', { from: 1 })).map((e) => e.type)).toEqual(['B', 'C']);
    const [last] = await readStreamOrEmpty(store, 'counted-1', {
      direction: 'backwards',
      from: 'end',
      limit: 1,
    });
    expect(last.type).toBe('C');
    expect(await readStreamOrEmpty(store, 'never-written-1', { from: 5 })).toEqual([]);
  });
});
