import { deterministicId, tenantStream } from '@app/contracts';
import { MemoryEventStore, type EventStore } from '@app/event-store';
import { UseCaseError } from '../errors';
import { createTenancyContext, type TenancyContext } from '../tenancy-context';
import { TenantStreamBuilder } from '../testing/tenant-stream-builder';
import { RequestStepRetry, RequestTenantCancellation, RequestTenantPurge } from './operator.commands';
import type { CancelRequest, RetryRequest } from './operator-request';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const BROKEN = { code: 'DATABASE.DROP_REFUSED', message: 'refused', retryable: false };

let store: EventStore;
let context: TenancyContext;
let ids = 0;

beforeEach(async () => {
  store = new MemoryEventStore();
  ids = 0;
  context = await createTenancyContext({
    eventStore: store,
    gracePeriodDays: 30,
    clock: () => NOW,
    newId: () => deterministicId('unit', String((ids += 1))),
  });
});

afterEach(() => context.close());

/** The operator commands, each sent through the command bus as the API and tenantctl send them. */
const operations = {
  requestRetry: (request: RetryRequest) => context.commandBus.execute(new RequestStepRetry(request)),
  requestCancellation: (request: CancelRequest) =>
    context.commandBus.execute(new RequestTenantCancellation(request)),
  requestPurge: (request: CancelRequest) => context.commandBus.execute(new RequestTenantPurge(request)),
};

async function seed(tenantId: string, build: (b: TenantStreamBuilder) => TenantStreamBuilder) {
  const builder = build(new TenantStreamBuilder(tenantId, '2025-01-15T10:00:00Z'));
  await builder.appendTo(store);
  return builder;
}

async function rejection(promise: Promise<unknown>): Promise<UseCaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UseCaseError);
  return error as UseCaseError;
}

/** A tenant whose rollback left the databases compensation parked. */
const parkedCompensation = (b: TenantStreamBuilder) =>
  b
    .requested()
    .ran('databases', 'ProvisionDatabases')
    .started('namespace', 'ProvisionNamespace')
    .failed('namespace', { code: 'K8S.QUOTA', message: 'quota refused', retryable: false })
    .lifecycle('RollbackStarted', {
      failedStep: 'namespace',
      reason: { code: 'K8S.QUOTA', message: 'quota refused', retryable: false },
    })
    .started('compensate:databases', 'RemoveDatabases')
    .failed('compensate:databases', BROKEN)
    .parked('compensate:databases', BROKEN, true);

