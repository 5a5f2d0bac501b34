import { earliestDeletionDate, type TenantProfile } from '@app/contracts';
import {
  LifecycleRefusal,
  REFUSAL_CODES,
  admitImageTagChange,
  admitOperatorCancel,
  admitOperatorPurge,
  admitSubscriptionSuspended,
  admitSubscriptionUpdated,
  currentSubscription,
  isRefusal,
  type Admission,
  type TenantState,
} from '@app/lifecycle';
import type { RenderOptions } from '../k8s/render-options';
import { namespaceFiles, workloadFiles, type ManifestFile } from '../k8s/tenant-tree';
import { renderCancellationNotice, renderDeletionConfirmation } from '../notification/emails';
import { applyTreeEdit, currentTreeFiles, kubernetesPlan, type TreeState } from './kubernetes-plan';
import type { PlanChange, PlannedEmail, TenantPlan } from './plan.types';
import {
  brokerPlan,
  databasesPlan,
  grafanaPlan,
  storagePlan,
  type SharedTarget,
} from './shared-servers-plan';

/** What a plan is computed with besides the tenant's state: deployment configuration and the time. */
export interface PlanContext {
  /** The k8s-service's rendering options; the tenant's own image tag, if it has one, replaces their tag. */
  options: RenderOptions;
  now: Date;
  /** The grace period an operator's cancellation would start (a purge of an active tenant follows one). */
  gracePeriodDays: number;
}

const PLANNER = 'plan';

/**
 * Whether the change may be asked now, by the deciders the API and the orchestrator use: the same refusal an
 * actual request would get. A purge of an active or suspended tenant is the one a cancellation leads to.
 */
function admit(state: TenantState, change: PlanChange, at: string): Admission {
  const subscriptionId = currentSubscription(state) ?? '';
  const reason = 'what-if plan';
  switch (change.kind) {
    case 'tier':
      return admitSubscriptionUpdated(state, { subscriptionId, toTier: change.tier });
    case 'suspend':
      return admitSubscriptionSuspended(state, { subscriptionId, data: { reason, requestedBy: PLANNER } });
    case 'image-tag':
      return admitImageTagChange(state, {
        imageTag: change.imageTag,
        reason,
        requestedBy: PLANNER,
        requestedAt: at,
      });
    case 'purge':
      if (state.status === 'deprovisioning') {
        return admitOperatorPurge(state, { reason, operator: PLANNER, requestedAt: at });
      }
      return admitOperatorCancel(state, { reason, requestedAt: at, deletionDate: at, requestedBy: PLANNER });
    default: {
      const unknown: never = change;
      throw new Error(`unknown plan change ${JSON.stringify(unknown)}`);
    }
  }
}

function noChangeReason(state: TenantState, change: PlanChange): string {
  switch (change.kind) {
    case 'tier':
      return `the tenant is already on tier ${change.tier}`;
    case 'suspend':
      return `the tenant's workloads are already ${state.status === 'suspended' ? 'suspended' : 'being suspended'}`;
    case 'image-tag':
      return `the workloads already run ${change.imageTag}`;
    case 'purge':
      return 'nothing is left to purge';
    default: {
      const unknown: never = change;
      throw new Error(`unknown plan change ${JSON.stringify(unknown)}`);
    }
  }
}

function email(
  tenant: TenantProfile,
  template: PlannedEmail['template'],
  rendered: { subject: string; text: string },
  sent: PlannedEmail['sent'],
): PlannedEmail {
  return { template, to: tenant.adminEmail, subject: rendered.subject, sent, text: rendered.text };
}

interface Outcome {
  summary: string;
  after: { tenant: TenantProfile; options: RenderOptions; files: ManifestFile[] };
  shared: SharedTarget;
  emails: PlannedEmail[];
  purgeAt?: TenantPlan['purge_at'];
}

