import { createHash } from 'node:crypto';
import { buildEvent, deterministicId, tenantStream } from '@app/contracts';
import { decideAndAppend, readStreamOrEmpty, type EventStore } from '@app/event-store';
import {
  admitDriftCheck,
  checkInProgress,
  foldTenant,
  isDriftStep,
  isRefusal,
  type TenantState,
} from '@app/lifecycle';
import type { Logger } from 'pino';
import type { Clock } from './clock';

/** The schedule of drift checks: every active tenant once per period, a few at a time, never during provisioning. */
export interface DriftScheduleConfig {
  /** Every active tenant is checked once per period; 0 turns the schedule off (operators may still check). */
  periodSeconds: number;
  /** Checks (and repairs) in flight at most, across every tenant this instance follows. */
  maxInFlight: number;
  /** No check starts while more than this many other commands (provisioning, backups, changes) are in flight. */
  maxBusyCommands: number;
}

/** What the schedule remembers of one tenant, from its last decided state. */
export interface ScheduledTenant {
  active: boolean;
  activatedAt: number;
  /** The last schedule window a check was requested for. */
  lastWindow?: number;
  /** A check or a repair is in flight. */
  checking: boolean;
  /** Commands of the tenant in flight that are not drift work. */
  busyCommands: number;
  /** A check this instance requested and has not seen folded yet (counts as in flight). */
  requestedWindow?: number;
}

/**
 * The tenant's place in the period, from a hash of its id: spread evenly over the period, and the same after a
 * restart or on another instance, so every instance schedules a tenant for the same instant.
 */
export function driftSlotOffsetMs(tenantId: string, periodMs: number): number {
  const hash = createHash('sha256').update(tenantId).digest();
  return Math.floor((hash.readUIntBE(0, 6) / 2 ** 48) * periodMs);
}

/** The tenant's window in force at `now` (its number) and the instant it began. */
export function driftWindow(
  tenantId: string,
  periodMs: number,
  now: number,
): { window: number; startsAt: number } {
  const offset = driftSlotOffsetMs(tenantId, periodMs);
  const window = Math.floor((now - offset) / periodMs);
  return { window, startsAt: offset + window * periodMs };
}

export function scheduledTenantOf(state: TenantState): ScheduledTenant {
  const running = Object.values(state.steps).filter((run) => run.status === 'running');
  const activatedAt = state.activatedAt ? Date.parse(state.activatedAt) : Number.NaN;
  return {
    active: state.status === 'active',
    activatedAt: Number.isNaN(activatedAt) ? Number.POSITIVE_INFINITY : activatedAt,
    ...(state.drift?.lastWindow === undefined ? {} : { lastWindow: state.drift.lastWindow }),
    checking: checkInProgress(state) !== undefined || running.some((run) => isDriftStep(run.step)),
    busyCommands: running.filter((run) => !isDriftStep(run.step)).length,
  };
}

/**
 * The checks to request now: tenants active since before their window began and not yet checked in it, the
 * longest waiting first, as many as the in-flight limit leaves room for, and none while other work is above
 * the threshold (drift checks never compete with provisioning).
 */
export function selectDriftChecks(
  tenants: ReadonlyMap<string, ScheduledTenant>,
  config: DriftScheduleConfig,
  now: number,
): { tenantId: string; window: number }[] {
  if (config.periodSeconds <= 0) return [];
  const periodMs = config.periodSeconds * 1000;
  let busy = 0;
  let inFlight = 0;
  for (const tenant of tenants.values()) {
    busy += tenant.busyCommands;
    if (tenant.checking || tenant.requestedWindow !== undefined) inFlight += 1;
  }
  const room = config.maxInFlight - inFlight;
  if (busy > config.maxBusyCommands || room <= 0) return [];
  const due: { tenantId: string; window: number; startsAt: number }[] = [];
  for (const [tenantId, tenant] of tenants) {
    if (!tenant.active || tenant.checking || tenant.requestedWindow !== undefined) continue;
    const { window, startsAt } = driftWindow(tenantId, periodMs, now);
    if (tenant.lastWindow !== undefined && window <= tenant.lastWindow) continue;
    if (tenant.activatedAt > startsAt) continue;
    due.push({ tenantId, window, startsAt });
  }
  return due
    .sort((a, b) => a.startsAt - b.startsAt || a.tenantId.localeCompare(b.tenantId))
    .slice(0, room)
    .map(({ tenantId, window }) => ({ tenantId, window }));
}

