import type { Tier } from '@app/contracts';
import { TenantStreamBuilder } from '../testing/tenant-stream-builder';

const DAG = [
  ['namespace', 'ProvisionNamespace'],
  ['databases', 'ProvisionDatabases'],
  ['storage', 'ProvisionStorage'],
  ['broker', 'ProvisionBroker'],
  ['workloads', 'DeployWorkloads'],
  ['ingress', 'ConfigureIngress'],
  ['monitoring', 'ProvisionMonitoring'],
  ['website', 'CreateWebsiteRecord'],
  ['verify-kubernetes', 'VerifyKubernetes'],
  ['verify-databases', 'VerifyDatabases'],
  ['verify-storage', 'VerifyStorage'],
  ['verify-broker', 'VerifyBroker'],
] as const;

/**
 * For SLO tests: a tenant of `tier` requested at `start`, every step of the DAG run one after the other and
 * activated, its 26 events `stepMs` apart, so it is active 25 × `stepMs` after its request.
 */
export function provisionedTenant(
  id: string,
  tier: Tier,
  start: string,
  stepMs: number,
): TenantStreamBuilder {
  const builder = new TenantStreamBuilder(id, start, stepMs).requested({ tier });
  for (const [step, command] of DAG) builder.ran(step, command);
  return builder.lifecycle('TenantActivated', { activatedAt: start });
}
