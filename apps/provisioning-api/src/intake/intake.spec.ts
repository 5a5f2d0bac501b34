import {
  deterministicId,
  subscriptionStream,
  tenantStream,
  type LifecycleEventData,
  type TenantProfile,
} from '@app/contracts';
import { MemoryEventStore, type EventStore } from '@app/event-store';
import pino from 'pino';
import { UseCaseError } from '@app/tenancy';
import { closeIntakes, startIntake, type Intake } from './intake.test-helpers';

const silent = pino({ level: 'silent' });

function created(overrides: { subscriptionId?: string; name?: string; email?: string } = {}): unknown {
  return {
    event: 'subscription.created',
    timestamp: '2025-01-15T10:00:00Z',
    data: {
      subscription_id: overrides.subscriptionId ?? 'sub_abc123',
      customer: {
        name: overrides.name ?? 'ABC Corporation',
        email: overrides.email ?? 'admin@abc-corp.com',
        billing_email: 'billing@abc-corp.com',
      },
      plan: { tier: 'premium', price: 124.99, currency: 'EUR', billing_period: 'monthly' },
      metadata: { company_size: '50-200', industry: 'retail', region: 'us-east' },
    },
  };
}

function cancelled(
  tenantId: string,
  overrides: { subscriptionId?: string; effectiveDate?: string | null } = {},
) {
  const effective = overrides.effectiveDate === undefined ? '2025-07-15T00:00:00Z' : overrides.effectiveDate;
  return {
    event: 'subscription.cancelled',
    timestamp: '2025-06-15T10:00:00Z',
    data: {
      subscription_id: overrides.subscriptionId ?? 'sub_abc123',
      tenant_id: tenantId,
      cancellation_reason: 'downgrade',
      ...(effective ? { effective_date: effective } : {}),
    },
  };
}

/** The orchestrator's part of provisioning, as far as the tenant's state needs it: a step started, then activation. */
async function activate(store: EventStore, tenantId: string): Promise<void> {
  const stream = tenantStream(tenantId);
  const events = await store.readStream(stream);
  const step = { step: 'namespace', commandId: 'c0', commandType: 'CreateNamespace', service: 'k8s' };
  await store.append(
    stream,
    [
      {
        id: deterministicId('test-started', tenantId),
        type: 'StepStarted',
        data: { ...step, attempt: 1, params: {}, deadline: '2025-03-01T11:00:00Z' },
      },
      {
        id: deterministicId('test-activated', tenantId),
        type: 'TenantActivated',
        data: { activatedAt: '2025-03-01T10:00:00Z' },
      },
    ],
    { expectedRevision: events.length - 1 },
  );
}

async function tenantStreams(store: EventStore): Promise<string[]> {
  const events = await store.readAll({ filter: { category: 'tenant' } });
  return [...new Set(events.map((event) => event.streamName))];
}

