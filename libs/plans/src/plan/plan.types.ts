import type { Tier } from '@app/contracts';

/** One change an operator may preview; exactly one per plan. */
export type PlanChange =
  | { kind: 'tier'; tier: Tier }
  | { kind: 'suspend' }
  | { kind: 'purge' }
  | { kind: 'image-tag'; imageTag: string };

/** A leaf of an object whose value differs (`undefined` side: the field is absent there). */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** A Kubernetes object (or kustomize index) of the tenant's tree that the change adds, removes or changes. */
export interface ObjectChange {
  action: 'added' | 'removed' | 'changed';
  kind: string;
  name: string;
  /** Path of its file inside the tenant's tree. */
  file: string;
  /** Changed objects only: every leaf that differs. */
  fields: FieldChange[];
  /** Changed objects only: `diff -u` of the object's YAML. */
  diff: string;
}

export interface KubernetesPlan {
  /** The tenant's tree in the manifests repository (`tenants/<id>`). */
  tree: string;
  namespace: string;
  changes: ObjectChange[];
  unchanged: number;
}

export interface Limit<T> {
  before: T;
  after: T;
}

export interface DatabaseUserChange {
  user: string;
  database: string;
  action: 'dropped' | 'changed';
  /** The privileges the user holds on its database (dropped with it). */
  grants: string[];
  max_user_connections: Limit<number | null>;
}

export interface DatabasesPlan {
  dropped_databases: string[];
  users: DatabaseUserChange[];
  /** The statements the database-service would run, from its own builders (none carries a secret). */
  statements: string[];
}

export interface BrokerPlan {
  vhost: string;
  action: 'deleted' | 'changed' | 'unchanged';
  limits: Record<'max-connections' | 'max-queues', Limit<number | null>>;
  /** Purge: the tenant's user and the topology deleted with the vhost. */
  deleted_user?: string;
  deleted_topology?: { exchanges: string[]; queues: string[]; bindings: string[] };
}

export interface BucketChange {
  bucket: string;
  action: 'deleted' | 'changed' | 'unchanged';
  quota_bytes: Limit<number | null>;
}

export interface StoragePlan {
  buckets: BucketChange[];
  user: {
    name: string;
    action: 'deleted' | 'changed' | 'unchanged';
    max_size_bytes: Limit<number | null>;
    max_objects: Limit<number | null>;
  };
  /** Purge: the tenant's IAM policy, deleted with its user. */
  deleted_policy?: string;
}

export interface GrafanaPlan {
  action: 'deleted' | 'unchanged';
  organization: string;
  folder: string;
  dashboards: string[];
  datasource: string;
  viewer: string;
}

export interface PlannedEmail {
  template: 'cancellation-notice' | 'deletion-confirmation';
  to: string;
  subject: string;
  /** When it is sent: at once, or when the purge completes. */
  sent: 'on-cancellation' | 'after-purge';
  text: string;
}

/** Everything a change would do to one tenant, across every system; computed, never applied. */
export interface TenantPlan {
  tenant_id: string;
  status: string;
  change: PlanChange;
  /** One sentence: what the change does. */
  summary: string;
  /** Set when the change would do nothing (already on that tier, already suspended, already on that tag). */
  no_change?: string;
  /** Purge only: now (grace period running) or at the end of the grace period a cancellation would start. */
  purge_at?: 'now' | 'end-of-grace-period';
  kubernetes: KubernetesPlan;
  databases: DatabasesPlan;
  broker: BrokerPlan;
  storage: StoragePlan;
  grafana: GrafanaPlan;
  emails: PlannedEmail[];
}
