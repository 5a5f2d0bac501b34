import { deterministicId, tenantStream, type LifecycleEventData } from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import pino from 'pino';
import { UseCaseError } from '@app/tenancy';
import { closeIntakes, startIntake, type Intake } from './intake.test-helpers';

const silent = pino({ level: 'silent' });
const TENANT = 'abc-corporation-7f3a9c';
const SUB = 'sub_abc123';
const NOW = new Date('2025-03-01T10:00:05Z');

function change(event: string, data: Record<string, unknown> = {}, timestamp = '2025-03-01T10:00:00Z') {
  return { event, timestamp, data: { subscription_id: SUB, tenant_id: TENANT, ...data } };
}

describe('billing intake: tier change, suspension, reactivation', () => {
  afterEach(closeIntakes);

  let store: MemoryEventStore;
  let intake: Intake;

  beforeEach(async () => {
    store = new MemoryEventStore({ logger: silent });
    intake = await startIntake(store, {
      gracePeriodDays: 30,
      now: () => NOW,
      randomSuffix: () => '7f3a9c',
    });
    await intake.acceptSubscriptionCreated(
      {
        event: 'subscription.created',
        timestamp: '2025-01-15T10:00:00Z',
        data: {
          subscription_id: SUB,
          customer: { name: 'ABC Corporation', email: 'admin@abc-corp.com' },
          plan: { tier: 'premium', price: 124.99, currency: 'EUR', billing_period: 'monthly' },
          metadata: { region: 'us-east' },
        },
      },
      'webhook',
    );
    // The orchestrator's fold needs the tenant provisioned (a gating step started) before its activation.
    await started('namespace', 'CreateNamespace', 'c0');
    await append('TenantActivated', { activatedAt: NOW.toISOString() });
  });

  async function started(step: string, commandType: string, commandId: string): Promise<void> {
    await append('StepStarted', {
      step,
      commandId,
      commandType,
      service: 'k8s',
      attempt: 1,
      params: {},
      deadline: '2025-03-01T11:00:00Z',
    });
  }

  async function append(type: string, data: unknown): Promise<void> {
    const events = await store.readStream(tenantStream(TENANT));
    const id = deterministicId('test', String(events.length));
    await store.append(tenantStream(TENANT), [{ id, type, data, metadata: { schemaVersion: 1 } }], {
      expectedRevision: events.length - 1,
    });
  }

  async function types(): Promise<string[]> {
    return (await store.readStream(tenantStream(TENANT))).map((event) => event.type);
  }

  async function refusal(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof UseCaseError)) throw new Error(`expected an UseCaseError, got ${String(error)}`);
    return error.code;
  }

  describe('subscription.updated', () => {
    it('appends TierChangeRequested from the current tier, once per delivery', async () => {
      const payload = change('subscription.updated', { plan: { tier: 'business' } });
      const first = await intake.acceptSubscriptionUpdated(payload, 'webhook');
      expect(first).toEqual({
        tenantId: TENANT,
        fromTier: 'premium',
        toTier: 'business',
        status: 'changing',
        duplicate: false,
      });
      const again = await intake.acceptSubscriptionUpdated(payload, 'bus');
      expect(again).toEqual({ ...first, duplicate: true });
      const events = await store.readStream(tenantStream(TENANT));
      const requested = events.filter((e) => e.type === 'TierChangeRequested');
      expect(requested).toHaveLength(1);
      expect(requested[0].data).toEqual<LifecycleEventData['TierChangeRequested']>({
        fromTier: 'premium',
        toTier: 'business',
        requestedBy: 'billing',
      });
      expect(requested[0].id).toBe(
        deterministicId('tier-change-requested', SUB, TENANT, '2025-03-01T10:00:00.000Z'),
      );
    });

    it('refuses a second change while the first is applied, and accepts it once settled', async () => {
      await intake.acceptSubscriptionUpdated(
        change('subscription.updated', { plan: { tier: 'business' } }),
        'webhook',
      );
      const next = change('subscription.updated', { plan: { tier: 'standard' } }, '2025-03-01T11:00:00Z');
      expect(await refusal(intake.acceptSubscriptionUpdated(next, 'webhook'))).toBe(
        'INTAKE.CHANGE_IN_PROGRESS',
      );
      // A refusal that may pass keeps the change in flight; a final one settles it.
      const refused = (retryable: boolean, commandId: string) => ({
        commandId,
        step: 'tier-1:update-quota',
        error: { code: 'K8S.X', message: 'm', retryable },
        attempts: 1,
      });
      await started('tier-1:update-quota', 'UpdateQuota', 'c1');
      await append('QuotaUpdateRefused', refused(true, 'c1'));
      expect(await refusal(intake.acceptSubscriptionUpdated(next, 'webhook'))).toBe(
        'INTAKE.CHANGE_IN_PROGRESS',
      );
      await started('tier-1:update-quota', 'UpdateQuota', 'c2');
      await append('QuotaUpdateRefused', refused(false, 'c2'));
      expect((await intake.acceptSubscriptionUpdated(next, 'webhook')).fromTier).toBe('premium');
    });

    it('answers unchanged for the current tier without appending', async () => {
      const result = await intake.acceptSubscriptionUpdated(
        change('subscription.updated', { plan: { tier: 'premium' } }),
        'webhook',
      );
      expect(result.status).toBe('unchanged');
      expect(await types()).toEqual(['TenantRequested', 'StepStarted', 'TenantActivated']);
    });

    it('refuses an invalid payload, another subscription, an unknown tenant and a tenant in grace', async () => {
      expect(
        await refusal(
          intake.acceptSubscriptionUpdated(
            change('subscription.updated', { plan: { tier: 'gold' } }),
            'webhook',
          ),
        ),
      ).toBe('VALIDATION_FAILED');
      expect(
        await refusal(
          intake.acceptSubscriptionUpdated(
            change('subscription.updated', { plan: { tier: 'business' }, subscription_id: 'sub_other' }),
            'webhook',
          ),
        ),
      ).toBe('INTAKE.SUBSCRIPTION_MISMATCH');
      expect(
        await refusal(
          intake.acceptSubscriptionUpdated(
            change('subscription.updated', { plan: { tier: 'business' }, tenant_id: 'nobody-000000' }),
            'webhook',
          ),
        ),
      ).toBe('INTAKE.TENANT_NOT_FOUND');
      await intake.acceptSubscriptionCancelled(change('subscription.cancelled'), 'webhook');
      expect(
        await refusal(
          intake.acceptSubscriptionUpdated(
            change('subscription.updated', { plan: { tier: 'business' } }),
            'webhook',
          ),
        ),
      ).toBe('INTAKE.TENANT_NOT_ACTIVE');
    });
  });

  describe('subscription.suspended / resumed', () => {
    it('queues a resumption that arrives before the suspension is applied, in order', async () => {
      await intake.acceptSubscriptionSuspended(change('subscription.suspended'), 'webhook');
      const resumed = change('subscription.resumed', {}, '2025-03-02T10:00:00Z');
      expect(await intake.acceptSubscriptionResumed(resumed, 'webhook')).toEqual({
        tenantId: TENANT,
        status: 'active',
        changed: true,
        queued: true,
        duplicate: false,
      });
      const types = (await store.readStream(tenantStream(TENANT))).map((e) => e.type);
      expect(types.slice(-2)).toEqual(['SuspensionRequested', 'ResumptionRequested']);
      // Already heading back to active: a second resumption changes nothing.
      const again = change('subscription.resumed', {}, '2025-03-02T11:00:00Z');
      expect(await intake.acceptSubscriptionResumed(again, 'webhook')).toMatchObject({ changed: false });
    });

    it('suspends an active tenant once, resumes it after the suspension landed', async () => {
      const suspended = change('subscription.suspended', { reason: 'non-payment' });
      expect(await intake.acceptSubscriptionSuspended(suspended, 'webhook')).toEqual({
        tenantId: TENANT,
        status: 'suspended',
        changed: true,
        duplicate: false,
      });
      expect((await intake.acceptSubscriptionSuspended(suspended, 'bus')).duplicate).toBe(true);
      const resumed = change('subscription.resumed', {}, '2025-03-02T10:00:00Z');
      await started('workloads-1:suspend', 'SuspendWorkloads', 'c');
      await append('WorkloadsSuspended', { commandId: 'c', step: 'workloads-1:suspend', outputs: {} });
      expect(await intake.acceptSubscriptionResumed(resumed, 'webhook')).toMatchObject({
        status: 'active',
        changed: true,
      });
      const events = await store.readStream(tenantStream(TENANT));
      expect(events.find((e) => e.type === 'SuspensionRequested')?.data).toEqual({
        reason: 'non-payment',
        requestedBy: 'billing',
      });
      expect(events.filter((e) => e.type === 'ResumptionRequested')).toHaveLength(1);
    });

    it('answers unchanged when already there, and refuses a tenant in its grace period', async () => {
      expect(await intake.acceptSubscriptionResumed(change('subscription.resumed'), 'webhook')).toMatchObject(
        { status: 'active', changed: false },
      );
      await intake.acceptSubscriptionCancelled(change('subscription.cancelled'), 'webhook');
      expect(
        await refusal(intake.acceptSubscriptionSuspended(change('subscription.suspended'), 'webhook')),
      ).toBe('INTAKE.TENANT_NOT_ACTIVE');
    });
  });

  describe('subscription.reactivated', () => {
    it('reactivates a tenant in its grace period, once per delivery', async () => {
      await intake.acceptSubscriptionCancelled(change('subscription.cancelled'), 'webhook');
      const payload = change('subscription.reactivated', {}, '2025-03-05T10:00:00Z');
      expect(await intake.acceptSubscriptionReactivated(payload, 'webhook')).toEqual({
        tenantId: TENANT,
        status: 'reactivating',
        duplicate: false,
      });
      expect((await intake.acceptSubscriptionReactivated(payload, 'bus')).duplicate).toBe(true);
      const events = await store.readStream(tenantStream(TENANT));
      const reactivated = events.filter((e) => e.type === 'TenantReactivated');
      expect(reactivated).toHaveLength(1);
      expect(reactivated[0].data).toEqual({
        subscriptionId: SUB,
        reactivatedAt: NOW.toISOString(),
        requestedAt: '2025-03-05T10:00:00.000Z',
        requestedBy: 'billing',
      });
    });

    it('takes a later cancellation of the reactivated subscription as a new grace period', async () => {
      const first = change('subscription.cancelled', {}, '2025-03-01T10:00:00Z');
      expect((await intake.acceptSubscriptionCancelled(first, 'webhook')).duplicate).toBe(false);
      // A second, distinct cancellation while already in grace records nothing.
      const again = change('subscription.cancelled', {}, '2025-03-02T10:00:00Z');
      expect((await intake.acceptSubscriptionCancelled(again, 'bus')).duplicate).toBe(true);
      await intake.acceptSubscriptionReactivated(
        change('subscription.reactivated', {}, '2025-03-05T10:00:00Z'),
        'webhook',
      );
      // The first cancellation redelivered after the reactivation, and one older than it, stay undone.
      expect((await intake.acceptSubscriptionCancelled(first, 'bus')).duplicate).toBe(true);
      expect((await intake.acceptSubscriptionCancelled(again, 'bus')).duplicate).toBe(true);
      const second = change('subscription.cancelled', {}, '2025-04-01T10:00:00Z');
      const accepted = await intake.acceptSubscriptionCancelled(second, 'webhook');
      expect(accepted).toEqual({
        tenantId: TENANT,
        status: 'deprovisioning',
        deletionDate: '2025-05-01T10:00:00.000Z',
        duplicate: false,
      });
      expect((await intake.acceptSubscriptionCancelled(second, 'bus')).duplicate).toBe(true);
      expect((await types()).filter((type) => /Cancellation|Reactivated/.test(type))).toEqual([
        'CancellationRequested',
        'TenantReactivated',
        'CancellationRequested',
      ]);
    });

    it("orders billing's cancellations by billing's clock only, not by an operator's", async () => {
      // An operator cancels (the server's clock, running ahead of billing's), billing reactivates.
      await append('CancellationRequested', {
        subscriptionId: SUB,
        reason: 'operator',
        requestedAt: '2025-03-20T00:00:00.000Z',
        deletionDate: '2025-04-19T00:00:00.000Z',
        requestedBy: 'operator:alice',
      });
      await intake.acceptSubscriptionReactivated(
        change('subscription.reactivated', {}, '2025-03-05T10:00:00Z'),
        'webhook',
      );
      // Billing's next cancellation is newer than every change billing made: a new grace period.
      const cancelled = change('subscription.cancelled', {}, '2025-03-10T10:00:00Z');
      expect((await intake.acceptSubscriptionCancelled(cancelled, 'webhook')).duplicate).toBe(false);
    });

    it('refuses an active tenant and a tenant whose purge began', async () => {
      const payload = change('subscription.reactivated');
      expect(await refusal(intake.acceptSubscriptionReactivated(payload, 'webhook'))).toBe(
        'INTAKE.NOT_IN_GRACE_PERIOD',
      );
      await intake.acceptSubscriptionCancelled(change('subscription.cancelled'), 'webhook');
      await append('PurgeStarted', { backupId: 'b', startedAt: NOW.toISOString() });
      expect(await refusal(intake.acceptSubscriptionReactivated(payload, 'webhook'))).toBe(
        'INTAKE.TENANT_PURGED',
      );
    });
  });
});
