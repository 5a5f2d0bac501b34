import {
  buildEvent,
  deterministicId,
  generateTenantId,
  tenantStream,
  type LifecycleEventData,
} from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import { foldTenant, type TenantState } from '@app/lifecycle';
import pino from 'pino';
import { PROFILE } from '../domain/testing';
import {
  DriftScheduler,
  driftSlotOffsetMs,
  driftWindow,
  requestScheduledDriftCheck,
  selectDriftChecks,
  type DriftScheduleConfig,
  type ScheduledTenant,
} from './drift-scheduler';

const DAY_S = 86_400;
const DAY_MS = DAY_S * 1000;
const CONFIG: DriftScheduleConfig = { periodSeconds: DAY_S, maxInFlight: 2, maxBusyCommands: 3 };
const NOW = Date.parse('2025-06-10T12:00:00.000Z');
const ids = Array.from({ length: 6 }, (_, i) => generateTenantId(`Shop ${i}`, `a0000${i}`));

function idle(overrides: Partial<ScheduledTenant> = {}): ScheduledTenant {
  return { active: true, activatedAt: NOW - 30 * DAY_MS, checking: false, busyCommands: 0, ...overrides };
}

describe('drift schedule: spread', () => {
  it('places each tenant at a fixed instant of the period, from its id alone', () => {
    expect(driftSlotOffsetMs(ids[0], DAY_MS)).toBe(driftSlotOffsetMs(ids[0], DAY_MS));
    expect(driftSlotOffsetMs(ids[0], DAY_MS)).not.toBe(driftSlotOffsetMs(ids[1], DAY_MS));
    const { window, startsAt } = driftWindow(ids[0], DAY_MS, NOW);
    expect(startsAt).toBeLessThanOrEqual(NOW);
    expect(NOW - startsAt).toBeLessThan(DAY_MS);
    expect(driftWindow(ids[0], DAY_MS, startsAt + DAY_MS).window).toBe(window + 1);
  });

  it('spreads a fleet evenly over the period', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 2000; i++) {
      const tenantId = generateTenantId(`Fleet shop ${i}`, i.toString(16).padStart(6, '0'));
      buckets[Math.floor((driftSlotOffsetMs(tenantId, DAY_MS) / DAY_MS) * 10)] += 1;
    }
    // 200 per tenth of the day expected; a skewed hash (or the same slot for all) falls far outside.
    for (const count of buckets) {
      expect(count).toBeGreaterThan(140);
      expect(count).toBeLessThan(260);
    }
  });
});

describe('drift schedule: rate limit', () => {
  it('requests the longest waiting due tenants, up to the in-flight limit', () => {
    const tenants = new Map(ids.map((id) => [id, idle()]));
    const picked = selectDriftChecks(tenants, CONFIG, NOW);
    expect(picked).toHaveLength(2);
    const starts = ids.map((id) => ({ id, startsAt: driftWindow(id, DAY_MS, NOW).startsAt }));
    const oldest = starts
      .sort((a, b) => a.startsAt - b.startsAt)
      .slice(0, 2)
      .map((s) => s.id);
    expect(picked.map((p) => p.tenantId)).toEqual(oldest);
    expect(picked[0].window).toBe(driftWindow(picked[0].tenantId, DAY_MS, NOW).window);
  });

  it('counts checks in flight and requested ones against the limit', () => {
    const tenants = new Map(ids.map((id) => [id, idle()]));
    tenants.set(ids[0], idle({ checking: true }));
    expect(selectDriftChecks(tenants, CONFIG, NOW)).toHaveLength(1);
    tenants.set(ids[1], idle({ requestedWindow: 1 }));
    expect(selectDriftChecks(tenants, CONFIG, NOW)).toEqual([]);
  });

  it('starts nothing while other work is above the threshold', () => {
    const tenants = new Map(ids.map((id) => [id, idle()]));
    tenants.set(ids[0], idle({ active: false, busyCommands: 3 }));
    expect(selectDriftChecks(tenants, CONFIG, NOW)).toHaveLength(2);
    tenants.set(ids[1], idle({ busyCommands: 1 }));
    expect(selectDriftChecks(tenants, CONFIG, NOW)).toEqual([]);
  });

  it('skips tenants not active, checked in this window, or activated after it began; off at period 0', () => {
    const [a, b, c, d] = ids;
    const { window, startsAt } = driftWindow(b, DAY_MS, NOW);
    const tenants = new Map([
      [a, idle({ active: false })],
      [b, idle({ lastWindow: window })],
      [c, idle({ activatedAt: NOW })],
      [d, idle()],
    ]);
    expect(selectDriftChecks(tenants, CONFIG, NOW).map((p) => p.tenantId)).toEqual([d]);
    tenants.set(b, idle({ lastWindow: window - 1 }));
    expect(selectDriftChecks(tenants, CONFIG, startsAt).map((p) => p.tenantId)).toContain(b);
    expect(selectDriftChecks(tenants, { ...CONFIG, periodSeconds: 0 }, NOW)).toEqual([]);
  });
});

