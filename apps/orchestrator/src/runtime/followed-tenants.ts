/**
 * What the orchestrator process remembers per tenant between passes: the revision decided last, the next
 * deadline, failed passes in a row, purges the guardrails hold. Everything is rebuilt from the streams on
 * start; purged tenants are dropped so that a fleet's churn does not grow the process's memory.
 */

/**
 * Purged tenants whose last decided revision is still remembered after their state was dropped: the events
 * the orchestrator appended on their way to purged come back through the subscription just after, and need
 * no read of their stream. Bounded, oldest forgotten first.
 */
const RECENTLY_PURGED_MAX = 1024;
/** A tenant whose pass keeps failing is tried again at most this far apart. */
const FAILED_PASS_RETRY_MAX_MS = 30_000;

/** The outcome of one pass, as far as this memory is concerned. */
export interface PassOutcome {
  /** The last revision the pass decided on. */
  revision: number;
  /** Purged, with no timer, no running step and no held purge: nothing more to decide without a new event. */
  finished: boolean;
  nextDeadline: Date | undefined;
  purgeHeld: boolean;
}

export class FollowedTenants {
  /**
   * The last revision decided, per tenant followed. A purged tenant is not followed: it has nothing left to
   * decide, so everything about it is dropped (see `forgetPurged`); an event for it later, if any, finds no
   * entry here and makes the next pass read its stream again (a reconcile), as for a tenant never seen.
   */
  private readonly processedRevision = new Map<string, number>();
  /** Dropped purged tenants, with the revision decided last (bounded: RECENTLY_PURGED_MAX). */
  private readonly recentlyPurged = new Map<string, number>();
  private readonly deadlines = new Map<string, number>();
  /** Tenants whose last pass failed, with how many times in a row: their next pass reconciles. */
  private readonly failures = new Map<string, number>();
  /** Tenants whose purge the guardrails hold: an operator's breaker reset wakes them at once. */
  private readonly held = new Set<string>();

  get followed(): number {
    return this.processedRevision.size;
  }

  /** The revision decided last (-1: none); events at or below it need no new pass. */
  decided(tenantId: string): number {
    return this.processedRevision.get(tenantId) ?? this.recentlyPurged.get(tenantId) ?? -1;
  }

  /** Whether the next pass must read the whole stream: a tenant not followed, or whose last pass failed. */
  needsReconcile(tenantId: string): boolean {
    return !this.processedRevision.has(tenantId) || this.failures.has(tenantId);
  }

  passed(tenantId: string, outcome: PassOutcome): void {
    if (outcome.finished) {
      this.forgetPurged(tenantId, outcome.revision);
      return;
    }
    this.recentlyPurged.delete(tenantId);
    this.processedRevision.set(tenantId, outcome.revision);
    if (outcome.nextDeadline) this.deadlines.set(tenantId, outcome.nextDeadline.getTime());
    else this.deadlines.delete(tenantId);
    if (outcome.purgeHeld) this.held.add(tenantId);
    else this.held.delete(tenantId);
  }

  reconciled(tenantId: string): void {
    this.failures.delete(tenantId);
  }

  /** A failed pass is retried through the deadlines, with a capped backoff per tenant. */
  failed(tenantId: string, now: number, baseMs: number): { failures: number; retryInMs: number } {
    const failures = (this.failures.get(tenantId) ?? 0) + 1;
    this.failures.set(tenantId, failures);
    const retryInMs = Math.min(FAILED_PASS_RETRY_MAX_MS, baseMs * 2 ** Math.min(failures - 1, 16));
    this.deadlines.set(tenantId, now + retryInMs);
    return { failures, retryInMs };
  }

  /** The tenants whose deadline is at or before `now`, each removed as it is taken (also those set meanwhile). */
  *due(now: number): Generator<string> {
    for (const [tenantId, due] of this.deadlines) {
      if (due > now) continue;
      this.deadlines.delete(tenantId);
      yield tenantId;
    }
  }

  heldPurges(): string[] {
    return [...this.held];
  }

  counts(): { followed: number; deadlines: number; failures: number; held: number; recentlyPurged: number } {
    return {
      followed: this.processedRevision.size,
      deadlines: this.deadlines.size,
      failures: this.failures.size,
      held: this.held.size,
      recentlyPurged: this.recentlyPurged.size,
    };
  }

  /** Whether anything but the recently purged revision is remembered for the tenant. */
  remembers(tenantId: string): boolean {
    return (
      this.processedRevision.has(tenantId) ||
      this.deadlines.has(tenantId) ||
      this.failures.has(tenantId) ||
      this.held.has(tenantId)
    );
  }

  /**
   * A purged tenant with no timer, no running step and no held purge: nothing more will be decided for it
   * unless a new event arrives, so its entries go. `failures` goes with the rest: this pass succeeded.
   */
  private forgetPurged(tenantId: string, revision: number): void {
    this.processedRevision.delete(tenantId);
    this.deadlines.delete(tenantId);
    this.failures.delete(tenantId);
    this.held.delete(tenantId);
    this.recentlyPurged.delete(tenantId);
    this.recentlyPurged.set(tenantId, revision);
    if (this.recentlyPurged.size > RECENTLY_PURGED_MAX) {
      const oldest = this.recentlyPurged.keys().next().value;
      if (oldest !== undefined) this.recentlyPurged.delete(oldest);
    }
  }
}
