import { BUSINESS_SERVICES, type BusinessService, type TenantProfile, namespaceName } from '@app/contracts';
import type { RenderOptions } from './render-options';

/** The names, ports and labels the tenant's objects share (spec 6.1, 6.2), and their common metadata. */

export const API_GATEWAY = 'api-gateway';
export const API_GATEWAY_PORT = 8100;
export const SERVICE_PORT = 8000;
/**
 * Prometheus scrapes the Service port named `metrics` (spec 8.1). It targets a container port of its own, so the
 * NetworkPolicy can open the metrics to the monitoring namespace without opening the application port.
 */
export const METRICS_PORT = 9100;
export const MESSAGES_BROKER = 'messages-broker';
export const TENANT_CONFIG = 'tenant-config';
export const MINIO_CREDENTIALS = 'minio-credentials';
export const RABBITMQ_CREDENTIALS = 'rabbitmq-credentials';
/** The tenant admin's first credentials (ADMIN_LOGIN, TEMPORARY_PASSWORD, …), for the auth seeder. */
export const AUTH_ADMIN_CREDENTIALS = 'auth-admin-credentials';

export function workloadName(service: BusinessService): string {
  return `${service}-service`;
}
export function dbCredentialsName(service: BusinessService): string {
  return `${service}-db-credentials`;
}
/** Every Deployment of a tenant, in the spec's order (6.1 resources list). */
export function workloadNames(): string[] {
  return [API_GATEWAY, ...BUSINESS_SERVICES.map(workloadName), MESSAGES_BROKER];
}
export function imageName(options: RenderOptions, workload: string): string {
  return `${options.imageRepository}/${workload}`;
}

/** Labels kustomize puts on everything (spec 6.1 commonLabels); rendered explicitly so direct apply matches. */
export function commonLabels(tenant: TenantProfile, options: RenderOptions): Record<string, string> {
  return { tenant: tenant.tenantId, tier: tenant.tier, 'managed-by': options.managedBy };
}

/** An object's metadata in the tenant's namespace, with the common labels. */
export function objectMeta(
  name: string,
  tenant: TenantProfile,
  options: RenderOptions,
  extra: Record<string, unknown> = {},
) {
  return { name, namespace: namespaceName(tenant.tenantId), labels: commonLabels(tenant, options), ...extra };
}