describe('drift schedule: requests', () => {
  function activeState(tenantId: string): TenantState {
    return {
      ...foldTenant([]),
      status: 'active',
      tenant: { ...PROFILE, tenantId },
      activatedAt: new Date(NOW - 30 * DAY_MS).toISOString(),
    };
  }

  function checked(tenantId: string, window: number, outcome?: 'completed'): TenantState {
    const current = { check: 1, requestedBy: 'schedule', requestedAt: new Date(NOW).toISOString(), window };
    return {
      ...activeState(tenantId),
      drift: {
        checks: 1,
        lastWindow: window,
        current: { ...current, detected: [], ...(outcome ? { outcome } : {}) },
        open: {},
        repaired: 0,
      },
    };
  }

  it('requests at most the limit, the requested ones in flight until their check ends', async () => {
    const requested: { tenantId: string; window: number }[] = [];
    let now = NOW;
    const scheduler = new DriftScheduler(
      CONFIG,
      async (tenantId, window) => {
        requested.push({ tenantId, window });
        return true;
      },
      () => new Date(now),
      pino({ level: 'silent' }),
    );
    for (const id of ids) scheduler.observe(id, activeState(id));
    expect(scheduler.size).toBe(ids.length);
    await scheduler.tick();
    expect(requested).toHaveLength(2);

    now += 5000;
    await scheduler.tick();
    expect(requested).toHaveLength(2);

    // The first one's check is folded and running: still in flight.
    const [first] = requested;
    scheduler.observe(first.tenantId, checked(first.tenantId, first.window));
    now += 5000;
    await scheduler.tick();
    expect(requested).toHaveLength(2);

    // Its check ended: room for one more, and the first is not asked again in the same window.
    scheduler.observe(first.tenantId, checked(first.tenantId, first.window, 'completed'));
    now += 5000;
    await scheduler.tick();
    expect(requested).toHaveLength(3);
    expect(requested.filter((r) => r.tenantId === first.tenantId)).toHaveLength(1);
  });

  it('forgets a purged tenant and asks again after a refused request', async () => {
    let answer = false;
    const asked: string[] = [];
    let now = NOW;
    const scheduler = new DriftScheduler(
      { ...CONFIG, maxInFlight: 1 },
      async (tenantId) => {
        asked.push(tenantId);
        return answer;
      },
      () => new Date(now),
      pino({ level: 'silent' }),
    );
    scheduler.observe(ids[0], activeState(ids[0]));
    await scheduler.tick();
    answer = true;
    now += 5000;
    await scheduler.tick();
    expect(asked).toEqual([ids[0], ids[0]]);
    scheduler.observe(ids[0], { ...activeState(ids[0]), status: 'purged' });
    expect(scheduler.size).toBe(0);
  });

  it('appends one DriftCheckRequested per window, however many instances ask', async () => {
    const store = new MemoryEventStore();
    const tenantId = PROFILE.tenantId;
    const stream = tenantStream(tenantId);
    const meta = { tenantId, correlationId: 'c', actor: 'test' };
    const at = new Date(NOW - 30 * DAY_MS);
    const requestedData: LifecycleEventData['TenantRequested'] = { tenant: PROFILE, source: 'bus' };
    await store.append(
      stream,
      [
        buildEvent('TenantRequested', requestedData, meta, deterministicId('e', '1'), at),
        buildEvent(
          'StepStarted',
          {
            step: 'namespace',
            commandId: 'c1',
            commandType: 'ProvisionNamespace',
            service: 'k8s',
            attempt: 1,
            deadline: at.toISOString(),
            params: {},
          },
          meta,
          deterministicId('e', '2'),
          at,
        ),
        buildEvent('TenantActivated', { activatedAt: at.toISOString() }, meta, deterministicId('e', '3'), at),
      ],
      { expectedRevision: 'no_stream' },
    );
    const now = new Date(NOW);
    // Two instances racing write the same event id: the store keeps one.
    await Promise.all([
      requestScheduledDriftCheck(store, tenantId, 7, now),
      requestScheduledDriftCheck(store, tenantId, 7, now),
    ]);
    expect(await requestScheduledDriftCheck(store, tenantId, 7, now)).toBe(false);
    const events = await store.readStream(stream);
    const checks = events.filter((event) => event.type === 'DriftCheckRequested');
    expect(checks.map((event) => event.data)).toEqual([
      { check: 1, requestedBy: 'schedule', requestedAt: now.toISOString(), window: 7 },
    ]);
    expect(foldTenant(events).status).toBe('active');
    await store.close();
  });
});
