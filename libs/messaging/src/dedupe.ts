/**
 * Remembers message ids whose handling completed, so a redelivery (lost ack, publisher resend after a
 * reconnect) is acknowledged without running the handler again. Implementations may be durable; the
 * services also dedupe through the event store (result event ids derive from command ids).
 */
export interface DedupeStore {
  has(key: string): Promise<boolean>;
  add(key: string): Promise<void>;
}

/** Bounded in-process store: forgets the least recently seen ids first. */
export class InMemoryDedupeStore implements DedupeStore {
  private readonly keys = new Map<string, true>();

  constructor(private readonly capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
  }

  async has(key: string): Promise<boolean> {
    if (!this.keys.has(key)) return false;
    this.keys.delete(key);
    this.keys.set(key, true);
    return true;
  }

  async add(key: string): Promise<void> {
    this.keys.delete(key);
    this.keys.set(key, true);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next();
      if (!oldest.done) this.keys.delete(oldest.value);
    }
  }

  get size(): number {
    return this.keys.size;
  }
}