describe('RequestStepRetry', () => {
  it('appends OperatorRetryRequested for a parked step, naming the operator and the reason', async () => {
    await seed('acme-aaaaaa', parkedCompensation);
    const result = await operations.requestRetry({
      tenantId: 'acme-aaaaaa',
      step: 'compensate:databases',
      reason: '  grant fixed by hand ',
      operator: 'alice',
    });
    expect(result).toMatchObject({ tenantId: 'acme-aaaaaa', step: 'compensate:databases', duplicate: false });
    const [last] = await store.readStream(tenantStream('acme-aaaaaa'), { direction: 'backwards', limit: 1 });
    expect(last).toMatchObject({
      id: result.eventId,
      type: 'OperatorRetryRequested',
      data: { step: 'compensate:databases', reason: 'grant fixed by hand', operator: 'alice' },
      metadata: { actor: 'operator:alice', tenantId: 'acme-aaaaaa', occurredAt: NOW.toISOString() },
    });
  });

  it('refuses failed, running and unknown steps with 409 and names what can be retried', async () => {
    await seed('acme-bbbbbb', parkedCompensation);
    const failed = await rejection(
      operations.requestRetry({ tenantId: 'acme-bbbbbb', step: 'namespace', reason: 'r', operator: 'alice' }),
    );
    expect(failed).toMatchObject({ code: 'OPERATION.STEP_NOT_RETRYABLE', status: 409 });
    expect(failed.message).toContain('namespace is failed');
    expect(failed.message).toContain('retryable now: compensate:databases');
    const unknown = await rejection(
      operations.requestRetry({ tenantId: 'acme-bbbbbb', step: 'ingress', reason: 'r', operator: 'alice' }),
    );
    expect(unknown.message).toContain('has no step ingress');
    const succeeded = await rejection(
      operations.requestRetry({ tenantId: 'acme-bbbbbb', step: 'databases', reason: 'r', operator: 'alice' }),
    );
    expect(succeeded.message).toContain('databases is succeeded, not parked');
    expect(await store.readStream(tenantStream('acme-bbbbbb'))).toHaveLength(9);
  });

  it('accepts `backup` and the round keys only while a backup blocks the purge', async () => {
    const builder = await seed('acme-cccccc', (b) =>
      b
        .activeTenant()
        .lifecycle(
          'CancellationRequested',
          {
            subscriptionId: 'sub_1',
            reason: 'r',
            requestedAt: '2025-02-01T00:00:00.000Z',
            deletionDate: '2025-03-03T00:00:00.000Z',
            requestedBy: 'billing',
          },
          'provisioning-api',
        )
        .lifecycle('BackupStarted', { backupId: 'b1' })
        .started('cancel-1:backup-1:databases', 'BackupDatabases')
        .failed('cancel-1:backup-1:databases', BROKEN),
    );
    const notYet = await rejection(
      operations.requestRetry({ tenantId: 'acme-cccccc', step: 'backup', reason: 'r', operator: 'bob' }),
    );
    expect(notYet.message).toContain('no backup is blocked');

    builder.lifecycle('PurgeBlocked', { reason: BROKEN, retryAt: '2025-02-01T06:00:00.000Z' });
    await builder.appendTo(store);
    await operations.requestRetry({
      tenantId: 'acme-cccccc',
      step: 'backup',
      reason: 'disk freed',
      operator: 'bob',
    });
    await operations.requestRetry({
      tenantId: 'acme-cccccc',
      step: 'cancel-1:backup-1:databases',
      reason: 'disk freed',
      operator: 'bob',
    });

    builder.lifecycle('BackupStarted', { backupId: 'b2' });
    await builder.appendTo(store);
    const unblocked = await rejection(
      operations.requestRetry({ tenantId: 'acme-cccccc', step: 'backup', reason: 'r', operator: 'bob' }),
    );
    expect(unblocked.code).toBe('OPERATION.STEP_NOT_RETRYABLE');
  });

  it('is idempotent per Idempotency-Key and refuses the key for another request', async () => {
    await seed('acme-dddddd', parkedCompensation);
    const request = {
      tenantId: 'acme-dddddd',
      step: 'compensate:databases',
      reason: 'fixed',
      operator: 'alice',
      idempotencyKey: 'req-42',
    };
    const first = await operations.requestRetry(request);
    const again = await operations.requestRetry(request);
    expect(first.eventId).toBe(deterministicId('operator-retry', 'acme-dddddd', 'alice', 'req-42'));
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await store.readStream(tenantStream('acme-dddddd'))).toHaveLength(10);

    const reused = await rejection(operations.requestRetry({ ...request, reason: 'something else' }));
    expect(reused).toMatchObject({ code: 'OPERATION.IDEMPOTENCY_KEY_REUSED', status: 422 });
  });

  it('names every invalid field and answers 404 for an unknown tenant', async () => {
    const invalid = await rejection(
      operations.requestRetry({
        tenantId: 'Not_A_Tenant',
        step: 'DROP TABLE',
        reason: ' ',
        operator: 'eve smith',
        idempotencyKey: 'a b',
      }),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.violations.map((v) => v.field)).toEqual([
      'tenant_id',
      'step',
      'reason',
      'operator',
      'idempotency_key',
    ]);
    for (const operator of ['oidc:', 'saml:eve', 'oidc:eve smith', `oidc:${'x'.repeat(65)}`]) {
      const refused = await rejection(
        operations.requestRetry({ tenantId: 'acme-eeeeee', step: 'x', reason: 'r', operator }),
      );
      expect(refused.violations.map((v) => v.field)).toEqual(['operator']);
    }
    // The names the OIDC verifier gives (an e-mail address as the claim) are operators like any other.
    const oidcOperator = await rejection(
      operations.requestRetry({
        tenantId: 'acme-eeeeee',
        step: 'x',
        reason: 'r',
        operator: 'oidc:eve@example.com',
      }),
    );
    expect(oidcOperator).toMatchObject({ code: 'OPERATION.TENANT_NOT_FOUND', status: 404 });
    const multiline = await rejection(
      operations.requestRetry({ tenantId: 'acme-eeeeee', step: 'x', reason: 'a\nb', operator: 'alice' }),
    );
    expect(multiline.violations.map((v) => v.field)).toEqual(['reason']);
    const missing = await rejection(
      operations.requestRetry({ tenantId: 'acme-eeeeee', step: 'x', reason: 'r', operator: 'alice' }),
    );
    expect(missing).toMatchObject({ code: 'OPERATION.TENANT_NOT_FOUND', status: 404 });
  });
});