/**
 * Appends the scheduled check of `window` unless the tenant's lifecycle refuses it (not active, a check
 * running) or another instance already did (same event id, and the window counts as checked once folded).
 */
export async function requestScheduledDriftCheck(
  store: EventStore,
  tenantId: string,
  window: number,
  now: Date,
): Promise<boolean> {
  const stream = tenantStream(tenantId);
  return decideAndAppend(store, stream, async () => {
    const events = await readStreamOrEmpty(store, stream);
    const last = events.at(-1);
    const admission = admitDriftCheck(foldTenant(events), {
      requestedBy: 'schedule',
      requestedAt: now.toISOString(),
      window,
    });
    if (!last || isRefusal(admission) || admission.events.length === 0) {
      return { append: [], expectedRevision: 'any', result: false };
    }
    const id = deterministicId(tenantId, 'drift-check', String(window));
    const append = admission.events.map((event) =>
      buildEvent(event.type, event.data, { tenantId, correlationId: id, actor: 'orchestrator' }, id, now),
    );
    return { append, expectedRevision: last.revision, result: true };
  });
}

/** How often the schedule looks for due tenants at most. */
const TICK_MS = 1000;

/**
 * The orchestrator's drift schedule: remembers, per tenant it follows, what the schedule needs (fed after every
 * decision) and requests the due checks on the orchestrator's timer. The checks themselves are the decider's.
 */
export class DriftScheduler {
  private readonly tenants = new Map<string, ScheduledTenant>();
  private lastTick = 0;
  private ticking = false;

  constructor(
    private readonly config: DriftScheduleConfig,
    private readonly request: (tenantId: string, window: number) => Promise<boolean>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  observe(tenantId: string, state: TenantState): void {
    if (state.status === 'purged') {
      this.tenants.delete(tenantId);
      return;
    }
    const next = scheduledTenantOf(state);
    const requested = this.tenants.get(tenantId)?.requestedWindow;
    const folded = next.lastWindow !== undefined && requested !== undefined && next.lastWindow >= requested;
    const pending = requested !== undefined && !folded && next.active;
    this.tenants.set(tenantId, pending ? { ...next, requestedWindow: requested } : next);
  }

  /** Tenants remembered (for tests and logs). */
  get size(): number {
    return this.tenants.size;
  }

  async tick(): Promise<void> {
    const now = this.clock().getTime();
    if (this.ticking || now - this.lastTick < TICK_MS) return;
    this.ticking = true;
    this.lastTick = now;
    try {
      for (const { tenantId, window } of selectDriftChecks(this.tenants, this.config, now)) {
        const tenant = this.tenants.get(tenantId);
        if (tenant) this.tenants.set(tenantId, { ...tenant, requestedWindow: window });
        const requested = await this.request(tenantId, window).catch((error: unknown) => {
          this.logger.warn(
            { err: error, tenantId, window },
            'scheduled drift check not requested; next tick',
          );
          return false;
        });
        const after = this.tenants.get(tenantId);
        if (!requested && after?.requestedWindow === window) {
          // Refused (no longer active, a check already running) or failed: the next observation decides again.
          const { requestedWindow: _dropped, ...rest } = after;
          this.tenants.set(tenantId, rest);
        } else if (requested) {
          this.logger.info({ tenantId, window }, 'scheduled drift check requested');
        }
      }
    } finally {
      this.ticking = false;
    }
  }
}
