import type { Limit, PlanChange, TenantPlan } from './plan.types';

/** A plan as operators read it in a terminal: one section per system, then each changed object's diff. */

export function describeChange(change: PlanChange): string {
  switch (change.kind) {
    case 'tier':
      return `tier ${change.tier}`;
    case 'suspend':
      return 'suspend';
    case 'purge':
      return 'purge';
    case 'image-tag':
      return `image tag ${change.imageTag}`;
    default: {
      const unknown: never = change;
      throw new Error(`unknown plan change ${JSON.stringify(unknown)}`);
    }
  }
}

function shown(value: unknown): string {
  return value === null || value === undefined
    ? '-'
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);
}

function limit(name: string, value: Limit<number | null>): string {
  return value.before === value.after
    ? `${name} ${shown(value.before)}`
    : `${name} ${shown(value.before)} -> ${shown(value.after)}`;
}

function kubernetesLines(plan: TenantPlan): string[] {
  const { kubernetes } = plan;
  const lines = [`Kubernetes (${kubernetes.tree}, namespace ${kubernetes.namespace})`];
  if (kubernetes.changes.length === 0) lines.push('  no change');
  for (const change of kubernetes.changes) {
    const sign = change.action === 'added' ? '+' : change.action === 'removed' ? '-' : '~';
    lines.push(`  ${sign} ${change.kind}/${change.name} (${change.file}) ${change.action}`);
    for (const field of change.fields) {
      lines.push(`      ${field.path}: ${shown(field.before)} -> ${shown(field.after)}`);
    }
  }
  lines.push(`  ${kubernetes.unchanged} object(s) unchanged`);
  return lines;
}

function databaseLines(plan: TenantPlan): string[] {
  const { databases } = plan;
  const lines = ['Databases'];
  if (databases.dropped_databases.length === 0 && databases.users.length === 0) lines.push('  no change');
  for (const database of databases.dropped_databases) lines.push(`  - database ${database} dropped`);
  for (const user of databases.users) {
    const detail =
      user.action === 'dropped'
        ? `dropped with its grants (${user.grants.join(', ')} on ${user.database})`
        : limit('MAX_USER_CONNECTIONS', user.max_user_connections);
    lines.push(`  ${user.action === 'dropped' ? '-' : '~'} user ${user.user}: ${detail}`);
  }
  for (const statement of databases.statements) lines.push(`    ${statement}`);
  return lines;
}

function brokerLines(plan: TenantPlan): string[] {
  const { broker } = plan;
  const limits = Object.entries(broker.limits).map(([name, value]) => limit(name, value));
  const lines = [`RabbitMQ (vhost ${broker.vhost}): ${broker.action}`, `  limits: ${limits.join(', ')}`];
  if (broker.deleted_user) lines.push(`  - user ${broker.deleted_user} deleted`);
  const topology = broker.deleted_topology;
  if (topology) {
    for (const exchange of topology.exchanges) lines.push(`  - exchange ${exchange} deleted`);
    for (const queue of topology.queues) lines.push(`  - queue ${queue} deleted`);
    for (const binding of topology.bindings) lines.push(`  - binding ${binding} deleted`);
  }
  return lines;
}

function storageLines(plan: TenantPlan): string[] {
  const { storage } = plan;
  const lines = ['Object storage'];
  for (const bucket of storage.buckets) {
    lines.push(`  bucket ${bucket.bucket}: ${bucket.action}, ${limit('quota bytes', bucket.quota_bytes)}`);
  }
  const { user } = storage;
  lines.push(
    `  user ${user.name}: ${user.action}, ${limit('max size bytes', user.max_size_bytes)}, ${limit('max objects', user.max_objects)}`,
  );
  if (storage.deleted_policy) lines.push(`  - policy ${storage.deleted_policy} deleted`);
  return lines;
}

function grafanaLines(plan: TenantPlan): string[] {
  const { grafana } = plan;
  return [
    `Grafana: ${grafana.action}`,
    `  organization ${grafana.organization}, folder ${grafana.folder}, data source ${grafana.datasource}`,
    `  dashboards ${grafana.dashboards.join(', ')}; viewer ${grafana.viewer}`,
  ];
}

function emailLines(plan: TenantPlan): string[] {
  if (plan.emails.length === 0) return ['E-mails', '  none'];
  return [
    'E-mails',
    ...plan.emails.flatMap((email) => [
      `  ${email.template} to ${email.to} (${email.sent}): ${email.subject}`,
      ...email.text.split('\n').map((line) => `    | ${line}`),
    ]),
  ];
}

/** Deterministic text: the same plan always prints the same bytes. */
export function formatPlan(plan: TenantPlan): string {
  const header = [
    `Plan for ${plan.tenant_id} (${plan.status}): ${describeChange(plan.change)}`,
    plan.no_change ? `No change: ${plan.no_change}.` : plan.summary,
    'Nothing has been changed: this is a preview.',
  ];
  const diffs = plan.kubernetes.changes
    .filter((change) => change.diff)
    .map((change) => change.diff.trimEnd());
  const sections = [
    header,
    kubernetesLines(plan),
    databaseLines(plan),
    brokerLines(plan),
    storageLines(plan),
    grafanaLines(plan),
    emailLines(plan),
    ...(diffs.length > 0 ? [['Diffs of the changed objects', ...diffs]] : []),
  ];
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}
