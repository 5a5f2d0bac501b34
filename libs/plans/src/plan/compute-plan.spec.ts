import {
  BUCKET_KINDS,
  BUSINESS_SERVICES,
  TIER_CATALOG,
  databaseName,
  databaseUserName,
  gibibytes,
  namespaceName,
  tenantLimits,
  type Tier,
} from '@app/contracts';
import { LifecycleRefusal, REFUSAL_CODES, foldTenant, type TenantState } from '@app/lifecycle';
import { provisionedTenant, type TenantStreamBuilder } from '@app/tenancy';
import { DEFAULT_RENDER_OPTIONS } from '../k8s/render-options';
import { workloadNames } from '../k8s/tenant-objects';
import { computePlan, type PlanContext } from './compute-plan';
import { formatPlan } from './format-plan';
import type { ObjectChange, PlanChange, TenantPlan } from './plan.types';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const context: PlanContext = { options: DEFAULT_RENDER_OPTIONS, now: NOW, gracePeriodDays: 30 };
const TENANT_ID = 'abc-corporation-7f3a9c';

function activeBuilder(tier: Tier = 'premium'): TenantStreamBuilder {
  return provisionedTenant(TENANT_ID, tier, '2025-03-01T10:00:00Z', 20_000);
}

function fold(builder: TenantStreamBuilder): TenantState {
  return foldTenant(builder.events.map((event) => ({ ...event, metadata: event.metadata ?? {} })));
}

const active = (tier: Tier = 'premium') => fold(activeBuilder(tier));
const inGracePeriod = () =>
  fold(
    activeBuilder().lifecycle(
      'CancellationRequested',
      {
        subscriptionId: 'sub_abc_corporation_7f3a9c',
        reason: 'customer left',
        requestedAt: '2025-03-05T09:00:00.000Z',
        deletionDate: '2025-04-04T09:00:00.000Z',
        requestedBy: 'billing',
      },
      'provisioning-api',
    ),
  );

function plan(state: TenantState, change: PlanChange): TenantPlan {
  const result = computePlan(state, change, context);
  if (result instanceof LifecycleRefusal) throw result;
  return result;
}

function object(result: TenantPlan, kind: string, name: string): ObjectChange | undefined {
  return result.kubernetes.changes.find((change) => change.kind === kind && change.name === name);
}

function field(change: ObjectChange | undefined, path: string) {
  return change?.fields.find((entry) => entry.path === path);
}

