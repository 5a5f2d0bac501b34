import { randomBytes } from 'node:crypto';
import { buildMetadata, deterministicId, tenantStream, type TenantProfile } from '@app/contracts';
import { PostgresEventStore } from '@app/event-store';
import { eventually, PrivatePostgres } from '@app/testing';
import pino from 'pino';
import { ProvisioningMetrics } from '../metrics/provisioning-metrics';
import { PostgresTenantReadModel } from '@app/tenancy';
import { TenantProjector } from './tenant-projector';

/**
 * The tenant read model and its projector, with the event store, on a PostgreSQL server of the test's own
 * that it restarts (`pg_ctl restart -m fast`: every session ends with 57P01). Never the shared server.
 */
describe('tenant read model across a PostgreSQL restart (private server)', () => {
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const warnings: { details: object; message: string }[] = [];
  const silent = pino({ level: 'silent' });
  const tenantId = `restart-${randomBytes(3).toString('hex')}`;
  let server: PrivatePostgres;
  let store: PostgresEventStore;
  let model: PostgresTenantReadModel;
  let projector: TenantProjector;

  const tenant: TenantProfile = {
    tenantId,
    companyName: 'Restart Co',
    adminEmail: 'a@b.com',
    billingEmail: 'a@b.com',
    tier: 'standard',
    region: 'eu-west',
    domain: 'restart.collectverything.com',
    subscriptionId: 'sub_restart',
    plan: { price: 1, currency: 'EUR', billingPeriod: 'monthly' },
    createdAt: '2025-01-15T10:00:00.000Z',
  };
  const metadata = (id: string) =>
    buildMetadata({ tenantId, correlationId: 'c', actor: 'test' }, deterministicId(id), new Date());

  beforeAll(async () => {
    server = await PrivatePostgres.start();
    const url = server.url('postgres', password);
    store = new PostgresEventStore(url, { schema: 'restart_events', logger: silent, pollIntervalMs: 200 });
    await store.migrate();
    model = new PostgresTenantReadModel(url, 'restart_read', {
      poolSize: 2,
      logger: { warn: (details, message) => void warnings.push({ details, message }) },
    });
    await model.migrate();
    projector = new TenantProjector(store, model, new ProvisioningMetrics(store, model), silent);
    await projector.start();
  });

  afterAll(async () => {
    await projector?.stop();
    await model?.close();
    await store?.close();
    await server?.destroy();
  });

  it('logs the lost idle connections without the URL, and the projection catches up after the restart', async () => {
    await store.append(
      tenantStream(tenantId),
      [
        {
          id: deterministicId('req', tenantId),
          type: 'TenantRequested',
          data: { tenant, source: 'bus' },
          metadata: metadata('r'),
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    await eventually(async () => (await model.get(tenantId))?.status, 'the tenant in the read model');
    // Both read model connections are busy at once, then idle in the pool when the server goes away.
    await Promise.all([model.list({ limit: 10, offset: 0 }), model.countByStatus()]);
    await server.restart();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(warnings.map((w) => w.message)).toContain('idle read model connection lost');
    expect(warnings.map((w) => w.details)).toContainEqual(expect.objectContaining({ code: '57P01' }));
    expect(JSON.stringify(warnings)).not.toContain(password);

    const meta = metadata('a');
    await store.append(
      tenantStream(tenantId),
      [
        {
          id: deterministicId('act', tenantId),
          type: 'TenantActivated',
          data: { activatedAt: meta.occurredAt },
          metadata: meta,
        },
      ],
      { expectedRevision: 0 },
    );
    await eventually(
      async () => ((await model.get(tenantId))?.status === 'active' ? true : undefined),
      'the activation in the read model',
    );
    expect((await model.list({ limit: 10, offset: 0 })).total).toBe(1);
  });
});
