/**
 * What-if plans and the pure builders they share with the resource services: the tenant's Kubernetes tree,
 * its SQL, broker topology, Grafana objects and e-mails are rendered here once, so a plan shows exactly what
 * the services would apply.
 */
export * from './k8s/render-options';
export * from './k8s/render-env';
export * from './k8s/manifests';
export * from './k8s/network-policy';
export * from './k8s/tenant-tree';
export * from './k8s/quota';
export * from './database/sql';
export * from './database/tenant-databases';
export * from './broker/topology';
export * from './monitoring/monitoring';
export * from './monitoring/grafana-tenancy';
export * from './notification/emails';
export * from './storage/storage-quota';
export * from './plan/plan.types';
export { unifiedDiff } from './plan/line-diff';
export { computePlan, type PlanContext } from './plan/compute-plan';
export { describeChange, formatPlan } from './plan/format-plan';
// The example tenant the builders' golden files are rendered for, and test render variables: for the specs of
// the services that share these builders (as @app/tenancy exports its stream builder).
export * from './testing/fixtures';
