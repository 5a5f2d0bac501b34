import { BUSINESS_SERVICES, parseQuantity, TIER_CATALOG, TIERS } from './index';

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

  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('2Gi')).toBe(2 * 1024 ** 3);
    expect(() => parseQuantity('lots')).toThrow();
  });
});
