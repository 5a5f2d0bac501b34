/**
 * The signed webhook requests already accepted, until their timestamp leaves the tolerance window: a request
 * replayed inside the window is refused. Shared by every API replica (PostgreSQL), or in memory when the read
 * model is.
 */
export interface SeenSignatures {
  /** Records `key` until `expiresAtMs`; false when it is already recorded (a replay). Atomic across replicas. */
  remember(key: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
  /** Forgets `key`: the request failed on our side, so billing's retry of the same signed request is let in. */
  forget(key: string): Promise<void>;
  close(): Promise<void>;
}

export const SEEN_SIGNATURES = Symbol('SEEN_SIGNATURES');

export class MemorySeenSignatures implements SeenSignatures {
  private readonly seen = new Map<string, number>();

  async remember(key: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    for (const [known, expiry] of this.seen) if (expiry <= nowMs) this.seen.delete(known);
    if (this.seen.has(key)) return false;
    this.seen.set(key, expiresAtMs);
    return true;
  }

  async forget(key: string): Promise<void> {
    this.seen.delete(key);
  }

  async close(): Promise<void> {
    this.seen.clear();
  }
}
