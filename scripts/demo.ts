import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { simpleParser } from 'mailparser';
import { createConnection } from 'mysql2/promise';
import { PROVISIONING_STEPS, databaseName, vhostName } from '@app/contracts';
import { LocalStack, specSubscriptionCreated } from '../test/support/local-stack';
import type { EventsPage, TenantView } from '../test/support/tenant-views';
import type { TenantPlan } from '@app/plans';

/** The demo waits for these too (welcome e-mail, Grafana viewer, website activation) before its summary. */
const AFTER_ACTIVATION = PROVISIONING_STEPS.filter((s) => s.phase === 'after-activation').map((s) => s.name);

/**
 * `npm run demo`: starts the whole control plane as separate processes against this machine's servers,
 * sends the spec's subscription.created for "ABC Corporation", shows each step live until the tenant is
 * active, then prints what was created and the tenant's audit timeline. Ctrl-C stops everything.
 * DEMO_EXIT=1 stops the stack after the summary instead of leaving it running.
 */
const root = resolve(__dirname, '../..').replace(/\/dist$/, '');
const dir = join(root, '.demo');
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const mark: Record<string, string> = {
  succeeded: '✓',
  running: '…',
  failed: '✗',
  timed_out: '⌛',
  parked: '!',
};

function secretStoreKey(): string {
  const file = join(dir, 'secret-store.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(32).toString('base64');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const stack = new LocalStack({
    dir,
    database: 'provisioning',
    schemaPrefix: 'demo',
    vhost: 'provisioning-demo',
    secretStoreKey: secretStoreKey(),
    logLevel: 'info',
    pools: 'production',
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping every process…');
    await stack.stop();
    console.log('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  console.log(bold('Starting the control plane'), `(logs in ${stack.logDir})`);
  await stack.start();
  console.log(`  provisioning-api on ${stack.apiUrl}; 7 more processes ready\n`);
  // What a person needs to use the running stack (console, API, tenantctl): owner-only, never printed.
  const tokens = join(dir, 'tokens.env');
  writeFileSync(
    tokens,
    [
      `API_URL=${stack.apiUrl}`,
      `CONSOLE_URL=${stack.apiUrl}/console`,
      `OPERATOR_TOKEN=${stack.operatorToken}`,
      `AUDITOR_TOKEN=${stack.auditorToken}`,
      `WEBHOOK_BEARER_SECRET=${stack.webhookSecret}`,
      `WEBHOOK_SIGNING_SECRET=${stack.webhookSigningSecret}`,
      'EVENTSTORE_SCHEMA=demo_events',
      'READ_MODEL_SCHEMA=demo_read',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );

  // A fresh subscription id per run: a second run provisions a second tenant (and shows domain disambiguation).
  const payload = specSubscriptionCreated(`sub_abc123_${Date.now().toString(36)}`);
  console.log(
    bold('POST /api/v1/provisioning/webhooks/subscription-created'),
    `(${payload.data.subscription_id})`,
  );
  const response = await stack.postWebhook('subscription-created', payload);
  const accepted = (await response.json()) as { tenant_id: string; domain: string; status_url: string };
  console.log(`  ${response.status}`, accepted, '\n');
  if (response.status !== 202) return stop(1);

  const tenantId = accepted.tenant_id;
  const seen = new Map<string, string>();
  let view: TenantView | undefined;
  const deadline = Date.now() + 5 * 60_000;
  console.log(bold(`Provisioning ${tenantId}`));
  for (;;) {
    view = await stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`).catch(() => undefined);
    for (const step of view?.steps ?? []) {
      const key = `${step.step}#${step.attempt}`;
      if (seen.get(key) === step.status) continue;
      seen.set(key, step.status);
      const took = step.duration_ms === null ? '' : ` (${(step.duration_ms / 1000).toFixed(2)} s)`;
      const error = step.error ? ` — ${step.error.code}: ${step.error.message}` : '';
      console.log(`  ${mark[step.status] ?? '?'} ${step.step.padEnd(22)} ${step.status}${took}${error}`);
    }
    const afterActivationDone = AFTER_ACTIVATION.every(
      (name) => view?.steps.find((s) => s.step === name)?.status === 'succeeded',
    );
    if (view?.state === 'failed' || (view?.state === 'active' && afterActivationDone)) break;
    if (Date.now() > deadline) {
      console.log('  still not done after 5 minutes; see the logs');
      return stop(1);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  console.log(
    `\n  state: ${bold(view.state)}${view.failure_reason ? ` (${view.failure_reason.message})` : ''}\n`,
  );

  console.log(bold('What exists now, read back from the servers'));
  const mysql = await createConnection({ host: '127.0.0.1', user: 'root' });
  const [dbs] = await mysql.query('SHOW DATABASES LIKE ?', [
    `${databaseName(tenantId, 'auth').slice(0, -'auth_db'.length)}%`,
  ]);
  await mysql.end();
  console.log(`  MariaDB: ${(dbs as unknown[]).length} databases (${databaseName(tenantId, 'auth')}, …)`);
  const vhost = await fetch(`http://127.0.0.1:15672/api/queues/${encodeURIComponent(vhostName(tenantId))}`, {
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
  });
  const queues = vhost.ok ? ((await vhost.json()) as { name: string }[]).map((q) => q.name) : [];
  console.log(`  RabbitMQ: vhost ${vhostName(tenantId)} with queues ${queues.join(', ')}`);
  const bucketHead = await fetch(`http://127.0.0.1:7480/${tenantId}-products`, { method: 'HEAD' });
  console.log(`  Ceph RGW: bucket ${tenantId}-products ${bucketHead.status === 404 ? 'missing' : 'exists'}`);
  const gitLog = execFileSync('git', ['--git-dir', stack.gitRemote, 'log', '--oneline', '-5'], {
    encoding: 'utf8',
  });
  console.log(`  GitOps repository ${stack.gitRemote}:\n${gitLog.replace(/^/gm, '    ')}`);
  const mail = stack.smtp.messages.find((m) => m.to.includes('admin@abc-corp.com'));
  const subject = mail ? ((await simpleParser(mail.raw)).subject ?? '') : '(none)';
  console.log(`  SMTP: ${stack.smtp.messages.length} e-mail(s); welcome subject: ${subject}`);
  const records = [...stack.websites.records.values()].filter((r) => r.tenant_id === tenantId);
  const described = records.map((r) => `${r.id} (${r.status}, activated_at ${r.activated_at ?? '-'})`);
  console.log(`  websites-service: record ${described.join(', ')}\n`);

  // A what-if plan changes nothing: the audit timeline below has no event for it.
  const upgrade = view.tier === 'business' ? 'premium' : 'business';
  console.log(bold(`What-if plan: ${tenantId} to tier ${upgrade} (computed, nothing changed)`));
  const plan = await stack.getJson<TenantPlan>(`/api/v1/tenants/${tenantId}/plan?tier=${upgrade}`);
  const quota = plan.kubernetes.changes.find((change) => change.kind === 'ResourceQuota');
  const gateway = plan.kubernetes.changes.find((change) => change.name === 'api-gateway');
  const replicas = gateway?.fields.find((field) => field.path === 'spec.replicas');
  const limits = Object.entries(plan.broker.limits).map(([name, l]) => `${name} ${l.before} -> ${l.after}`);
  console.log(`  ${plan.summary}`);
  console.log(
    `  Kubernetes: ${plan.kubernetes.changes.length} object(s) changed, ${plan.kubernetes.unchanged} unchanged; api-gateway replicas ${replicas?.before} -> ${replicas?.after}`,
  );
  console.log((quota?.diff ?? '').trimEnd().replace(/^/gm, '    '));
  console.log(`  MariaDB: ${plan.databases.statements[0] ?? 'no change'} (and one per service user)`);
  console.log(`  RabbitMQ: vhost ${plan.broker.vhost} ${limits.join(', ')}`);
  const bucket = plan.storage.buckets[0];
  console.log(
    `  Ceph RGW: ${bucket.bucket} quota ${bucket.quota_bytes.before} -> ${bucket.quota_bytes.after} bytes`,
  );
  console.log(`  full plan: npm run tenantctl -- plan ${tenantId} --tier ${upgrade}\n`);

  // Drift: someone deletes one of the tenant's queues by hand; a check finds it and repairs it by itself.
  const lostQueue = queues[queues.length - 1];
  console.log(bold(`Drift: queue ${lostQueue} deleted behind the control plane's back, then a check`));
  const guest = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  const queueUrl = `http://127.0.0.1:15672/api/queues/${encodeURIComponent(vhostName(tenantId))}/${encodeURIComponent(lostQueue)}`;
  await fetch(queueUrl, { method: 'DELETE', headers: { authorization: guest } });
  const check = await fetch(`${stack.apiUrl}/api/v1/tenants/${tenantId}/drift-check`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'demo: a queue was deleted by hand' }),
  });
  console.log(`  POST /api/v1/tenants/${tenantId}/drift-check: ${check.status}`);
  const driftDeadline = Date.now() + 3 * 60_000;
  for (;;) {
    const history = await stack.getJson<EventsPage>(
      `/api/v1/tenants/${tenantId}/events?limit=1000`,
      stack.auditorToken,
    );
    const drift = history.events.filter((e) =>
      /^Drift(Detected|Repaired|RepairFailed|CheckCompleted)$/.test(e.type),
    );
    const closed = drift.some((e) => e.type === 'DriftRepaired' || e.type === 'DriftRepairFailed');
    if (closed || Date.now() > driftDeadline) {
      for (const event of drift) {
        const { driftId, kind, code, automatic, verifiedBy } = event.data as Record<string, unknown>;
        const facts = [
          driftId,
          kind,
          code,
          automatic === undefined ? '' : `automatic=${String(automatic)}`,
          verifiedBy,
        ];
        console.log(`  ${event.type.padEnd(20)} ${facts.filter(Boolean).join('  ')}`);
      }
      if (!closed) console.log('  the drift was not closed within 3 minutes; see the orchestrator log');
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const restored = await fetch(queueUrl, { headers: { authorization: guest } });
  console.log(
    `  queue ${lostQueue}: ${restored.ok ? 'declared again' : `still missing (${restored.status})`}\n`,
  );

  console.log(bold('Audit timeline'));
  const page = await stack.getJson<EventsPage>(
    `/api/v1/tenants/${tenantId}/events?limit=500`,
    stack.auditorToken,
  );
  const start = Date.parse(page.events[0]?.occurred_at ?? new Date().toISOString());
  for (const event of page.events) {
    const offset = ((Date.parse(event.occurred_at) - start) / 1000).toFixed(2).padStart(7);
    const step = typeof event.data.step === 'string' ? event.data.step : '';
    console.log(
      `  +${offset}s  #${String(event.revision).padStart(3)}  ${(event.actor ?? '').padEnd(22)} ${event.type.padEnd(30)} ${step}`,
    );
  }

  if (process.env.DEMO_EXIT === '1') return stop(view.state === 'active' ? 0 : 1);
  console.log(
    `\nThe stack keeps running: console ${stack.apiUrl}/console, tokens in ${tokens} (owner-only, not printed).`,
  );
  console.log('Press Ctrl-C to stop every process.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
