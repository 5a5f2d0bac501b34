import type { BucketKind } from './naming';

/**
 * The tier catalog: quotas (spec 2.2), limits, workload sizing, per-tenant limits on the shared servers and
 * plan facts (spec 11.2) as data. Premium is exactly the spec's; standard and business are scaled around it
 * so that each tier's own workloads (13 Deployments plus the migration Job) fit inside its quota and its
 * limits (unit tests check both).
 */
export const TIERS = ['standard', 'premium', 'business'] as const;
export type Tier = (typeof TIERS)[number];

export const REGIONS = ['us-east', 'us-west', 'eu-west', 'eu-central', 'apac'] as const;
export type Region = (typeof REGIONS)[number];

export interface ResourceQuotaHard {
  'requests.cpu': string;
  'requests.memory': string;
  'limits.cpu': string;
  'limits.memory': string;
  'requests.storage': string;
  persistentvolumeclaims: string;
  'services.loadbalancers': string;
  'services.nodeports': string;
  pods: string;
  replicationcontrollers: string;
  'deployments.apps': string;
  'statefulsets.apps': string;
}

export interface ContainerResources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface LimitRangeSpec {
  container: {
    max: { cpu: string; memory: string };
    min: { cpu: string; memory: string };
    default: { cpu: string; memory: string };
    defaultRequest: { cpu: string; memory: string };
  };
  persistentVolumeClaim: { max: { storage: string }; min: { storage: string } };
}

export interface PlanFacts {
  /** Label used in the welcome e-mail, e.g. "Tier Premium". */
  label: string;
  sites: number;
  cpuCores: number;
  ramGb: number;
  storageGb: number;
  monthlyPriceEur: number;
  /** Annual price: ten months, "2 mois gratuits". */
  annualPriceEur: number;
}

/**
 * What one tenant may take of the servers every tenant shares (MySQL, RabbitMQ, the object store), so that
 * one tenant cannot exhaust connections, queues or disk for the others and the control plane. Lowering a
 * limit below current use is safe: the servers refuse only new connections, queues or writes beyond it.
 */
export interface TenantLimits {
  /** MAX_USER_CONNECTIONS of each service's MySQL account (one per database). */
  database: { maxUserConnections: number };
  /** RabbitMQ limits of the tenant's vhost (`max-connections`, `max-queues`). */
  broker: { maxConnections: number; maxQueues: number };
  storage: {
    /** Quota of the tenant's object-store user where the server has user quotas (RGW): its own buckets, summed. */
    maxSizeGb: number;
    maxObjects: number;
    /**
     * Hard quota of each of the tenant's buckets. They are created by the control plane's account, which owns
     * them, so a user quota does not count them: the bucket quotas do, and sum to `maxSizeGb`.
     */
    bucketMaxSizeGb: Record<BucketKind, number>;
  };
}

export interface TierDefinition {
  tier: Tier;
  quota: ResourceQuotaHard;
  limitRange: LimitRangeSpec;
  limits: TenantLimits;
  workloads: {
    apiGateway: { replicas: number; resources: ContainerResources };
    service: { replicas: number; resources: ContainerResources };
  };
  plan: PlanFacts;
}

/** Spec 2.2 LimitRange, the same for every tier. */
const LIMIT_RANGE: LimitRangeSpec = {
  container: {
    max: { cpu: '4', memory: '8Gi' },
    min: { cpu: '100m', memory: '128Mi' },
    default: { cpu: '1', memory: '1Gi' },
    defaultRequest: { cpu: '500m', memory: '512Mi' },
  },
  persistentVolumeClaim: { max: { storage: '100Gi' }, min: { storage: '1Gi' } },
};

