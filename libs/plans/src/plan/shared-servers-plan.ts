import {
  BUCKET_KINDS,
  bucketName,
  brokerUserName,
  grafanaFolderUid,
  grafanaLogin,
  storagePolicyName,
  storageUserName,
  tenantLimits,
  vhostName,
  type Tier,
} from '@app/contracts';
import { tenantTopology, vhostLimitsOf } from '../broker/topology';
import { SERVICE_PRIVILEGES, dropDatabaseSql, dropUserSql, userConnectionLimitSql } from '../database/sql';
import { tenantDatabases } from '../database/tenant-databases';
import { dashboardUid } from '../monitoring/monitoring';
import { TENANT_DATASOURCE_UID, grafanaOrgName } from '../monitoring/grafana-tenancy';
import { storageQuotaOf } from '../storage/storage-quota';
import type { BrokerPlan, DatabasesPlan, GrafanaPlan, Limit, StoragePlan } from './plan.types';

/**
 * What a change does to the servers every tenant shares: the tier's limits (UpdateDatabaseLimits,
 * UpdateBrokerLimits, UpdateStorageQuota) or the purge's deletions (RemoveDatabases, RemoveBroker, RemoveStorage,
 * RemoveMonitoring, RemoveGrafanaViewer), from the builders those services run.
 */

/** The tier the tenant ends on, or `purged` when nothing is left. */
export type SharedTarget = { tier: Tier } | 'purged';

function limit<T>(before: T, after: T | null): Limit<T | null> {
  return { before, after };
}

export function databasesPlan(tenantId: string, from: Tier, to: SharedTarget): DatabasesPlan {
  const databases = tenantDatabases(tenantId);
  const before = tenantLimits(from).database.maxUserConnections;
  if (to === 'purged') {
    return {
      dropped_databases: databases.map((entry) => entry.database),
      users: databases.map((entry) => ({
        user: entry.user,
        database: entry.database,
        action: 'dropped',
        grants: [...SERVICE_PRIVILEGES],
        max_user_connections: limit(before, null),
      })),
      // RemoveDatabases' order: each user, then its database.
      statements: databases.flatMap((entry) => [dropUserSql(entry.user), dropDatabaseSql(entry.database)]),
    };
  }
  const after = tenantLimits(to.tier).database.maxUserConnections;
  if (after === before) return { dropped_databases: [], users: [], statements: [] };
  return {
    dropped_databases: [],
    users: databases.map((entry) => ({
      user: entry.user,
      database: entry.database,
      action: 'changed',
      grants: [...SERVICE_PRIVILEGES],
      max_user_connections: limit(before, after),
    })),
    statements: databases.map((entry) => userConnectionLimitSql(entry.user, after)),
  };
}

export function brokerPlan(tenantId: string, from: Tier, to: SharedTarget): BrokerPlan {
  const before = vhostLimitsOf(from);
  const after = to === 'purged' ? undefined : vhostLimitsOf(to.tier);
  const limits = {
    'max-connections': limit(before['max-connections'], after?.['max-connections'] ?? null),
    'max-queues': limit(before['max-queues'], after?.['max-queues'] ?? null),
  };
  if (to === 'purged') {
    const topology = tenantTopology(tenantId);
    return {
      vhost: topology.vhost,
      action: 'deleted',
      limits,
      deleted_user: brokerUserName(tenantId),
      deleted_topology: {
        exchanges: topology.exchanges.map((exchange) => exchange.name),
        queues: topology.queues.map((queue) => queue.name),
        bindings: topology.bindings.map(
          (binding) => `${binding.source} -> ${binding.destination} (${binding.routing_key})`,
        ),
      },
    };
  }
  const same = Object.values(limits).every((entry) => entry.before === entry.after);
  return { vhost: vhostName(tenantId), action: same ? 'unchanged' : 'changed', limits };
}

export function storagePlan(tenantId: string, from: Tier, to: SharedTarget): StoragePlan {
  const before = storageQuotaOf(from);
  const after = to === 'purged' ? undefined : storageQuotaOf(to.tier);
  const action = (...limits: Limit<number | null>[]) =>
    to === 'purged' ? 'deleted' : limits.some((l) => l.before !== l.after) ? 'changed' : 'unchanged';
  const userSize = limit(before.user.maxSizeBytes, after?.user.maxSizeBytes ?? null);
  const userObjects = limit(before.user.maxObjects, after?.user.maxObjects ?? null);
  return {
    buckets: BUCKET_KINDS.map((kind) => {
      const quota = limit(before.buckets[kind], after?.buckets[kind] ?? null);
      return { bucket: bucketName(tenantId, kind), action: action(quota), quota_bytes: quota };
    }),
    user: {
      name: storageUserName(tenantId),
      action: action(userSize, userObjects),
      max_size_bytes: userSize,
      max_objects: userObjects,
    },
    ...(to === 'purged' ? { deleted_policy: storagePolicyName(tenantId) } : {}),
  };
}

/** The tenant's Grafana organisation and what it holds; only a purge removes them. */
export function grafanaPlan(tenantId: string, purged: boolean): GrafanaPlan {
  return {
    action: purged ? 'deleted' : 'unchanged',
    organization: grafanaOrgName(tenantId),
    folder: grafanaFolderUid(tenantId),
    dashboards: [dashboardUid(tenantId, 'folder'), dashboardUid(tenantId, 'sidecar')],
    datasource: TENANT_DATASOURCE_UID,
    viewer: grafanaLogin(tenantId),
  };
}
