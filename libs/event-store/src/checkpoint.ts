import { InvalidEventStoreArgumentError } from './errors';
import type { Checkpoint } from './types';

const PART = /^\d{20}$/;
/** Canonical decimal text as PostgreSQL prints int8/xid8, usable without a BigInt round trip. */
const DIGITS = /^(0|[1-9]\d{0,19})$/;

/** Zero-pads each part to 20 digits (enough for an unsigned 64-bit value) so lexical order is numeric order. */
export function encodeCheckpoint(...parts: readonly (bigint | number | string)[]): Checkpoint {
  return parts
    .map((part) =>
      (typeof part === 'string' && DIGITS.test(part) ? part : BigInt(part).toString()).padStart(20, '0'),
    )
    .join(':');
}

export function decodeCheckpoint(checkpoint: Checkpoint, partCount: number): bigint[] {
  const parts = typeof checkpoint === 'string' ? checkpoint.split(':') : [];
  if (parts.length !== partCount || !parts.every((part) => PART.test(part))) {
    throw new InvalidEventStoreArgumentError(`Malformed checkpoint ${JSON.stringify(checkpoint)}`);
  }
  return parts.map((part) => BigInt(part));
}

/** Negative, zero or positive like a sort comparator; valid for two checkpoints of the same store. */
export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