describe('a tier upgrade plan (premium -> business)', () => {
  const result = plan(active('premium'), { kind: 'tier', tier: 'business' });
  const from = TIER_CATALOG.premium;
  const to = TIER_CATALOG.business;

  it('changes every hard limit of the ResourceQuota to the new tier', () => {
    const quota = object(result, 'ResourceQuota', 'tenant-quota');
    expect(quota?.action).toBe('changed');
    for (const [resource, value] of Object.entries(to.quota)) {
      const previous = from.quota[resource as keyof typeof from.quota];
      const change = field(quota, `spec.hard["${resource}"]`) ?? field(quota, `spec.hard.${resource}`);
      if (previous === value) expect(change).toBeUndefined();
      else expect(change).toEqual({ path: expect.any(String), before: previous, after: value });
    }
    expect(quota?.diff).toContain(`-    requests.cpu: "${from.quota['requests.cpu']}"`);
    expect(quota?.diff).toContain(`+    requests.cpu: "${to.quota['requests.cpu']}"`);
  });

  it('renders the LimitRange of the new tier: the same limits for every tier, only its tier label moves', () => {
    const limitRange = object(result, 'LimitRange', 'tenant-limits');
    expect(limitRange?.fields).toEqual([
      { path: 'metadata.labels.tier', before: 'premium', after: 'business' },
    ]);
    expect(to.limitRange).toEqual(from.limitRange);
  });

  it("sizes every Deployment as the tier table says: replicas and each container's resources", () => {
    const gateway = object(result, 'Deployment', 'api-gateway');
    expect(field(gateway, 'spec.replicas')).toMatchObject({
      before: from.workloads.apiGateway.replicas,
      after: to.workloads.apiGateway.replicas,
    });
    const service = object(result, 'Deployment', 'auth-service');
    expect(field(service, 'spec.replicas')).toMatchObject({
      before: from.workloads.service.replicas,
      after: to.workloads.service.replicas,
    });
    const sizes: [ObjectChange | undefined, keyof typeof to.workloads][] = [
      [gateway, 'apiGateway'],
      [service, 'service'],
    ];
    let changed = 0;
    for (const [deployment, kind] of sizes) {
      for (const bound of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory'] as const) {
          const before = from.workloads[kind].resources[bound][resource];
          const after = to.workloads[kind].resources[bound][resource];
          const change = field(deployment, `spec.template.spec.containers[0].resources.${bound}.${resource}`);
          if (before === after) {
            expect(change).toBeUndefined();
          } else {
            expect(change).toMatchObject({ before, after });
            changed++;
          }
        }
      }
    }
    expect(changed).toBeGreaterThan(0);
  });

  it('adds and removes no object, and leaves the ingress and the monitoring objects alone', () => {
    expect(result.kubernetes.changes.filter((change) => change.action !== 'changed')).toEqual([]);
    expect(object(result, 'Ingress', 'tenant-ingress')).toBeUndefined();
    expect(result.kubernetes.changes.some((change) => change.file.startsWith('monitoring/'))).toBe(false);
  });

  it('raises the connection limit of every database user, with the database-service statements', () => {
    expect(result.databases.dropped_databases).toEqual([]);
    expect(result.databases.users).toHaveLength(BUSINESS_SERVICES.length);
    const after = tenantLimits('business').database.maxUserConnections;
    for (const user of result.databases.users) {
      expect(user.max_user_connections).toEqual({
        before: tenantLimits('premium').database.maxUserConnections,
        after,
      });
    }
    const authUser = databaseUserName(TENANT_ID, 'auth');
    expect(result.databases.statements).toContain(
      `ALTER USER '${authUser}'@'%' WITH MAX_USER_CONNECTIONS ${after}`,
    );
  });

  it('raises the vhost limits and the bucket and user quotas as the tier table says', () => {
    expect(result.broker.action).toBe('changed');
    expect(result.broker.limits['max-connections']).toEqual({
      before: from.limits.broker.maxConnections,
      after: to.limits.broker.maxConnections,
    });
    expect(result.broker.limits['max-queues'].after).toBe(to.limits.broker.maxQueues);
    for (const kind of BUCKET_KINDS) {
      const bucket = result.storage.buckets.find((entry) => entry.bucket.endsWith(kind));
      expect(bucket).toMatchObject({
        action: 'changed',
        quota_bytes: {
          before: gibibytes(from.limits.storage.bucketMaxSizeGb[kind]),
          after: gibibytes(to.limits.storage.bucketMaxSizeGb[kind]),
        },
      });
    }
    expect(result.storage.user.max_objects).toEqual({
      before: from.limits.storage.maxObjects,
      after: to.limits.storage.maxObjects,
    });
  });

  it('sends no e-mail and leaves Grafana as it is', () => {
    expect(result.emails).toEqual([]);
    expect(result.grafana.action).toBe('unchanged');
  });

  it('answers no change for the tier the tenant already has', () => {
    const same = plan(active('premium'), { kind: 'tier', tier: 'premium' });
    expect(same.no_change).toBe('the tenant is already on tier premium');
    expect(same.kubernetes.changes).toEqual([]);
    expect(same.databases.users).toEqual([]);
    expect(same.broker.action).toBe('unchanged');
  });
});

