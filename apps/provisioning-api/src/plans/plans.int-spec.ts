import { randomBytes } from 'node:crypto';
import { tenantStream, TIER_CATALOG } from '@app/contracts';
import { CUSTOM_RENDER_ENV, type TenantPlan } from '@app/plans';
import { provisionedTenant } from '@app/tenancy';
import { startTestApi, type TestApi } from '../testing/test-api.test-helpers';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let api: TestApi;

const active = provisionedTenant(`plan-std-${hex()}`, 'standard', '2025-03-01T10:00:00Z', 20_000);
const cancelled = provisionedTenant(
  `plan-gone-${hex()}`,
  'premium',
  '2025-03-01T11:00:00Z',
  20_000,
).lifecycle(
  'CancellationRequested',
  {
    subscriptionId: `sub_gone_${hex()}`,
    reason: 'customer left',
    requestedAt: '2025-03-05T09:00:00.000Z',
    deletionDate: '2025-04-04T09:00:00.000Z',
    requestedBy: 'operator:alice',
  },
  'provisioning-api',
);
const planPath = (tenantId: string, query: string) => `/api/v1/tenants/${tenantId}/plan?${query}`;

/** Every event of the store: a plan must leave it as it was. */
async function everyEvent(): Promise<number> {
  return (await api.store.readAll({ limit: 100_000 })).length;
}

beforeAll(async () => {
  api = await startTestApi({
    schemaPrefix: 'plan',
    // The k8s-service's render variables, as a deployment gives both: plans render with them.
    env: CUSTOM_RENDER_ENV,
    overrides: { clock: () => NOW },
  });
  await active.appendTo(api.store);
  await cancelled.appendTo(api.store);
});

afterAll(async () => {
  await api?.close();
});

