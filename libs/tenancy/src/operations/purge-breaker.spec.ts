import {
  purgeGuardrailSnapshotStream,
  purgeGuardrailStream,
  type GuardrailSnapshotData,
} from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import pino from 'pino';
import { UseCaseError } from '../errors';
import { GetPurgeBreakerStatus } from '../queries/tenant.queries';
import { createTenancyContext, type TenancyContext } from '../tenancy-context';
import { ResetPurgeBreaker } from './operator.commands';
import type { ResetRequest } from './purge-breaker';

const NOW = new Date('2025-06-01T10:00:00.000Z');

describe('PurgeBreaker (operator side of the mass-cancellation breaker)', () => {
  let store: MemoryEventStore;
  let context: TenancyContext;
  /** The breaker's query and command, through the buses. */
  const breaker = {
    status: () => context.queryBus.execute(new GetPurgeBreakerStatus()),
    reset: (request: ResetRequest) => context.commandBus.execute(new ResetPurgeBreaker(request)),
  };

  beforeEach(async () => {
    store = new MemoryEventStore({ logger: pino({ level: 'silent' }) });
    context = await createTenancyContext({ eventStore: store, gracePeriodDays: 30, clock: () => NOW });
  });

  afterEach(() => context.close());

  async function append(type: string, data: unknown): Promise<void> {
    const events = await store.readStream(purgeGuardrailStream()).catch(() => []);
    await store.append(
      purgeGuardrailStream(),
      [{ id: `00000000-0000-4000-8000-${String(events.length).padStart(12, '0')}`, type, data }],
      { expectedRevision: events.length === 0 ? 'no_stream' : events.length - 1 },
    );
  }

  async function code(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    return error instanceof UseCaseError ? error.code : `not a UseCaseError: ${String(error)}`;
  }

  it('is closed with no stream, and refuses a reset then', async () => {
    expect(await breaker.status()).toMatchObject({ open: false, purgesLastHour: 0 });
    expect(await code(breaker.reset({ operator: 'alice', reason: 'x' }))).toBe('GUARDRAIL.BREAKER_NOT_OPEN');
  });

  it('records who reset an open breaker and why, and closes it', async () => {
    await append('PurgePermitted', {
      tenantId: 'a-000001',
      cycle: 1,
      permittedAt: '2025-06-01T09:30:00.000Z',
    });
    await append('PurgePermitted', {
      tenantId: 'b-000002',
      cycle: 1,
      permittedAt: '2025-06-01T08:30:00.000Z',
    });
    const trip = {
      cancellations: 21,
      windowMinutes: 60,
      threshold: 20,
      trippedAt: '2025-06-01T09:45:00.000Z',
    };
    await append('BreakerTripped', trip);
    expect(await breaker.status()).toEqual({
      open: true,
      trippedAt: trip.trippedAt,
      trip,
      lastReset: null,
      purgesLastHour: 1,
    });
    const result = await breaker.reset({
      operator: 'alice',
      reason: '  churn campaign confirmed by billing ',
    });
    const last = (await store.readStream(purgeGuardrailStream())).at(-1);
    expect(last).toMatchObject({
      id: result.eventId,
      type: 'BreakerReset',
      data: { operator: 'alice', reason: 'churn campaign confirmed by billing', resetAt: NOW.toISOString() },
      metadata: { actor: 'operator:alice' },
    });
    expect((await breaker.status()).open).toBe(false);
    expect(await code(breaker.reset({ operator: 'alice', reason: 'again' }))).toBe(
      'GUARDRAIL.BREAKER_NOT_OPEN',
    );
  });

  it('requires a reason', async () => {
    await append('BreakerTripped', {
      cancellations: 2,
      windowMinutes: 60,
      threshold: 1,
      trippedAt: NOW.toISOString(),
    });
    for (const reason of [undefined, '', '   ', 42, 'x'.repeat(501)]) {
      expect(await code(breaker.reset({ operator: 'alice', reason }))).toBe('VALIDATION_FAILED');
    }
    expect((await breaker.status()).open).toBe(true);
  });

  it('checks the operator name like the other operator actions, OIDC names included', async () => {
    await append('BreakerTripped', {
      cancellations: 2,
      windowMinutes: 60,
      threshold: 1,
      trippedAt: NOW.toISOString(),
    });
    for (const operator of ['', 'eve smith', 'x'.repeat(65), 'line\nbreak', 'oidc:']) {
      expect(await code(breaker.reset({ operator, reason: 'genuine' }))).toBe('VALIDATION_FAILED');
    }
    expect((await breaker.status()).open).toBe(true);
    await breaker.reset({ operator: 'oidc:olivia@example.com', reason: 'genuine' });
    expect(await breaker.status()).toMatchObject({
      open: false,
      lastReset: { operator: 'oidc:olivia@example.com' },
    });
  });

  it("starts from the orchestrator's latest snapshot and resets after the events that follow it", async () => {
    const observed = (i: number) => ({ tenantId: `t-00000${i}`, cycle: 1, observedAt: NOW.toISOString() });
    for (let i = 1; i <= 3; i++) await append('CancellationObserved', observed(i));
    const trip = { cancellations: 3, windowMinutes: 60, threshold: 2, trippedAt: '2025-06-01T09:50:00.000Z' };
    // Folded into the snapshot only (the events above say nothing of it): proof the snapshot is read.
    const snapshot: GuardrailSnapshotData = {
      revision: 3,
      takenAt: NOW.toISOString(),
      observed: {},
      permits: { 'a-000001#1': '2025-06-01T09:40:00.000Z', 'b-000002#1': '2025-06-01T07:00:00.000Z' },
      counted: [],
      breaker: { open: true, trip, lastReset: null },
    };
    await store.append(
      purgeGuardrailSnapshotStream(),
      [{ id: '00000000-0000-4000-8000-00000000aaaa', type: 'GuardrailSnapshotTaken', data: snapshot }],
      { expectedRevision: 'no_stream' },
    );
    expect(await breaker.status()).toEqual({
      open: true,
      trippedAt: trip.trippedAt,
      trip,
      lastReset: null,
      purgesLastHour: 1,
    });
    await breaker.reset({ operator: 'alice', reason: 'genuine' });
    const events = await store.readStream(purgeGuardrailStream());
    expect(events.map((e) => [e.revision, e.type])).toEqual([
      [0, 'CancellationObserved'],
      [1, 'CancellationObserved'],
      [2, 'CancellationObserved'],
      [3, 'BreakerReset'],
    ]);
    // Events after the snapshot count too.
    await append('PurgePermitted', {
      tenantId: 'c-000003',
      cycle: 1,
      permittedAt: '2025-06-01T09:55:00.000Z',
    });
    expect(await breaker.status()).toMatchObject({
      open: false,
      purgesLastHour: 2,
      lastReset: { operator: 'alice' },
    });
  });
});
