import type { CommandType } from './catalog';

/**
 * The provisioning DAG of DESIGN.md section 6, as data shared by the orchestrator, the API and the console.
 * `activate` is the orchestrator's own step (no command): it runs when every `verify` step has succeeded.
 */
export interface ProvisioningStep {
  name: string;
  command: CommandType;
  /** Undo command run on rollback and purge; absent when there is nothing to undo. */
  compensation?: CommandType;
  dependsOn: readonly string[];
  /** Missing this deadline counts as a failure of the step. */
  deadlineSeconds: number;
  /** `provision` and `verify` steps gate activation; `after-activation` steps never roll a tenant back. */
  phase: 'provision' | 'verify' | 'after-activation';
}

const RESOURCE_STEPS = [
  'namespace',
  'databases',
  'storage',
  'broker',
  'workloads',
  'ingress',
  'monitoring',
  'website',
];

export const PROVISIONING_STEPS: readonly ProvisioningStep[] = [
  {
    name: 'namespace',
    command: 'ProvisionNamespace',
    compensation: 'RemoveNamespace',
    dependsOn: [],
    deadlineSeconds: 120,
    phase: 'provision',
  },
  {
    name: 'databases',
    command: 'ProvisionDatabases',
    compensation: 'RemoveDatabases',
    dependsOn: [],
    deadlineSeconds: 180,
    phase: 'provision',
  },
  {
    name: 'storage',
    command: 'ProvisionStorage',
    compensation: 'RemoveStorage',
    dependsOn: [],
    deadlineSeconds: 120,
    phase: 'provision',
  },
  {
    name: 'broker',
    command: 'ProvisionBroker',
    compensation: 'RemoveBroker',
    dependsOn: [],
    deadlineSeconds: 60,
    phase: 'provision',
  },
  {
    name: 'workloads',
    command: 'DeployWorkloads',
    compensation: 'RemoveWorkloads',
    dependsOn: ['namespace', 'databases', 'storage', 'broker'],
    deadlineSeconds: 300,
    phase: 'provision',
  },
  {
    name: 'ingress',
    command: 'ConfigureIngress',
    compensation: 'RemoveIngress',
    dependsOn: ['workloads'],
    deadlineSeconds: 120,
    phase: 'provision',
  },
  {
    name: 'monitoring',
    command: 'ProvisionMonitoring',
    compensation: 'RemoveMonitoring',
    dependsOn: ['namespace'],
    deadlineSeconds: 60,
    phase: 'provision',
  },
  {
    name: 'website',
    command: 'CreateWebsiteRecord',
    compensation: 'DeleteWebsiteRecord',
    dependsOn: ['workloads'],
    deadlineSeconds: 60,
    phase: 'provision',
  },
  {
    name: 'verify-kubernetes',
    command: 'VerifyKubernetes',
    dependsOn: RESOURCE_STEPS,
    deadlineSeconds: 300,
    phase: 'verify',
  },
  {
    name: 'verify-databases',
    command: 'VerifyDatabases',
    dependsOn: RESOURCE_STEPS,
    deadlineSeconds: 60,
    phase: 'verify',
  },
  {
    name: 'verify-storage',
    command: 'VerifyStorage',
    dependsOn: RESOURCE_STEPS,
    deadlineSeconds: 60,
    phase: 'verify',
  },
  {
    name: 'verify-broker',
    command: 'VerifyBroker',
    dependsOn: RESOURCE_STEPS,
    deadlineSeconds: 60,
    phase: 'verify',
  },
  {
    // Spec 11.1: the record created `provisioning` by `website` becomes `active` at the activation instant.
    name: 'website-activation',
    command: 'ActivateWebsiteRecord',
    dependsOn: ['activate'],
    deadlineSeconds: 60,
    phase: 'after-activation',
  },
  {
    name: 'welcome-email',
    command: 'SendWelcomeEmail',
    dependsOn: ['activate'],
    deadlineSeconds: 120,
    phase: 'after-activation',
  },
  {
    name: 'grafana-viewer',
    command: 'CreateGrafanaViewer',
    compensation: 'RemoveGrafanaViewer',
    dependsOn: ['activate'],
    deadlineSeconds: 60,
    phase: 'after-activation',
  },
];

export const ACTIVATE_STEP = 'activate';

export function provisioningStep(name: string): ProvisioningStep | undefined {
  return PROVISIONING_STEPS.find((step) => step.name === name);
}