describe('billing intake: subscription.created and subscription.cancelled', () => {
  afterEach(closeIntakes);

  let store: MemoryEventStore;
  let suffixes: string[];
  let intake: Intake;

  beforeEach(async () => {
    store = new MemoryEventStore({ logger: silent });
    suffixes = [];
    intake = await startIntake(store, {
      gracePeriodDays: 30,
      now: () => new Date('2025-01-15T10:00:01Z'),
      randomSuffix: () => suffixes.shift() ?? '7f3a9c',
    });
  });

  it("accepts the spec's example: tenant id, domain, reservation and TenantRequested with the full profile", async () => {
    const result = await intake.acceptSubscriptionCreated(created(), 'webhook');

    expect(result).toEqual({
      tenantId: 'abc-corporation-7f3a9c',
      domain: 'abc-corporation.collectverything.com',
      status: 'provisioning',
      duplicate: false,
    });
    const [reservation] = await store.readStream(subscriptionStream('sub_abc123'));
    expect(reservation.data).toEqual({ subscriptionId: 'sub_abc123', tenantId: 'abc-corporation-7f3a9c' });
    const [requested] = await store.readStream(tenantStream('abc-corporation-7f3a9c'));
    expect(requested.type).toBe('TenantRequested');
    expect(requested.id).toBe(deterministicId('tenant-requested', 'sub_abc123'));
    const data = requested.data as LifecycleEventData['TenantRequested'];
    expect(data.source).toBe('webhook');
    expect(data.tenant).toEqual<TenantProfile>({
      tenantId: 'abc-corporation-7f3a9c',
      companyName: 'ABC Corporation',
      adminEmail: 'admin@abc-corp.com',
      billingEmail: 'billing@abc-corp.com',
      tier: 'premium',
      region: 'us-east',
      domain: 'abc-corporation.collectverything.com',
      subscriptionId: 'sub_abc123',
      plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
      companySize: '50-200',
      industry: 'retail',
      createdAt: '2025-01-15T10:00:00.000Z',
    });
    expect(requested.metadata).toMatchObject({
      actor: 'provisioning-api',
      tenantId: 'abc-corporation-7f3a9c',
      correlationId: deterministicId('correlation', 'sub_abc123'),
      causationId: null,
      schemaVersion: 1,
    });
  });

  it('answers a duplicate delivery with the same tenant and writes nothing new', async () => {
    suffixes = ['111111', '222222'];
    const first = await intake.acceptSubscriptionCreated(created(), 'webhook');
    const second = await intake.acceptSubscriptionCreated(created(), 'bus');

    expect(second).toEqual({ ...first, duplicate: true });
    expect(await tenantStreams(store)).toEqual([tenantStream(first.tenantId)]);
    expect(await store.readStream(tenantStream(first.tenantId))).toHaveLength(1);
  });

  it('yields one tenant when the same subscription arrives 50 times at once', async () => {
    let n = 0;
    intake = await startIntake(store, {
      gracePeriodDays: 30,
      randomSuffix: () => (n++).toString(16).padStart(6, '0'),
    });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => intake.acceptSubscriptionCreated(created(), 'webhook')),
    );

    const ids = new Set(results.map((r) => r.tenantId));
    expect(ids.size).toBe(1);
    expect(new Set(results.map((r) => r.domain))).toEqual(new Set(['abc-corporation.collectverything.com']));
    expect(results.filter((r) => !r.duplicate).length).toBeLessThanOrEqual(1);
    expect(await tenantStreams(store)).toEqual([tenantStream([...ids][0])]);
    expect(await store.readStream(tenantStream([...ids][0]))).toHaveLength(1);
    const domains = await store.readAll({ filter: { category: 'domain' } });
    expect(domains).toHaveLength(1);
  });

  it('gives a second customer with the same company name the next free domain (-2, then -3)', async () => {
    suffixes = ['aaaaaa', 'bbbbbb', 'cccccc'];
    const a = await intake.acceptSubscriptionCreated(
      created({ subscriptionId: 'sub_1', email: 'a@x.com' }),
      'webhook',
    );
    const b = await intake.acceptSubscriptionCreated(
      created({ subscriptionId: 'sub_2', email: 'b@x.com' }),
      'webhook',
    );
    const c = await intake.acceptSubscriptionCreated(
      created({ subscriptionId: 'sub_3', email: 'c@x.com' }),
      'webhook',
    );

    expect([a.domain, b.domain, c.domain]).toEqual([
      'abc-corporation.collectverything.com',
      'abc-corporation-2.collectverything.com',
      'abc-corporation-3.collectverything.com',
    ]);
    expect([a.tenantId, b.tenantId, c.tenantId]).toEqual([
      'abc-corporation-aaaaaa',
      'abc-corporation-bbbbbb',
      'abc-corporation-cccccc',
    ]);
  });

  it('draws a new suffix when the generated tenant id already exists', async () => {
    suffixes = ['aaaaaa', 'aaaaaa', 'dddddd'];
    await intake.acceptSubscriptionCreated(created({ subscriptionId: 'sub_1', email: 'a@x.com' }), 'webhook');
    const second = await intake.acceptSubscriptionCreated(
      created({ subscriptionId: 'sub_2', email: 'b@x.com' }),
      'webhook',
    );
    expect(second.tenantId).toBe('abc-corporation-dddddd');
  });

  it('completes a delivery that crashed after reserving the subscription, with the reserved tenant id', async () => {
    await store.append(
      subscriptionStream('sub_abc123'),
      [
        {
          id: deterministicId('x'),
          type: 'SubscriptionReserved',
          data: { subscriptionId: 'sub_abc123', tenantId: 'abc-corporation-0a0b0c' },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    const result = await intake.acceptSubscriptionCreated(created(), 'webhook');

    expect(result.tenantId).toBe('abc-corporation-0a0b0c');
    expect(result.domain).toBe('abc-corporation.collectverything.com');
    const [requested] = await store.readStream(tenantStream('abc-corporation-0a0b0c'));
    expect(requested.type).toBe('TenantRequested');
  });

  it('completes a delivery that crashed after reserving the domain, keeping that domain', async () => {
    suffixes = ['aaaaaa', 'bbbbbb'];
    await intake.acceptSubscriptionCreated(created({ subscriptionId: 'sub_1', email: 'a@x.com' }), 'webhook');
    // Crash simulation: sub_2 got its reservations (tenant id, domain -2) but not its TenantRequested.
    await store.append(
      subscriptionStream('sub_2'),
      [
        {
          id: deterministicId('y'),
          type: 'SubscriptionReserved',
          data: { subscriptionId: 'sub_2', tenantId: 'abc-corporation-0b0b0b' },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    await store.append(
      'domain-abc-corporation-2.collectverything.com',
      [
        {
          id: deterministicId(
            'domain-reserved',
            'abc-corporation-2.collectverything.com',
            'abc-corporation-0b0b0b',
          ),
          type: 'DomainReserved',
          data: { domain: 'abc-corporation-2.collectverything.com', tenantId: 'abc-corporation-0b0b0b' },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    const result = await intake.acceptSubscriptionCreated(
      created({ subscriptionId: 'sub_2', email: 'b@x.com' }),
      'webhook',
    );
    expect(result).toMatchObject({
      tenantId: 'abc-corporation-0b0b0b',
      domain: 'abc-corporation-2.collectverything.com',
    });
    expect(await store.readAll({ filter: { category: 'domain' } })).toHaveLength(2);
  });

  it('refuses an invalid payload with every violated rule and writes nothing', async () => {
    const payload = created() as { data: Record<string, Record<string, unknown>> };
    payload.data.customer.name = 'A!';
    payload.data.customer.email = 'not-an-email';
    payload.data.plan.tier = 'gold';
    payload.data.metadata.region = 'mars';

    const error = await intake.acceptSubscriptionCreated(payload, 'webhook').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UseCaseError);
    expect((error as UseCaseError).code).toBe('VALIDATION_FAILED');
    expect((error as UseCaseError).violations.map((v) => v.field).sort()).toEqual([
      'data.customer.email',
      'data.customer.name',
      'data.metadata.region',
      'data.plan.tier',
    ]);
    expect(await store.readAll()).toEqual([]);
  });

  describe('cancellation', () => {
    let tenantId: string;
    beforeEach(async () => {
      tenantId = (await intake.acceptSubscriptionCreated(created(), 'webhook')).tenantId;
    });

    it('appends CancellationRequested with the effective date, once', async () => {
      const first = await intake.acceptSubscriptionCancelled(cancelled(tenantId), 'webhook');
      const again = await intake.acceptSubscriptionCancelled(cancelled(tenantId), 'webhook');

      expect(first).toEqual({
        tenantId,
        status: 'cancelling',
        deletionDate: '2025-07-15T00:00:00.000Z',
        requestedEffectiveDate: '2025-07-15T00:00:00Z',
        duplicate: false,
      });
      expect(again).toEqual({ ...first, duplicate: true });
      const events = await store.readStream(tenantStream(tenantId));
      expect(events.map((e) => e.type)).toEqual(['TenantRequested', 'CancellationRequested']);
      expect(events[1].data).toEqual({
        subscriptionId: 'sub_abc123',
        reason: 'downgrade',
        requestedAt: '2025-06-15T10:00:00.000Z',
        deletionDate: '2025-07-15T00:00:00.000Z',
        requestedBy: 'billing',
        requestedEffectiveDate: '2025-07-15T00:00:00Z',
      });
    });

    it('defaults the deletion date to the grace period after the request', async () => {
      const result = await intake.acceptSubscriptionCancelled(
        cancelled(tenantId, { effectiveDate: null }),
        'bus',
      );
      expect(result.deletionDate).toBe('2025-07-15T10:00:00.000Z');
    });

    describe('never before the end of the grace period', () => {
      // Received on 15 June at 10:00:05 (the timestamp says 10:00): the grace period ends exactly 30 × 24 h
      // after the receipt, on 15 July at 10:00:05 (issue 17), not at midnight of either day.
      const receivedAt = new Date('2025-06-15T10:00:05Z');
      const graceEnd = '2025-07-15T10:00:05.000Z';
      let late: Intake;
      beforeEach(async () => {
        late = await startIntake(store, { gracePeriodDays: 30, now: () => receivedAt });
      });

      it.each([
        ['in the past (a billing bug or a replay)', '2025-01-01T00:00:00Z'],
        ['now', '2025-06-15T10:00:05Z'],
        ["of the spec's example (15 July 00:00)", '2025-07-15T00:00:00Z'],
        ['one millisecond before the end of the grace period', '2025-07-15T10:00:04.999Z'],
      ])('clamps an effective_date %s, recording it as sent and why', async (_label, effectiveDate) => {
        const result = await late.acceptSubscriptionCancelled(
          cancelled(tenantId, { effectiveDate }),
          'webhook',
        );
        expect(result).toEqual({
          tenantId,
          status: 'cancelling',
          deletionDate: graceEnd,
          requestedEffectiveDate: effectiveDate,
          clampedReason: expect.stringContaining(`effective_date ${effectiveDate} is before the end`),
          duplicate: false,
        });
        const recorded = (await store.readStream(tenantStream(tenantId)))[1];
        expect(recorded.data).toMatchObject({
          deletionDate: graceEnd,
          requestedEffectiveDate: effectiveDate,
          clampedReason: result.clampedReason,
        });
        expect(result.clampedReason).toContain('30-day grace period');
        // A redelivery gets the same answer, clamp included, and records nothing new.
        await expect(
          late.acceptSubscriptionCancelled(cancelled(tenantId, { effectiveDate }), 'bus'),
        ).resolves.toEqual({ ...result, duplicate: true });
        expect(await store.readStream(tenantStream(tenantId))).toHaveLength(2);
      });

      it.each([
        ['exactly at the end of the grace period', '2025-07-15T10:00:05Z', graceEnd],
        ['after the end of the grace period', '2025-09-01T12:30:00+02:00', '2025-09-01T10:30:00.000Z'],
      ])('honours an effective_date %s', async (_label, effectiveDate, deletionDate) => {
        const result = await late.acceptSubscriptionCancelled(
          cancelled(tenantId, { effectiveDate }),
          'webhook',
        );
        expect(result).toEqual({
          tenantId,
          status: 'cancelling',
          deletionDate,
          requestedEffectiveDate: effectiveDate,
          duplicate: false,
        });
        const recorded = (await store.readStream(tenantStream(tenantId)))[1];
        expect(recorded.data).not.toHaveProperty('clampedReason');
      });

      it('refuses an effective_date that is not a date, recording nothing', async () => {
        await expect(
          late.acceptSubscriptionCancelled(cancelled(tenantId, { effectiveDate: 'next week' }), 'webhook'),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        expect(await store.readStream(tenantStream(tenantId))).toHaveLength(1);
      });
    });

    it('answers a cancellation of a tenant being purged as a duplicate, recording nothing', async () => {
      // An operator's cancellation (another event id) led to the purge; billing's own arrives after it.
      await store.append(
        tenantStream(tenantId),
        [
          {
            id: deterministicId('operator-cancel'),
            type: 'CancellationRequested',
            data: {
              subscriptionId: 'sub_abc123',
              reason: 'fraud',
              requestedAt: '2025-06-10T00:00:00.000Z',
              deletionDate: '2025-06-10T00:00:00.000Z',
              requestedBy: 'operator:alice',
            },
          },
          {
            id: deterministicId('purge'),
            type: 'PurgeStarted',
            data: { backupId: 'b1', startedAt: '2025-06-10T00:00:00Z' },
          },
        ],
        { expectedRevision: 'any' },
      );
      await expect(intake.acceptSubscriptionCancelled(cancelled(tenantId), 'webhook')).resolves.toEqual({
        tenantId,
        // Never activated: the fold keeps it provisioning, so the cancellation stops and rolls that back.
        status: 'cancelling',
        deletionDate: '2025-06-10T00:00:00.000Z',
        duplicate: true,
      });
      expect(await store.readStream(tenantStream(tenantId))).toHaveLength(3);
    });

    it('refuses an unknown tenant and a subscription that is not the tenant’s', async () => {
      await expect(
        intake.acceptSubscriptionCancelled(cancelled('nobody-000000'), 'webhook'),
      ).rejects.toMatchObject({ code: 'INTAKE.TENANT_NOT_FOUND' });
      await expect(
        intake.acceptSubscriptionCancelled(cancelled(tenantId, { subscriptionId: 'sub_other' }), 'webhook'),
      ).rejects.toMatchObject({ code: 'INTAKE.SUBSCRIPTION_MISMATCH' });
    });
  });

  describe('reactivation', () => {
    it('reactivates the customer’s tenant in its grace period instead of creating a new one', async () => {
      suffixes = ['aaaaaa', 'bbbbbb'];
      const { tenantId, domain } = await intake.acceptSubscriptionCreated(created(), 'webhook');
      await activate(store, tenantId);
      await intake.acceptSubscriptionCancelled(cancelled(tenantId), 'webhook');

      const result = await intake.acceptSubscriptionCreated(
        created({ subscriptionId: 'sub_new', email: 'ADMIN@abc-corp.com' }),
        'webhook',
      );
      const again = await intake.acceptSubscriptionCreated(
        created({ subscriptionId: 'sub_new', email: 'admin@abc-corp.com' }),
        'webhook',
      );

      expect(result).toEqual({ tenantId, domain, status: 'reactivating', duplicate: false });
      expect(again).toEqual({ ...result, duplicate: true });
      expect(await tenantStreams(store)).toEqual([tenantStream(tenantId)]);
      const events = await store.readStream(tenantStream(tenantId));
      expect(events.map((e) => e.type)).toEqual([
        'TenantRequested',
        'StepStarted',
        'TenantActivated',
        'CancellationRequested',
        'TenantReactivated',
      ]);
      expect(events[4].data).toMatchObject({ subscriptionId: 'sub_new', requestedBy: 'billing' });

      // A late re-delivery of the old cancellation is a duplicate (nothing appended); the new one applies.
      await expect(
        intake.acceptSubscriptionCancelled(cancelled(tenantId, { subscriptionId: 'sub_abc123' }), 'webhook'),
      ).resolves.toMatchObject({ duplicate: true });
      await expect(
        intake.acceptSubscriptionCancelled(cancelled(tenantId, { subscriptionId: 'sub_new' }), 'webhook'),
      ).resolves.toMatchObject({ duplicate: false });
      expect(await store.readStream(tenantStream(tenantId))).toHaveLength(6);
    });

    it('creates a new tenant when the customer’s tenant is not in a grace period', async () => {
      suffixes = ['aaaaaa', 'bbbbbb'];
      const first = await intake.acceptSubscriptionCreated(created(), 'webhook');
      const second = await intake.acceptSubscriptionCreated(
        created({ subscriptionId: 'sub_second' }),
        'webhook',
      );

      expect(second.tenantId).not.toBe(first.tenantId);
      expect(second.status).toBe('provisioning');
      expect(await tenantStreams(store)).toHaveLength(2);
    });

    it('does not reactivate a tenant whose purge has started', async () => {
      suffixes = ['aaaaaa', 'bbbbbb'];
      const { tenantId } = await intake.acceptSubscriptionCreated(created(), 'webhook');
      await intake.acceptSubscriptionCancelled(cancelled(tenantId), 'webhook');
      await store.append(
        tenantStream(tenantId),
        [
          {
            id: deterministicId('purge'),
            type: 'PurgeStarted',
            data: { backupId: 'b1', startedAt: '2025-07-15T00:00:00Z' },
          },
        ],
        { expectedRevision: 'any' },
      );
      const result = await intake.acceptSubscriptionCreated(
        created({ subscriptionId: 'sub_new' }),
        'webhook',
      );
      expect(result.tenantId).toBe('abc-corporation-bbbbbb');
      expect(result.status).toBe('provisioning');
    });
  });
});
