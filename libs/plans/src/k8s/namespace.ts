import { TIER_CATALOG, type TenantProfile, namespaceName } from '@app/contracts';
import type { KubeObject } from '@app/kube';
import type { RenderOptions } from './render-options';
import { objectMeta } from './tenant-objects';

/** The tenant's Namespace (spec 2.1), its deprovisioning marks, its ResourceQuota and LimitRange (spec 2.2). */

// 2.1 -------------------------------------------------------------------------------------------------------
export function namespace(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespaceName(tenant.tenantId),
      labels: {
        tenant: tenant.tenantId,
        tier: tenant.tier,
        environment: 'production',
        'managed-by': options.managedBy,
        region: tenant.region,
      },
      annotations: {
        domain: tenant.domain,
        'subscription-id': tenant.subscriptionId,
        'created-date': tenant.createdAt,
        'billing-email': tenant.billingEmail,
      },
    },
  };
}

// 2.2 -------------------------------------------------------------------------------------------------------
export function resourceQuota(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: objectMeta('tenant-quota', tenant, options),
    spec: { hard: { ...TIER_CATALOG[tenant.tier].quota } },
  };
}

export function limitRange(tenant: TenantProfile, options: RenderOptions): KubeObject {
  const limits = TIER_CATALOG[tenant.tier].limitRange;
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: objectMeta('tenant-limits', tenant, options),
    spec: {
      limits: [
        {
          max: { ...limits.container.max },
          min: { ...limits.container.min },
          default: { ...limits.container.default },
          defaultRequest: { ...limits.container.defaultRequest },
          type: 'Container',
        },
        {
          max: { ...limits.persistentVolumeClaim.max },
          min: { ...limits.persistentVolumeClaim.min },
          type: 'PersistentVolumeClaim',
        },
      ],
    },
  };
}

// Deprovisioning (spec "Annotation Namespace") ------------------------------------------------------------
/**
 * The spec's four annotations, plus a `deprovisioning: "true"` label: the spec's purge CronJob selects
 * namespaces with `-l deprovisioning=true`, a label selector, which annotations alone would never match.
 */
export function deprovisioningMetadata(dates: { deprovisioningDate: string; deletionDate: string }): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  return {
    labels: { deprovisioning: 'true' },
    annotations: {
      deprovisioning: 'true',
      'deprovisioning-date': dates.deprovisioningDate,
      'deletion-date': dates.deletionDate,
      'backup-required': 'true',
    },
  };
}

/** The Namespace with the deprovisioning marks merged in (what GitOps commits and direct mode applies). */
export function markedNamespace(
  tenant: TenantProfile,
  options: RenderOptions,
  dates: { deprovisioningDate: string; deletionDate: string } | undefined,
): KubeObject {
  const base = namespace(tenant, options);
  if (!dates) return base;
  const marks = deprovisioningMetadata(dates);
  return {
    ...base,
    metadata: {
      ...base.metadata,
      labels: { ...base.metadata.labels, ...marks.labels },
      annotations: { ...base.metadata.annotations, ...marks.annotations },
    },
  };
}
