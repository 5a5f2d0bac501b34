import { StepError, retryable } from '@app/platform';
import { type TenantProfile, namespaceName } from '@app/contracts';
import { type KubeClient, type KubeObject, assertValidObject } from '@app/kube';
import type { Logger } from 'pino';
import type { DeliveryDriver, DeliveryResult, TenantChange } from './delivery.port';

/** Apply order: the namespace, then its policy objects, config, workloads, then CRD-backed objects. */
const KIND_ORDER = [
  'Namespace',
  'ResourceQuota',
  'LimitRange',
  'NetworkPolicy',
  'ConfigMap',
  'Secret',
  'ExternalSecret',
  'Service',
  'Deployment',
  'Job',
  'Certificate',
  'Ingress',
  'ServiceMonitor',
  'PrometheusRule',
];
function rank(object: KubeObject): number {
  const index = KIND_ORDER.indexOf(object.kind);
  return index === -1 ? KIND_ORDER.length : index;
}
export function applyOrder(objects: KubeObject[]): KubeObject[] {
  return [...objects].sort((a, b) => rank(a) - rank(b));
}

export interface DirectConfig {
  /** How long to wait for a deleted namespace to disappear before reporting it stuck. */
  namespaceDeleteTimeoutMs: number;
  pollIntervalMs: number;
}

/**
 * Delivers tenants by server-side apply against the API server (no Argo CD): ordered apply, deletion in
 * reverse. A namespace DELETE returns at once and the namespace stays Terminating until its finalizers
 * clear; we wait up to a deadline and report a stuck namespace with its conditions, never stripping
 * finalizers (that would orphan resources in etcd).
 */
export class DirectDriver implements DeliveryDriver {
  readonly mode = 'direct' as const;

  constructor(
    private readonly client: KubeClient,
    private readonly config: DirectConfig,
    private readonly logger: Logger,
  ) {}

  health(): Promise<boolean> {
    return this.client.reachable();
  }

  async applyTenant(change: TenantChange): Promise<DeliveryResult> {
    const toApply = applyOrder(change.put.flatMap((file) => file.objects));
    for (const object of toApply) assertValidObject(object);
    const toRemove = applyOrder(change.remove.flatMap((file) => file.objects)).reverse();
    const applied: string[] = [];
    const removed: string[] = [];
    for (const object of toRemove) {
      if (await this.client.delete(object)) removed.push(`${object.kind}/${object.metadata.name}`);
    }
    for (const object of toApply) {
      await this.applyOrRecreate(object);
      applied.push(`${object.kind}/${object.metadata.name}`);
    }
    return { mode: this.mode, changed: applied.length + removed.length > 0, applied, removed };
  }

  /**
   * A Job's pod template is immutable, so a new image tag (or tier label) is refused on apply. Like Argo CD's
   * `Force=true,Replace=true` on the same Job in GitOps mode, the Job is then deleted and created again: the
   * migration runs once more, which a new image needs. Any other refusal stays an error.
   */
  private async applyOrRecreate(object: KubeObject): Promise<void> {
    try {
      await this.client.apply(object);
    } catch (error) {
      const immutable =
        object.kind === 'Job' &&
        error instanceof StepError &&
        error.code === 'K8S.REJECTED' &&
        /field is immutable/.test(error.message);
      if (!immutable) throw error;
      this.logger.info(
        { job: object.metadata.name, namespace: object.metadata.namespace },
        'job template changed: recreating the job',
      );
      await this.client.delete(object);
      await this.client.apply(object);
    }
  }

  async removeTenant(tenant: TenantProfile): Promise<DeliveryResult> {
    const name = namespaceName(tenant.tenantId);
    const ref = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
    const accepted = await this.client.delete(ref);
    await this.waitNamespaceGone(name);
    return {
      mode: this.mode,
      changed: accepted,
      applied: [],
      removed: accepted ? [`Namespace/${name}`] : [],
    };
  }

  async waitNamespaceGone(name: string): Promise<void> {
    const deadline = Date.now() + this.config.namespaceDeleteTimeoutMs;
    for (;;) {
      const current = await this.client.read('v1', 'Namespace', name);
      if (!current) return;
      if (Date.now() >= deadline) {
        const status = (current.status ?? {}) as {
          phase?: string;
          conditions?: { type: string; message?: string }[];
        };
        const blockers = (status.conditions ?? [])
          .filter((condition) => condition.message)
          .map((condition) => `${condition.type}: ${condition.message}`)
          .join('; ');
        this.logger.warn(
          { namespace: name, phase: status.phase },
          'namespace still terminating at the deadline',
        );
        throw retryable(
          'K8S.NAMESPACE_TERMINATION_TIMEOUT',
          `namespace ${name} still ${status.phase ?? 'present'} after ${this.config.namespaceDeleteTimeoutMs} ms` +
            (blockers ? ` (${blockers})` : '') +
            '; finalizers are left in place for an operator',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.config.pollIntervalMs));
    }
  }
}
