import { commandHandlersOf, type CommandHandlers } from '@app/platform';
import { ConfigureIngressHandler } from './configure-ingress.handler';
import type { K8sHandlerDeps } from './deps';
import { DeployWorkloadsHandler } from './deploy-workloads.handler';
import { MarkNamespaceDeprovisioningHandler } from './mark-namespace-deprovisioning.handler';
import { ProvisionNamespaceHandler } from './provision-namespace.handler';
import { RemoveIngressHandler } from './remove-ingress.handler';
import { RemoveNamespaceHandler } from './remove-namespace.handler';
import { RemoveWorkloadsHandler } from './remove-workloads.handler';
import { ResumeWorkloadsHandler } from './resume-workloads.handler';
import { SuspendWorkloadsHandler } from './suspend-workloads.handler';
import { UnmarkNamespaceDeprovisioningHandler } from './unmark-namespace-deprovisioning.handler';
import { UpdateQuotaHandler } from './update-quota.handler';
import { VerifyKubernetesHandler } from './verify-kubernetes.handler';

export type { ClusterReader, K8sHandlerDeps } from './deps';

/** The k8s-service's command handlers: one `@MessagePattern` class per command it owns. */
export const K8S_COMMAND_HANDLERS = [
  ProvisionNamespaceHandler,
  DeployWorkloadsHandler,
  ConfigureIngressHandler,
  VerifyKubernetesHandler,
  UpdateQuotaHandler,
  SuspendWorkloadsHandler,
  ResumeWorkloadsHandler,
  MarkNamespaceDeprovisioningHandler,
  UnmarkNamespaceDeprovisioningHandler,
  RemoveIngressHandler,
  RemoveWorkloadsHandler,
  RemoveNamespaceHandler,
] as const;

/** The same handlers as plain command functions over `deps`, for tests that drive them without the broker. */
export function createHandlers(deps: K8sHandlerDeps): CommandHandlers {
  return commandHandlersOf(
    'k8s',
    K8S_COMMAND_HANDLERS.map((Handler) => new Handler(deps)),
  );
}