describe('a suspension plan', () => {
  const result = plan(active(), { kind: 'suspend' });

  it('scales every Deployment to zero and removes the ingress, nothing else', () => {
    for (const name of workloadNames()) {
      const deployment = object(result, 'Deployment', name);
      expect(field(deployment, 'spec.replicas')?.after).toBe(0);
      expect(deployment?.fields.map((entry) => entry.path)).toEqual(['spec.replicas']);
    }
    const removed = result.kubernetes.changes.filter((change) => change.action === 'removed');
    expect(removed.map((change) => `${change.kind}/${change.name}`)).toEqual(['Ingress/tenant-ingress']);
    expect(result.kubernetes.changes.filter((change) => change.action === 'added')).toEqual([]);
    // The root index stops listing ingress.yaml.
    expect(object(result, 'Kustomization', 'kustomization.yaml')?.diff).toContain('-  - ingress.yaml');
  });

  it('keeps every database, vhost, bucket and Grafana object, and sends no e-mail', () => {
    expect(result.databases).toEqual({ dropped_databases: [], users: [], statements: [] });
    expect(result.broker.action).toBe('unchanged');
    expect(result.storage.buckets.every((bucket) => bucket.action === 'unchanged')).toBe(true);
    expect(result.grafana.action).toBe('unchanged');
    expect(result.emails).toEqual([]);
  });

  it('answers no change for a suspended tenant', () => {
    const suspended = plan({ ...active(), status: 'suspended' }, { kind: 'suspend' });
    expect(suspended.no_change).toMatch(/already suspended/);
    expect(suspended.kubernetes.changes).toEqual([]);
  });
});

describe('a purge plan', () => {
  const result = plan(inGracePeriod(), { kind: 'purge' });

  it('removes every object of the tree, the namespace included, and keeps none', () => {
    expect(result.purge_at).toBe('now');
    expect(result.kubernetes.unchanged).toBe(0);
    expect(result.kubernetes.changes.every((change) => change.action === 'removed')).toBe(true);
    const removed = result.kubernetes.changes.map((change) => `${change.kind}/${change.name}`);
    expect(removed).toContain(`Namespace/${namespaceName(TENANT_ID)}`);
    for (const name of workloadNames()) expect(removed).toContain(`Deployment/${name}`);
    expect(removed).toEqual(
      expect.arrayContaining([
        'Ingress/tenant-ingress',
        'ServiceMonitor/tenant-monitoring',
        'ResourceQuota/tenant-quota',
      ]),
    );
  });

  it('drops every database and user with their grants, and the deletion statements', () => {
    const databases = BUSINESS_SERVICES.map((service) => databaseName(TENANT_ID, service));
    expect(result.databases.dropped_databases).toEqual(databases);
    expect(result.databases.users.map((user) => user.user)).toEqual(
      BUSINESS_SERVICES.map((service) => databaseUserName(TENANT_ID, service)),
    );
    expect(
      result.databases.users.every((user) => user.action === 'dropped' && user.grants.includes('SELECT')),
    ).toBe(true);
    expect(result.databases.statements).toContain(`DROP DATABASE IF EXISTS \`${databases[0]}\``);
    expect(result.databases.statements).toHaveLength(2 * BUSINESS_SERVICES.length);
  });

  it('deletes the vhost with its user and topology, the buckets, the storage user and the Grafana objects', () => {
    expect(result.broker).toMatchObject({ action: 'deleted', deleted_user: expect.any(String) });
    expect(result.broker.deleted_topology?.queues.length).toBeGreaterThan(0);
    expect(result.storage.buckets.map((bucket) => bucket.action)).toEqual(BUCKET_KINDS.map(() => 'deleted'));
    expect(result.storage.user.action).toBe('deleted');
    expect(result.storage.deleted_policy).toBeDefined();
    expect(result.grafana).toMatchObject({
      action: 'deleted',
      organization: expect.stringContaining(TENANT_ID),
    });
  });

  it('sends the deletion confirmation to the tenant admin', () => {
    expect(result.emails).toEqual([
      expect.objectContaining({
        template: 'deletion-confirmation',
        to: `admin@${TENANT_ID}.example.com`,
        sent: 'after-purge',
      }),
    ]);
    expect(result.emails[0].text).toContain('Date de suppression');
  });

  it('of an active tenant follows a cancellation: the notice now, the deletion at the end of the grace period', () => {
    const later = plan(active(), { kind: 'purge' });
    expect(later.purge_at).toBe('end-of-grace-period');
    expect(later.summary).toContain('2025-04-09T12:00:00.000Z');
    expect(later.emails.map((email) => email.template)).toEqual([
      'cancellation-notice',
      'deletion-confirmation',
    ]);
  });
});

