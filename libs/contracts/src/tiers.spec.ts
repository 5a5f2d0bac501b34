import {
  BUCKET_KINDS,
  BUSINESS_SERVICES,
  gibibytes,
  parseQuantity,
  TENANT_QUEUES,
  TIER_CATALOG,
  tenantLimits,
  TIERS,
} from './index';

describe('tier catalog', () => {
  it('has premium exactly as the spec gives it (2.2 quota, 11.2 plan)', () => {
    const premium = TIER_CATALOG.premium;
    expect(premium.quota).toEqual({
      'requests.cpu': '6',
      'requests.memory': '12Gi',
      'limits.cpu': '12',
      'limits.memory': '24Gi',
      'requests.storage': '500Gi',
      persistentvolumeclaims: '20',
      'services.loadbalancers': '2',
      'services.nodeports': '0',
      pods: '100',
      replicationcontrollers: '20',
      'deployments.apps': '20',
      'statefulsets.apps': '10',
    });
    expect(premium.plan).toEqual({
      label: 'Tier Premium',
      sites: 3,
      cpuCores: 6,
      ramGb: 12,
      storageGb: 150,
      monthlyPriceEur: 124.99,
      annualPriceEur: 1249,
    });
    expect(premium.workloads.apiGateway).toEqual({
      replicas: 3,
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
    });
    expect(premium.limitRange.container.max).toEqual({ cpu: '4', memory: '8Gi' });
    expect(premium.limitRange.container.defaultRequest).toEqual({ cpu: '500m', memory: '512Mi' });
  });

  it.each(TIERS)(
    '%s: its own workloads and the migration job fit inside its quota and limit range',
    (tier) => {
      const def = TIER_CATALOG[tier];
      const { apiGateway, service } = def.workloads;
      // api-gateway + 11 business services + messages-broker, plus the migration Job at LimitRange defaults.
      const others = BUSINESS_SERVICES.length + 1;
      const job = {
        requests: def.limitRange.container.defaultRequest,
        limits: def.limitRange.container.default,
      };
      const sum = (pick: (r: { cpu: string; memory: string }) => string, kind: 'requests' | 'limits') =>
        apiGateway.replicas * parseQuantity(pick(apiGateway.resources[kind])) +
        others * service.replicas * parseQuantity(pick(service.resources[kind])) +
        parseQuantity(pick(job[kind]));
      expect(sum((r) => r.cpu, 'requests')).toBeLessThanOrEqual(parseQuantity(def.quota['requests.cpu']));
      expect(sum((r) => r.memory, 'requests')).toBeLessThanOrEqual(
        parseQuantity(def.quota['requests.memory']),
      );
      expect(sum((r) => r.cpu, 'limits')).toBeLessThanOrEqual(parseQuantity(def.quota['limits.cpu']));
      expect(sum((r) => r.memory, 'limits')).toBeLessThanOrEqual(parseQuantity(def.quota['limits.memory']));
      const pods = apiGateway.replicas + others * service.replicas + 1;
      expect(pods).toBeLessThanOrEqual(Number(def.quota.pods));
      expect(others + 1).toBeLessThanOrEqual(Number(def.quota['deployments.apps']));
      for (const r of [apiGateway.resources, service.resources]) {
        expect(parseQuantity(r.limits.cpu)).toBeLessThanOrEqual(
          parseQuantity(def.limitRange.container.max.cpu),
        );
        expect(parseQuantity(r.requests.cpu)).toBeGreaterThanOrEqual(
          parseQuantity(def.limitRange.container.min.cpu),
        );
      }
    },
  );

  it('orders tiers by size and price, annual = 10 months rounded down', () => {
    const [s, p, b] = TIERS.map((t) => TIER_CATALOG[t]);
    expect(parseQuantity(s.quota['requests.cpu'])).toBeLessThan(parseQuantity(p.quota['requests.cpu']));
    expect(parseQuantity(p.quota['requests.cpu'])).toBeLessThan(parseQuantity(b.quota['requests.cpu']));
    for (const t of [s, p, b]) expect(t.plan.annualPriceEur).toBe(Math.floor(t.plan.monthlyPriceEur * 10));
  });

  describe('limits on the shared servers', () => {
    // Sizing assumptions: a service pod holds at most a pool of 10 MySQL connections and 2 AMQP connections
    // (publish, consume); a rolling update adds one pod per Deployment; the migration Job takes 5 more.
    const DB_POOL = 10;
    const AMQP_PER_POD = 2;

    it.each(TIERS)(
      "%s: each service account and the vhost fit the tier's own workloads mid-rollout",
      (tier) => {
        const { workloads, limits } = TIER_CATALOG[tier];
        expect(limits.database.maxUserConnections).toBeGreaterThanOrEqual(
          (workloads.service.replicas + 1) * DB_POOL + 5,
        );
        const podsMidRollout =
          workloads.apiGateway.replicas +
          1 +
          (BUSINESS_SERVICES.length + 1) * (workloads.service.replicas + 1);
        expect(limits.broker.maxConnections).toBeGreaterThanOrEqual(AMQP_PER_POD * podsMidRollout);
        // The spec's queues, and room for a queue, a retry queue and a dead-letter queue per Deployment.
        expect(limits.broker.maxQueues).toBeGreaterThanOrEqual(TENANT_QUEUES.length);
        expect(limits.broker.maxQueues).toBeGreaterThanOrEqual(3 * (BUSINESS_SERVICES.length + 2));
      },
    );

    it.each(TIERS)(
      "%s: the object-store quota is the plan's storage, split over the three buckets",
      (tier) => {
        const { plan, limits } = TIER_CATALOG[tier];
        expect(limits.storage.maxSizeGb).toBe(plan.storageGb);
        const split = BUCKET_KINDS.map((kind) => limits.storage.bucketMaxSizeGb[kind]);
        expect(split.every((gb) => Number.isInteger(gb) && gb > 0)).toBe(true);
        expect(split.reduce((a, b) => a + b, 0)).toBe(limits.storage.maxSizeGb);
      },
    );

    it('grows with the tier, so an upgrade never lowers a limit', () => {
      const [s, p, b] = TIERS.map(tenantLimits);
      const numbers = (l: typeof s) => [
        l.database.maxUserConnections,
        l.broker.maxConnections,
        l.broker.maxQueues,
        l.storage.maxSizeGb,
        l.storage.maxObjects,
        ...BUCKET_KINDS.map((kind) => l.storage.bucketMaxSizeGb[kind]),
      ];
      numbers(s).forEach((value, i) => expect(value).toBeLessThan(numbers(p)[i]));
      numbers(p).forEach((value, i) => expect(value).toBeLessThan(numbers(b)[i]));
      expect(gibibytes(p.storage.maxSizeGb)).toBe(150 * 1024 ** 3);
    });
  });

  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('2Gi')).toBe(2 * 1024 ** 3);
    expect(() => parseQuantity('lots')).toThrow();
  });
});
