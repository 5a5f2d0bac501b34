/**
 * The what-if plan of an action, shown in its confirmation dialog before the operator confirms: what it would
 * delete, change and send, fetched from `GET /api/v1/tenants/:id/plan` (computed there, nothing applied).
 */
import { api, messageOf, tenantPath } from './api.js';
import { $, clear, el } from './dom.js';

/** The parts of the API's plan the dialog shows (the full shape is `TenantPlan` of libs/plans). */
interface PlanView {
  summary: string;
  no_change?: string;
  kubernetes: {
    namespace: string;
    changes: { action: string; kind: string; name: string }[];
    unchanged: number;
  };
  databases: { dropped_databases: string[]; users: { user: string; action: string }[] };
  broker: { vhost: string; action: string };
  storage: { buckets: { bucket: string; action: string }[]; user: { name: string; action: string } };
  grafana: { action: string; organization: string; dashboards: string[] };
  emails: { template: string; to: string; subject: string; sent: string }[];
}

function count(items: { action: string }[], action: string): number {
  return items.filter((item) => item.action === action).length;
}

function planItems(plan: PlanView): string[] {
  const k8s = plan.kubernetes.changes;
  const items = [
    'Kubernetes (' +
      plan.kubernetes.namespace +
      '): ' +
      count(k8s, 'removed') +
      ' removed, ' +
      count(k8s, 'changed') +
      ' changed, ' +
      count(k8s, 'added') +
      ' added, ' +
      plan.kubernetes.unchanged +
      ' unchanged',
  ];
  const dropped = plan.databases.dropped_databases;
  if (dropped.length > 0)
    items.push('MySQL: ' + dropped.length + ' databases dropped: ' + dropped.join(', '));
  const users = plan.databases.users;
  if (users.length > 0) items.push('MySQL: ' + users.length + ' users ' + users[0].action);
  if (plan.broker.action !== 'unchanged')
    items.push('RabbitMQ: vhost ' + plan.broker.vhost + ' ' + plan.broker.action);
  const buckets = plan.storage.buckets.filter((bucket) => bucket.action !== 'unchanged');
  if (buckets.length > 0) {
    items.push('Object storage: ' + buckets.map((bucket) => bucket.bucket + ' ' + bucket.action).join(', '));
  }
  if (plan.grafana.action !== 'unchanged') {
    items.push(
      'Grafana: organization ' + plan.grafana.organization + ' and its dashboards ' + plan.grafana.action,
    );
  }
  for (const email of plan.emails) {
    items.push('E-mail to ' + email.to + ' (' + email.sent + '): ' + email.subject);
  }
  return items;
}

/** The plan a dialog shows: its tenant and the change as the endpoint's query (e.g. `purge=true`). */
export interface PlanRequest {
  tenantId: string;
  query: string;
}

/** Fills the dialog's plan panel, or hides it for an action without a plan. */
export async function showPlan(request: PlanRequest | undefined): Promise<void> {
  const panel = clear($('reason-plan'));
  panel.hidden = request === undefined;
  if (request === undefined) return;
  panel.append(el('p', { className: 'muted', text: 'Computing what this would do…' }));
  try {
    const plan = await api<PlanView>(tenantPath(request.tenantId, '/plan?' + request.query));
    clear(panel).append(
      el('h3', { text: 'What this will do' }),
      el('p', { text: plan.no_change ? 'No change: ' + plan.no_change + '.' : plan.summary }),
      el('ul', {}, ...planItems(plan).map((item) => el('li', { text: item }))),
    );
  } catch (error) {
    clear(panel).append(
      el('p', { className: 'error', text: 'The plan could not be computed: ' + messageOf(error) }),
    );
  }
}