describe('an image tag plan', () => {
  const result = plan(active(), { kind: 'image-tag', imageTag: 'v2.0.0' });

  it('changes only the images (and the version label of their pods)', () => {
    expect(result.kubernetes.changes.length).toBeGreaterThan(0);
    expect(result.kubernetes.changes.every((change) => change.action === 'changed')).toBe(true);
    const paths = result.kubernetes.changes.flatMap((change) => change.fields.map((entry) => entry.path));
    for (const path of paths) expect(path).toMatch(/\.image$|\.labels\.version$|\.newTag$/);
    const gateway = object(result, 'Deployment', 'api-gateway');
    expect(field(gateway, 'spec.template.spec.containers[0].image')).toEqual({
      path: 'spec.template.spec.containers[0].image',
      before: `ecommerce/api-gateway:${DEFAULT_RENDER_OPTIONS.imageTag}`,
      after: 'ecommerce/api-gateway:v2.0.0',
    });
    expect(result.databases.statements).toEqual([]);
    expect(result.broker.action).toBe('unchanged');
  });

  it("starts from the tenant's own tag once it has one", () => {
    const tagged = plan({ ...active(), imageTag: 'v2.0.0' }, { kind: 'image-tag', imageTag: 'v2.1.0' });
    const gateway = object(tagged, 'Deployment', 'api-gateway');
    expect(field(gateway, 'spec.template.spec.containers[0].image')?.before).toBe(
      'ecommerce/api-gateway:v2.0.0',
    );
  });
});

describe('admission', () => {
  it.each<[string, () => TenantState, PlanChange, string]>([
    [
      'a tier change during the grace period',
      inGracePeriod,
      { kind: 'tier', tier: 'business' },
      REFUSAL_CODES.TENANT_NOT_ACTIVE,
    ],
    [
      'a suspension during the grace period',
      inGracePeriod,
      { kind: 'suspend' },
      REFUSAL_CODES.TENANT_NOT_ACTIVE,
    ],
    [
      'an image tag that is no OCI tag',
      () => active(),
      { kind: 'image-tag', imageTag: 'v1 ; rm' },
      REFUSAL_CODES.INVALID_IMAGE_TAG,
    ],
    [
      'a purge while provisioning',
      () => ({ ...active(), status: 'provisioning' }),
      { kind: 'purge' },
      REFUSAL_CODES.NOT_CANCELLABLE,
    ],
  ])('refuses %s with the lifecycle decider', (_name, state, change, code) => {
    const result = computePlan(state(), change, context);
    expect(result).toBeInstanceOf(LifecycleRefusal);
    expect((result as LifecycleRefusal).code).toBe(code);
  });

  it('refuses a tenant that does not exist', () => {
    const result = computePlan(foldTenant([]), { kind: 'suspend' }, context);
    expect((result as LifecycleRefusal).code).toBe(REFUSAL_CODES.TENANT_NOT_FOUND);
  });
});

describe('formatPlan', () => {
  it('prints the same bytes for the same plan, with each changed object and its diff', () => {
    const state = active('standard');
    const text = formatPlan(plan(state, { kind: 'tier', tier: 'premium' }));
    expect(formatPlan(plan(state, { kind: 'tier', tier: 'premium' }))).toBe(text);
    expect(text).toContain(`Plan for ${TENANT_ID} (active): tier premium`);
    expect(text).toContain('~ ResourceQuota/tenant-quota (resource-quota.yaml) changed');
    expect(text).toContain('      spec.replicas: 2 -> 3');
    expect(text).toContain('--- resource-quota.yaml ResourceQuota/tenant-quota');
    expect(text).toContain('MAX_USER_CONNECTIONS 25 -> 50');
    expect(text).toContain('Nothing has been changed: this is a preview.');
  });
});