export const TIER_CATALOG: Readonly<Record<Tier, TierDefinition>> = {
  standard: {
    tier: 'standard',
    quota: {
      'requests.cpu': '3',
      'requests.memory': '6Gi',
      'limits.cpu': '6',
      'limits.memory': '12Gi',
      'requests.storage': '150Gi',
      persistentvolumeclaims: '10',
      'services.loadbalancers': '1',
      'services.nodeports': '0',
      pods: '50',
      replicationcontrollers: '10',
      'deployments.apps': '20',
      'statefulsets.apps': '5',
    },
    limitRange: LIMIT_RANGE,
    limits: {
      database: { maxUserConnections: 25 },
      broker: { maxConnections: 60, maxQueues: 50 },
      storage: {
        maxSizeGb: 50,
        maxObjects: 1_000_000,
        bucketMaxSizeGb: { products: 30, sav: 10, newsletters: 10 },
      },
    },
    workloads: {
      apiGateway: {
        replicas: 2,
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      },
      service: {
        replicas: 1,
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '250m', memory: '256Mi' } },
      },
    },
    plan: {
      label: 'Tier Standard',
      sites: 1,
      cpuCores: 3,
      ramGb: 6,
      storageGb: 50,
      monthlyPriceEur: 49.99,
      annualPriceEur: 499,
    },
  },
  premium: {
    tier: 'premium',
    quota: {
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
    },
    limitRange: LIMIT_RANGE,
    // Not in the spec: sized for its 11 service databases and the queues of its 13 Deployments (see TenantLimits).
    limits: {
      database: { maxUserConnections: 50 },
      broker: { maxConnections: 120, maxQueues: 100 },
      storage: {
        maxSizeGb: 150,
        maxObjects: 3_000_000,
        bucketMaxSizeGb: { products: 100, sav: 25, newsletters: 25 },
      },
    },
    workloads: {
      // Spec 6.2: api-gateway with 3 replicas, 500m/512Mi requested, 2/2Gi limits.
      apiGateway: {
        replicas: 3,
        resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
      },
      service: {
        replicas: 1,
        resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '400m', memory: '512Mi' } },
      },
    },
    // Spec 11.2, word for word.
    plan: {
      label: 'Tier Premium',
      sites: 3,
      cpuCores: 6,
      ramGb: 12,
      storageGb: 150,
      monthlyPriceEur: 124.99,
      annualPriceEur: 1249,
    },
  },
  business: {
    tier: 'business',
    quota: {
      'requests.cpu': '12',
      'requests.memory': '24Gi',
      'limits.cpu': '24',
      'limits.memory': '48Gi',
      'requests.storage': '1000Gi',
      persistentvolumeclaims: '40',
      'services.loadbalancers': '4',
      'services.nodeports': '0',
      pods: '200',
      replicationcontrollers: '40',
      'deployments.apps': '40',
      'statefulsets.apps': '20',
    },
    limitRange: LIMIT_RANGE,
    limits: {
      database: { maxUserConnections: 100 },
      broker: { maxConnections: 240, maxQueues: 200 },
      storage: {
        maxSizeGb: 400,
        maxObjects: 8_000_000,
        bucketMaxSizeGb: { products: 260, sav: 70, newsletters: 70 },
      },
    },
    workloads: {
      apiGateway: {
        replicas: 5,
        resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
      },
      service: {
        replicas: 2,
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
      },
    },
    plan: {
      label: 'Tier Business',
      sites: 10,
      cpuCores: 12,
      ramGb: 24,
      storageGb: 400,
      monthlyPriceEur: 249.99,
      annualPriceEur: 2499,
    },
  },
};

/** The tier's limits on the shared servers. */
export function tenantLimits(tier: Tier): TenantLimits {
  return TIER_CATALOG[tier].limits;
}

/** Whole GiB to bytes, as the object stores' quota APIs take them. */
export function gibibytes(gb: number): number {
  return gb * 1024 ** 3;
}

/** Kubernetes quantity to a number of base units (cores, bytes). Supports the suffixes used in the catalog. */
export function parseQuantity(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) throw new Error(`unsupported quantity ${quantity}`);
  const value = Number(match[1]);
  const factor: Record<string, number> = {
    '': 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
  };
  return value * factor[match[2] ?? ''];
}
