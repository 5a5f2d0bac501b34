import { validate as isUuid } from 'uuid';
import { InvalidEventStoreArgumentError } from './errors';
import type { EventData, ExpectedRevision, ReadAllFilter } from './types';

/**
 * Stream names are `<category>-<id>`: the category is a plain word, the id may hold dots, colons, dashes and
 * `@` (host names, UUIDs). The strict pattern keeps names safe in SQL parameters, prefix filters and logs.
 */
const STREAM_NAME = /^[A-Za-z][A-Za-z0-9_]*-[A-Za-z0-9._:@-]{1,200}$/;
const CATEGORY = /^[A-Za-z][A-Za-z0-9_]*$/;
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.:-]{0,199}$/;
const MAX_BATCH = 10_000;

/** Category of a stream: the text before the first '-' (`tenant-abc` → `tenant`). */
export function streamCategory(stream: string): string {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(0, dash);
}

export function assertStreamName(stream: string): void {
  if (typeof stream !== 'string' || !STREAM_NAME.test(stream)) {
    throw new InvalidEventStoreArgumentError(
      `Invalid stream name ${JSON.stringify(stream)}: expected <category>-<id>`,
    );
  }
}

export function assertCategory(category: string): void {
  if (typeof category !== 'string' || !CATEGORY.test(category)) {
    throw new InvalidEventStoreArgumentError(`Invalid category ${JSON.stringify(category)}`);
  }
}

/** Prefix filters may stop anywhere inside a stream name, so they follow the stream-name alphabet. */
export function assertStreamPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !/^[A-Za-z][A-Za-z0-9_.:@-]{0,200}$/.test(prefix)) {
    throw new InvalidEventStoreArgumentError(`Invalid stream prefix ${JSON.stringify(prefix)}`);
  }
}

/** The stream-name prefix a filter stands for (`{ category: 'tenant' }` → `tenant-`). */
export function filterPrefix(filter: ReadAllFilter): string {
  if ('category' in filter) {
    assertCategory(filter.category);
    return `${filter.category}-`;
  }
  assertStreamPrefix(filter.streamPrefix);
  return filter.streamPrefix;
}

export function assertEvents(events: readonly EventData[]): void {
  if (!Array.isArray(events)) throw new InvalidEventStoreArgumentError('events must be an array');
  if (events.length > MAX_BATCH)
    throw new InvalidEventStoreArgumentError(`At most ${MAX_BATCH} events per append`);
  const seen = new Set<string>();
  for (const event of events) {
    if (!event || typeof event.id !== 'string' || !isUuid(event.id)) {
      throw new InvalidEventStoreArgumentError(`Event id must be a UUID, got ${JSON.stringify(event?.id)}`);
    }
    const id = event.id.toLowerCase();
    if (seen.has(id)) throw new InvalidEventStoreArgumentError(`Event id ${id} appears twice in one append`);
    seen.add(id);
    if (typeof event.type !== 'string' || !EVENT_TYPE.test(event.type)) {
      throw new InvalidEventStoreArgumentError(`Invalid event type ${JSON.stringify(event.type)}`);
    }
  }
}

export type NormalizedExpectation =
  { kind: 'exact'; revision: number } | { kind: 'any' } | { kind: 'stream_exists' };

/** `no_stream` is the exact revision -1: a stream with no event sits "at" -1, as in EventStoreDB. */
export function normalizeExpectedRevision(expected: ExpectedRevision): NormalizedExpectation {
  if (expected === 'any' || expected === 'stream_exists') return { kind: expected };
  if (expected === 'no_stream') return { kind: 'exact', revision: -1 };
  const revision = toRevision(expected, 'expectedRevision');
  return { kind: 'exact', revision };
}

export function toRevision(value: number | bigint, name: string): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidEventStoreArgumentError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return n;
}

export function assertLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new InvalidEventStoreArgumentError(`limit must be a positive integer, got ${String(limit)}`);
  }
  return limit;
}