describe('RequestTenantCancellation', () => {
  it('appends CancellationRequested by operator:<name> with the grace period from now', async () => {
    await seed('acme-ffffff', (b) => b.activeTenant());
    const result = await operations.requestCancellation({
      tenantId: 'acme-ffffff',
      reason: 'fraud',
      operator: 'alice',
    });
    expect(result).toMatchObject({ deletionDate: '2025-03-31T12:00:00.000Z', duplicate: false });
    const [last] = await store.readStream(tenantStream('acme-ffffff'), { direction: 'backwards', limit: 1 });
    expect(last).toMatchObject({
      type: 'CancellationRequested',
      data: {
        subscriptionId: 'sub_acme_ffffff',
        reason: 'fraud',
        requestedAt: NOW.toISOString(),
        deletionDate: '2025-03-31T12:00:00.000Z',
        requestedBy: 'operator:alice',
      },
      metadata: { actor: 'operator:alice' },
    });
    // Now deprovisioning: a second cancellation is refused.
    const twice = await rejection(
      operations.requestCancellation({ tenantId: 'acme-ffffff', reason: 'again', operator: 'alice' }),
    );
    expect(twice).toMatchObject({ code: 'OPERATION.NOT_CANCELLABLE', status: 409 });
    expect(twice.message).toContain('is deprovisioning');
  });

  it('refuses a tenant still provisioning and repeats an idempotent request', async () => {
    await seed('acme-111111', (b) => b.requested().started('namespace', 'ProvisionNamespace'));
    const refused = await rejection(
      operations.requestCancellation({ tenantId: 'acme-111111', reason: 'r', operator: 'alice' }),
    );
    expect(refused.message).toContain('is provisioning');

    await seed('acme-222222', (b) => b.activeTenant());
    const request = { tenantId: 'acme-222222', reason: 'r', operator: 'alice', idempotencyKey: 'k1' };
    const first = await operations.requestCancellation(request);
    expect(await operations.requestCancellation(request)).toEqual({ ...first, duplicate: true });
    // Keys are the operator's own: Bob's same key is a new request, refused by the tenant's state.
    await expect(operations.requestCancellation({ ...request, operator: 'bob' })).rejects.toMatchObject({
      code: 'OPERATION.NOT_CANCELLABLE',
    });
  });

  it('reloads and decides again when another writer appends between read and write', async () => {
    await seed('acme-333333', (b) => b.activeTenant());
    const append = store.append.bind(store);
    let interfered = false;
    store.append = async (stream, events, options) => {
      if (!interfered) {
        interfered = true;
        await append(
          stream,
          [
            {
              id: deterministicId('other'),
              type: 'WelcomeEmailSent',
              data: {},
              metadata: { schemaVersion: 1 },
            },
          ],
          { expectedRevision: 'any' },
        );
      }
      return append(stream, events, options);
    };
    await operations.requestCancellation({ tenantId: 'acme-333333', reason: 'r', operator: 'alice' });
    const types = (await store.readStream(tenantStream('acme-333333'))).map((e) => e.type).slice(-2);
    expect(types).toEqual(['WelcomeEmailSent', 'CancellationRequested']);
  });
});