function outcome(state: TenantState, change: PlanChange, tree: TreeState, context: PlanContext): Outcome {
  const { tenant, options, suspended, marks } = tree;
  const files = currentTreeFiles(tree);
  const same = { tier: tenant.tier };
  switch (change.kind) {
    case 'tier': {
      const next = { ...tenant, tier: change.tier };
      // UpdateQuota: the namespace's quota and limits, and the workloads' sizing, of the new tier.
      const put = [...namespaceFiles(next, options, marks), ...workloadFiles(next, options, suspended)];
      return {
        summary: `Tier ${tenant.tier} -> ${change.tier}: quota, limit range and workload sizing of the new tier, then its database, vhost and storage limits.`,
        after: { tenant: next, options, files: applyTreeEdit(files, { put, remove: [] }) },
        shared: { tier: change.tier },
        emails: [],
      };
    }
    case 'suspend':
      return {
        summary:
          'Suspension: every Deployment scaled to 0 replicas and the ingress removed; data, secrets and certificate kept.',
        after: {
          tenant,
          options,
          files: applyTreeEdit(files, {
            put: workloadFiles(tenant, options, true),
            remove: ['ingress.yaml'],
          }),
        },
        shared: same,
        emails: [],
      };
    case 'image-tag': {
      const next = { ...options, imageTag: change.imageTag };
      return {
        summary: `Image tag ${options.imageTag} -> ${change.imageTag} on every workload, then the tenant verified healthy.`,
        after: {
          tenant,
          options: next,
          files: applyTreeEdit(files, { put: workloadFiles(tenant, next, suspended), remove: [] }),
        },
        shared: same,
        emails: [],
      };
    }
    case 'purge': {
      const after = { tenant, options, files: [] };
      if (state.status === 'deprovisioning') {
        return {
          summary: 'Purge now: a final backup taken and verified, then every resource of the tenant deleted.',
          after,
          shared: 'purged',
          purgeAt: 'now',
          emails: [
            email(
              tenant,
              'deletion-confirmation',
              renderDeletionConfirmation(tenant, context.now.toISOString()),
              'after-purge',
            ),
          ],
        };
      }
      const deletionDate = earliestDeletionDate(context.now, context.gracePeriodDays).toISOString();
      return {
        summary: `Cancellation now, then at the end of the grace period (${deletionDate}) a final backup and the deletion of every resource of the tenant.`,
        after,
        shared: 'purged',
        purgeAt: 'end-of-grace-period',
        emails: [
          email(
            tenant,
            'cancellation-notice',
            renderCancellationNotice(tenant, deletionDate),
            'on-cancellation',
          ),
          email(
            tenant,
            'deletion-confirmation',
            renderDeletionConfirmation(tenant, deletionDate),
            'after-purge',
          ),
        ],
      };
    }
    default: {
      const unknown: never = change;
      throw new Error(`unknown plan change ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Everything one change would do to a tenant, across every system, rendered with the builders the services
 * run; or the lifecycle's refusal when the change may not be asked in the tenant's state. Pure: nothing is
 * applied or recorded.
 */
export function computePlan(
  state: TenantState,
  change: PlanChange,
  context: PlanContext,
): TenantPlan | LifecycleRefusal {
  const tenant = state.tenant;
  if (!tenant) return new LifecycleRefusal(REFUSAL_CODES.TENANT_NOT_FOUND, 'tenant does not exist');
  const admission = admit(state, change, context.now.toISOString());
  if (isRefusal(admission)) return admission;
  const cancellation = state.status === 'deprovisioning' ? state.cancellation : undefined;
  const tree: TreeState = {
    tenant,
    options: { ...context.options, imageTag: state.imageTag ?? context.options.imageTag },
    suspended: state.status === 'suspended',
    ...(cancellation
      ? { marks: { deprovisioningDate: cancellation.requestedAt, deletionDate: cancellation.deletionDate } }
      : {}),
  };
  const before = { tenant, options: tree.options, files: currentTreeFiles(tree) };
  const base = { tenant_id: tenant.tenantId, status: state.status, change };
  if (admission.events.length === 0) {
    return {
      ...base,
      summary: 'No change.',
      no_change: noChangeReason(state, change),
      kubernetes: kubernetesPlan(before, before),
      databases: databasesPlan(tenant.tenantId, tenant.tier, { tier: tenant.tier }),
      broker: brokerPlan(tenant.tenantId, tenant.tier, { tier: tenant.tier }),
      storage: storagePlan(tenant.tenantId, tenant.tier, { tier: tenant.tier }),
      grafana: grafanaPlan(tenant.tenantId, false),
      emails: [],
    };
  }
  const result = outcome(state, change, tree, context);
  return {
    ...base,
    summary: result.summary,
    ...(result.purgeAt ? { purge_at: result.purgeAt } : {}),
    kubernetes: kubernetesPlan(before, result.after),
    databases: databasesPlan(tenant.tenantId, tenant.tier, result.shared),
    broker: brokerPlan(tenant.tenantId, tenant.tier, result.shared),
    storage: storagePlan(tenant.tenantId, tenant.tier, result.shared),
    grafana: grafanaPlan(tenant.tenantId, result.shared === 'purged'),
    emails: result.emails,
  };
}
