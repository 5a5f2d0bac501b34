import type { TenantProfile } from '@app/contracts';
import type { ManifestFile } from '@app/plans';

/** One step's change to a tenant: files/objects to write, files/objects to remove, the Argo CD registration. */
export interface TenantChange {
  tenant: TenantProfile;
  put: ManifestFile[];
  remove: ManifestFile[];
  /** GitOps: add (or refresh) / drop the tenant's ApplicationSet element (or Application). Ignored when direct. */
  application: 'register' | 'keep' | 'unregister';
  /** The command performing the change (named in the commit message). */
  reason: string;
  /**
   * The tenant's own image tag the workloads put are rendered with. GitOps: kustomize's `images` `newTag`, which
   * overrides the Deployments' tags; absent, the tag the tenant's tree already names is kept (a change of the
   * ingress must not undo a rollout), else IMAGE_TAG. Direct delivery applies the rendered images as they are.
   */
  imageTag?: string;
  correlationId: string;
}

export interface DeliveryResult {
  mode: 'gitops' | 'direct';
  /** GitOps: whether a commit was made (false on an idempotent re-run); direct: whether anything was sent. */
  changed: boolean;
  /** GitOps: the commit the branch points at after the change. */
  revision?: string;
  /** Tree paths written or objects applied (`Kind/name`). */
  applied: string[];
  removed: string[];
}

/** How a tenant's objects reach the cluster: committed for Argo CD (GitOps) or server-side applied. */
export interface DeliveryDriver {
  readonly mode: 'gitops' | 'direct';
  applyTenant(change: TenantChange): Promise<DeliveryResult>;
  /** Removes everything of the tenant (tree + registration, or the namespace). Absent is success. */
  removeTenant(
    tenant: TenantProfile,
    context: { reason: string; correlationId: string },
  ): Promise<DeliveryResult>;
  /** Paths (GitOps) the tenant currently has, relative to its tree; direct mode returns undefined. */
  tenantPaths?(tenantId: string): Promise<Set<string>>;
  health(): Promise<boolean>;
  close?(): Promise<void>;
}