describe('RequestTenantPurge', () => {
  const cancelled = (b: TenantStreamBuilder) =>
    b.activeTenant().lifecycle(
      'CancellationRequested',
      {
        subscriptionId: `sub_${b.tenantId.replace(/-/g, '_')}`,
        reason: 'downgrade',
        requestedAt: '2025-02-20T10:00:00.000Z',
        deletionDate: '2025-03-22T10:00:00.000Z',
        requestedBy: 'billing',
      },
      'provisioning-api',
    );

  it('appends OperatorPurgeRequested naming the operator, the reason and when, once per Idempotency-Key', async () => {
    await seed('purge-me-000001', cancelled);
    const request = {
      tenantId: 'purge-me-000001',
      reason: '  customer asked for erasure, ticket 4711 ',
      operator: 'alice',
      idempotencyKey: 'ticket-4711',
    };
    const first = await operations.requestPurge(request);
    expect(first).toEqual({
      tenantId: 'purge-me-000001',
      eventId: deterministicId('operator-purge', 'purge-me-000001', 'alice', 'ticket-4711'),
      requestedAt: NOW.toISOString(),
      deletionDate: '2025-03-22T10:00:00.000Z',
      duplicate: false,
    });
    await expect(operations.requestPurge(request)).resolves.toEqual({ ...first, duplicate: true });
    const last = (await store.readStream(tenantStream('purge-me-000001'))).at(-1)!;
    expect(last).toMatchObject({
      id: first.eventId,
      type: 'OperatorPurgeRequested',
      data: {
        reason: 'customer asked for erasure, ticket 4711',
        operator: 'alice',
        requestedAt: NOW.toISOString(),
      },
      metadata: { actor: 'operator:alice' },
    });
    const reused = await rejection(operations.requestPurge({ ...request, reason: 'something else' }));
    expect(reused.code).toBe('OPERATION.IDEMPOTENCY_KEY_REUSED');
    const again = await rejection(operations.requestPurge({ ...request, idempotencyKey: undefined }));
    expect(again).toMatchObject({ code: 'OPERATION.PURGE_ALREADY_REQUESTED', status: 409 });
    expect(again.message).toContain('operator alice already requested the purge');
    const purges = (await store.readStream(tenantStream('purge-me-000001'))).filter(
      (event) => event.type === 'OperatorPurgeRequested',
    );
    expect(purges).toHaveLength(1);
  });

  it('requires a reason, and refuses a tenant outside its grace period with 409', async () => {
    await seed('purge-no-000002', cancelled);
    for (const reason of [undefined, '', '   ', 'two\nlines']) {
      const invalid = await rejection(
        operations.requestPurge({ tenantId: 'purge-no-000002', reason, operator: 'alice' }),
      );
      expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
      expect(invalid.violations.map((v) => v.field)).toEqual(['reason']);
    }

    await seed('purge-no-000003', (b) => b.activeTenant());
    const active = await rejection(
      operations.requestPurge({ tenantId: 'purge-no-000003', reason: 'r', operator: 'alice' }),
    );
    expect(active).toMatchObject({ code: 'OPERATION.NOT_IN_GRACE_PERIOD', status: 409 });
    expect(active.message).toContain('is active');

    await seed('purge-no-000004', (b) =>
      cancelled(b).lifecycle('PurgeStarted', { backupId: 'b1', startedAt: '2025-03-22T10:00:00.000Z' }),
    );
    const purging = await rejection(
      operations.requestPurge({ tenantId: 'purge-no-000004', reason: 'r', operator: 'alice' }),
    );
    expect(purging).toMatchObject({ code: 'OPERATION.NOT_IN_GRACE_PERIOD' });
    expect(purging.message).toContain('being purged');
    for (const id of ['purge-no-000002', 'purge-no-000003', 'purge-no-000004']) {
      const types = (await store.readStream(tenantStream(id))).map((event) => event.type);
      expect(types).not.toContain('OperatorPurgeRequested');
    }

    const missing = await rejection(
      operations.requestPurge({ tenantId: 'nobody-000000', reason: 'r', operator: 'alice' }),
    );
    expect(missing.code).toBe('OPERATION.TENANT_NOT_FOUND');
  });

  it('accepts a new request in a later grace period, after a reactivation', async () => {
    const builder = await seed('purge-re-000005', (b) =>
      cancelled(b)
        .lifecycle('OperatorPurgeRequested', {
          reason: 'r',
          operator: 'bob',
          requestedAt: '2025-02-21T00:00:00Z',
        })
        .lifecycle('TenantReactivated', {
          subscriptionId: 'sub_x',
          reactivatedAt: '2025-02-22T00:00:00Z',
          requestedBy: 'billing',
        }),
    );
    const refused = await rejection(
      operations.requestPurge({ tenantId: builder.tenantId, reason: 'erasure', operator: 'alice' }),
    );
    expect(refused.code).toBe('OPERATION.NOT_IN_GRACE_PERIOD');
    await builder
      .lifecycle(
        'CancellationRequested',
        {
          subscriptionId: 'sub_x',
          reason: 'again',
          requestedAt: '2025-02-25T10:00:00.000Z',
          deletionDate: '2025-03-27T10:00:00.000Z',
          requestedBy: 'billing',
        },
        'provisioning-api',
      )
      .appendTo(store);
    await expect(
      operations.requestPurge({ tenantId: builder.tenantId, reason: 'erasure', operator: 'alice' }),
    ).resolves.toMatchObject({ duplicate: false, deletionDate: '2025-03-27T10:00:00.000Z' });
  });
});