describe('GET /api/v1/tenants/:id/plan on PostgreSQL', () => {
  it('answers 401 without a known token', async () => {
    await api.http.get(planPath(active.tenantId, 'suspend=true')).expect(401);
    await api.http.get(planPath(active.tenantId, 'suspend=true')).set(bearer('nope')).expect(401);
  });

  it("plans a tier upgrade from the tenant's stream for an auditor, and appends nothing anywhere", async () => {
    const before = await everyEvent();
    const revision = (await api.store.readStream(tenantStream(active.tenantId))).length;
    const response = await api.http
      .get(planPath(active.tenantId, 'tier=premium'))
      .set(bearer(api.secrets.auditor))
      .expect(200);
    const plan = response.body as TenantPlan;
    expect(plan).toMatchObject({
      tenant_id: active.tenantId,
      status: 'active',
      change: { kind: 'tier', tier: 'premium' },
    });
    const quota = plan.kubernetes.changes.find((change) => change.kind === 'ResourceQuota');
    expect(quota?.fields).toContainEqual({
      path: 'spec.hard["requests.cpu"]',
      before: TIER_CATALOG.standard.quota['requests.cpu'],
      after: TIER_CATALOG.premium.quota['requests.cpu'],
    });
    expect(quota?.diff).toContain('+++ resource-quota.yaml ResourceQuota/tenant-quota');
    expect(plan.databases.users[0].max_user_connections).toEqual({
      before: TIER_CATALOG.standard.limits.database.maxUserConnections,
      after: TIER_CATALOG.premium.limits.database.maxUserConnections,
    });
    expect(plan.broker.action).toBe('changed');
    expect(plan.emails).toEqual([]);
    const again = await api.http
      .get(planPath(active.tenantId, 'tier=premium'))
      .set(bearer(api.secrets.operator))
      .expect(200);
    expect(again.body).toEqual(plan);
    expect(await api.store.readStream(tenantStream(active.tenantId))).toHaveLength(revision);
    expect(await everyEvent()).toBe(before);
  });

  it("renders with the k8s-service's variables: their image repository, tag and managed-by label", async () => {
    const tag = await api.http
      .get(planPath(active.tenantId, 'imageTag=v8.0.0'))
      .set(bearer(api.secrets.operator))
      .expect(200);
    const image = (tag.body as TenantPlan).kubernetes.changes
      .find((change) => change.kind === 'Deployment' && change.name === 'api-gateway')
      ?.fields.find((field) => field.path.endsWith('.image'));
    const repository = `${CUSTOM_RENDER_ENV.IMAGE_REPOSITORY}/api-gateway`;
    expect(image).toMatchObject({
      before: `${repository}:${CUSTOM_RENDER_ENV.IMAGE_TAG}`,
      after: `${repository}:v8.0.0`,
    });
    const tier = await api.http
      .get(planPath(active.tenantId, 'tier=premium'))
      .set(bearer(api.secrets.operator))
      .expect(200);
    const quota = (tier.body as TenantPlan).kubernetes.changes.find(
      (change) => change.kind === 'ResourceQuota',
    );
    // K8S_DELIVERY=direct: the service applies the objects itself, under its field manager's name.
    expect(quota?.diff).toContain('managed-by: provisioning-k8s-service');
  });

  it('plans the purge of a tenant in its grace period: every resource and the deletion e-mail', async () => {
    const before = await everyEvent();
    const response = await api.http
      .get(planPath(cancelled.tenantId, 'purge=true'))
      .set(bearer(api.secrets.operator))
      .expect(200);
    const plan = response.body as TenantPlan;
    expect(plan.purge_at).toBe('now');
    expect(plan.kubernetes.changes.every((change) => change.action === 'removed')).toBe(true);
    expect(plan.databases.dropped_databases).toHaveLength(11);
    expect(plan.broker.action).toBe('deleted');
    expect(plan.grafana.action).toBe('deleted');
    expect(plan.emails.map((email) => email.template)).toEqual(['deletion-confirmation']);
    expect(await everyEvent()).toBe(before);
  });

  it('answers 409 with the lifecycle reason when the state does not admit the change', async () => {
    const before = await everyEvent();
    const response = await api.http
      .get(planPath(cancelled.tenantId, 'tier=business'))
      .set(bearer(api.secrets.operator))
      .expect(409);
    expect(response.body.error).toBe('PLAN.NOT_ADMISSIBLE');
    expect(response.body.message).toContain('cannot change tier (needs active)');
    expect(await everyEvent()).toBe(before);
  });

  it.each([
    ['no change', '', 'a plan needs one change'],
    ['two changes', 'suspend=true&tier=premium', 'exactly one change, got tier, suspend'],
    ['an unknown tier', 'tier=gold', 'tier must be one of standard, premium, business'],
    ['a flag other than true', 'purge=yes', 'purge must be true'],
    ['an image tag that is no OCI tag', 'imageTag=%3Brm', 'imageTag must be an OCI tag'],
  ])('answers 400 for %s, naming the problem', async (_name, query, message) => {
    const response = await api.http
      .get(planPath(active.tenantId, query))
      .set(bearer(api.secrets.operator))
      .expect(400);
    expect(response.body.error).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(response.body.violations)).toContain(message);
  });

  it('answers 404 for an unknown tenant and 400 for a malformed id', async () => {
    const unknown = await api.http
      .get(planPath(`nobody-${hex()}`, 'suspend=true'))
      .set(bearer(api.secrets.operator))
      .expect(404);
    expect(unknown.body.error).toBe('QUERY.TENANT_NOT_FOUND');
    await api.http.get(planPath('Not_An_Id', 'suspend=true')).set(bearer(api.secrets.operator)).expect(400);
  });

  it('is in the OpenAPI document with its four query parameters', async () => {
    const doc = await api.http.get('/api/docs-json').expect(200);
    const operation = doc.body.paths['/api/v1/tenants/{id}/plan']?.get;
    expect(operation.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(
      expect.arrayContaining(['id', 'tier', 'suspend', 'purge', 'imageTag']),
    );
    expect(Object.keys(operation.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '404', '409']),
    );
  });
});
