import type { KubeObject } from '@app/kube';
import type { SecretStore } from '@app/secrets';
import type { DeliveryDriver } from '../adapters/delivery.port';
import type { HealthProbe } from '../adapters/http-probe';
import type { RenderOptions } from '@app/plans';

/** Reads from the cluster (direct mode always; GitOps mode when a cluster is reachable). */
export interface ClusterReader {
  read(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, namespace?: string): Promise<KubeObject[]>;
}

/** What the k8s-service's command handlers are constructed with (the `HANDLER_DEPS` provider). */
export interface K8sHandlerDeps {
  driver: DeliveryDriver;
  options: RenderOptions;
  cluster?: ClusterReader;
  /** Plain-Secret credentials mode (direct only) reads the values here. */
  secrets?: SecretStore;
  probe: HealthProbe;
  verify: { timeoutMs: number; intervalMs: number; healthBaseUrl?: string; trustCommit: boolean };
  /**
   * GitOps purge: how long RemoveNamespace waits for Argo CD to prune (the Application and the namespace gone)
   * when a cluster is observable. Default: 120 s, polled every second.
   */
  purge?: { timeoutMs: number; intervalMs: number };
  sleep?: (ms: number) => Promise<void>;
}
