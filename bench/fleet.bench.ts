/**
 * Fleet-scale provisioning: BENCH_TENANTS (default 1000) tenants through the whole running system (every app
 * its own process, as bench/provisioning.bench.ts starts it), at most BENCH_CONCURRENCY (default 50) webhooks
 * in flight. While it runs: a progress line on stderr, and the resident memory (VmRSS in /proc/<pid>/status)
 * of every app sampled twice a second. Afterwards:
 *   - webhook-to-active p50/p99 and tenants a minute;
 *   - a per-step table (StepStarted to its result event, from the tenant streams), and the same p50 for the
 *     first and the last hundred tenants (fewer when the run is smaller than two hundred): the cost per tenant
 *     must not grow with the fleet;
 *   - the git commits the run pushed to the GitOps bare remote (`git rev-list --count --all`), per tenant;
 *   - the spec's sequential script over as many tenants in the same run (see stack-bench.ts), as the
 *     reference rate;
 *   - the CPU seconds a tenant cost, per app (git processes included) and per server, read from /proc around
 *     the run, and the rate they allow when the machine's cores are fully used: what bounds the run;
 *   - with BENCH_CPU_PROFILE_DIR=<dir>, a V8 CPU profile of every app (`<app>.cpuprofile`, open it in Chrome's
 *     DevTools), written when the stack stops;
 *   - with BENCH_GIT_TIMINGS=1, where the GitOps writers' time went (bench/git-timings.ts): per group of
 *     changes, the wait for the locks, fetch, sync, the changes, staging, commit, push and refused pushes.
 * Leaves nothing behind: the tenants' resources go with the services' removal handlers, the stack's vhost,
 * schemas and directory (GitOps remote included) with it, the reference's tenants with DROP/DELETE. Ctrl-C
 * stops sending, gives up on the tenants in flight and still cleans up (a second Ctrl-C exits at once).
 *
 *   npm run build && BENCH_TENANTS=100 BENCH_CONCURRENCY=20 npm run bench:fleet
 *
 * Last line: RESULT fleet tenants= total_s= tenants_per_min= p50_s= p99_s= git_commits_per_tenant=
 * max_rss_mb= ... cpu_s_per_tenant= cpu_bound_tenants_per_min= (see the end of main()).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTenantId, type TenantProfile } from '@app/contracts';
import { createEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import { LocalStack, specSubscriptionCreated, type AppName } from '../test/support/local-stack';
import { removeTenantResources } from '../test/support/tenant-cleanup';
import {
  formatStepTable,
  mergeDurations,
  percentile,
  pooled,
  positiveInt,
  sleep,
  specScript,
  stepOrder,
  stepRows,
  tenantStepDurations,
  type StepDurations,
} from './stack-bench';
import { cpuBetween, Progress, readCpu, RssSampler, gitCommits, type CpuReading } from './fleet-measurements';
import { GIT_TIMINGS, GIT_TIMING_APPS, gitTimingReport } from './git-timings';

const TENANTS = positiveInt('BENCH_TENANTS', 1000);
const CONCURRENCY = positiveInt('BENCH_CONCURRENCY', 50);
const TENANT_TIMEOUT_MS = positiveInt('BENCH_TENANT_TIMEOUT_MS', 900_000);
/** The first and last this many tenants are compared (per-step p50). */
const EDGE = Math.min(100, Math.floor(TENANTS / 2));

let interrupted = false;
const onInterrupt: (() => void)[] = [];
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write('\ninterrupted: no new tenants; cleaning up (Ctrl-C again to exit now)\n');
  for (const listener of onInterrupt) listener();
});

// ---------------------------------------------------------------------------------------------------------
// The run

interface Waiter {
  resolve(recordedAt: number): void;
  reject(error: Error): void;
}

interface TenantRun {
  index: number;
  tenantId?: string;
  sentAt: number;
  latencyS?: number;
  error?: string;
}

interface FleetRun {
  tenants: TenantRun[];
  wallS: number;
  /** Every event the tenant streams received during the run (after-activation steps included). */
  events: number;
}

async function runFleet(
  stack: LocalStack,
  events: EventStore,
  onActive: (active: number) => void = () => undefined,
): Promise<FleetRun> {
  const waiting = new Map<string, Waiter>();
  const early = new Map<string, RecordedEvent>();
  let eventCount = 0;
  const settle = (tenantId: string, event: RecordedEvent) => {
    const waiter = waiting.get(tenantId);
    if (!waiter) return void early.set(tenantId, event);
    waiting.delete(tenantId);
    if (event.type === 'TenantActivated') waiter.resolve(event.recordedAt.getTime());
    else waiter.reject(new Error(`failed: ${JSON.stringify(event.data).slice(0, 300)}`));
  };
  const subscription = events.subscribe(
    { category: 'tenant' },
    {
      name: 'bench-fleet',
      fromCheckpoint: 'end',
      handler: (event) => {
        eventCount += 1;
        if (event.type === 'TenantActivated' || event.type === 'TenantProvisioningFailed') {
          settle(event.streamName.slice('tenant-'.length), event);
        }
      },
    },
  );
  onInterrupt.push(() => {
    for (const [tenantId, waiter] of waiting) {
      waiting.delete(tenantId);
      waiter.reject(new Error('interrupted'));
    }
  });

  const run = randomBytes(3).toString('hex');
  const tenants: TenantRun[] = Array.from({ length: TENANTS }, (_, index) => ({ index, sentAt: 0 }));
  let active = 0;
  let failed = 0;
  let inFlight = 0;
  const progress = new Progress(TENANTS, () => ({ active, failed, inFlight }));
  const started = Date.now();
  try {
    await pooled(tenants, CONCURRENCY, async (tenant) => {
      if (interrupted) return;
      inFlight += 1;
      try {
        const payload = specSubscriptionCreated(
          `sub_fleet_${run}_${tenant.index}`,
          `Fleet Shop ${tenant.index}`,
        );
        payload.data.customer.email = `admin-${run}-${tenant.index}@fleet.example.com`;
        tenant.sentAt = Date.now();
        const response = await stack.postWebhook('subscription-created', payload);
        if (response.status !== 202) {
          throw new Error(`webhook answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
        }
        const { tenant_id: tenantId } = (await response.json()) as { tenant_id: string };
        tenant.tenantId = tenantId;
        const activatedAt = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => {
            waiting.delete(tenantId);
            reject(new Error(`not active after ${TENANT_TIMEOUT_MS} ms`));
          }, TENANT_TIMEOUT_MS);
          waiting.set(tenantId, {
            resolve: (at) => (clearTimeout(timer), resolve(at)),
            reject: (error) => (clearTimeout(timer), reject(error)),
          });
          const seen = early.get(tenantId);
          if (seen) {
            early.delete(tenantId);
            settle(tenantId, seen);
          }
        });
        tenant.latencyS = (activatedAt - tenant.sentAt) / 1000;
        active += 1;
        onActive(active);
      } catch (error) {
        tenant.error = error instanceof Error ? error.message : String(error);
        failed += 1;
      } finally {
        inFlight -= 1;
      }
    });
  } finally {
    progress.stop();
  }
  const wallS = (Date.now() - started) / 1000;
  // After-activation steps (welcome e-mail, Grafana viewer) still run: wait until the streams are quiet.
  try {
    let seen = -1;
    for (let attempt = 0; attempt < 60 && !interrupted && eventCount !== seen; attempt += 1) {
      seen = eventCount;
      await sleep(3000);
    }
  } finally {
    await subscription.stop();
  }
  return { tenants, wallS, events: eventCount };
}

/** The first event of each stream is TenantRequested: the profile the removal handlers need. */
async function profilesOf(events: EventStore, tenantIds: readonly string[]): Promise<TenantProfile[]> {
  const profiles: TenantProfile[] = [];
  await pooled(tenantIds, 8, async (tenantId) => {
    const requested = (await events.readStream(`tenant-${tenantId}`, { limit: 1 }))[0];
    if (requested?.type === 'TenantRequested') {
      profiles.push((requested.data as { tenant: TenantProfile }).tenant);
    }
  });
  return profiles;
}

/** Per step: p50 over the first `edge` tenants, over the last `edge`, and the change in percent. */
function edgeComparison(
  perTenant: readonly StepDurations[],
  edge: number,
): { table: string; worstPct: number; worstStep: string } {
  const order = stepOrder(perTenant);
  const first = new Map(stepRows(mergeDurations(perTenant.slice(0, edge))).map((row) => [row.step, row]));
  const last = new Map(stepRows(mergeDurations(perTenant.slice(-edge))).map((row) => [row.step, row]));
  const width = Math.max(4, ...order.map((step) => step.length));
  const lines = [
    `${'step'.padEnd(width)}  ${`first${edge}_p50`.padStart(12)}  ${`last${edge}_p50`.padStart(12)}  ${'change'.padStart(8)}`,
  ];
  let worstPct = 0;
  let worstStep = 'none';
  for (const step of order) {
    const a = first.get(step);
    const b = last.get(step);
    if (!a || !b) continue;
    const pct = a.p50 > 0 ? ((b.p50 - a.p50) / a.p50) * 100 : 0;
    if (pct > worstPct || worstStep === 'none') [worstPct, worstStep] = [pct, step];
    lines.push(
      `${step.padEnd(width)}  ${a.p50.toFixed(2).padStart(12)}  ${b.p50.toFixed(2).padStart(12)}  ` +
        `${`${pct >= 0 ? '+' : ''}${pct.toFixed(0)}%`.padStart(8)}`,
    );
  }
  return { table: lines.join('\n'), worstPct, worstStep };
}

async function main(): Promise<void> {
  const run = randomBytes(3).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `bench-fleet-${run}-`));
  const stack = new LocalStack({
    dir,
    database: 'provisioning_test',
    schemaPrefix: `fleet_${run}`,
    vhost: `fleet-${run}`,
    logLevel: 'warn',
    pools: 'production',
    // The GitOps services run with deploy/'s COMMAND_PREFETCH=50 (larger group commits); the rest as deployed.
    env: Object.fromEntries(
      GIT_TIMING_APPS.map((app) => [
        app,
        { COMMAND_PREFETCH: '50', ...(GIT_TIMINGS ? { LOG_LEVEL: 'debug' } : {}) },
      ]),
    ),
  });
  let gitTimings = '';
  let events: EventStore | undefined;
  let fleet: FleetRun | undefined;
  let perTenant: StepDurations[] = [];
  let commits = 0;
  let rss: { app: string; mb: number } = { app: 'none', mb: 0 };
  let rssPerApp = new Map<AppName, number>();
  let cpu: ReturnType<typeof cpuBetween> | undefined;
  let cpuEdges: { first: ReturnType<typeof cpuBetween>; last: ReturnType<typeof cpuBetween> } | undefined;
  const tenantIds: string[] = [];
  try {
    await stack.start();
    events = await createEventStore(stack.pgUrl, { schema: stack.eventStoreSchema, migrate: false });
    const commitsBefore = gitCommits(stack.gitRemote);
    const sampler = new RssSampler(stack);
    const cpuBefore: CpuReading = readCpu(stack);
    // Readings when the first EDGE tenants are active and when all but the last EDGE are: what a tenant
    // costs each component early in the run against late, when the servers and the store hold the fleet.
    const marks = new Map<number, CpuReading>();
    const onActive = (count: number) => {
      if (count === EDGE || count === TENANTS - EDGE || count === TENANTS) marks.set(count, readCpu(stack));
    };
    try {
      fleet = await runFleet(stack, events, onActive);
      const [first, lastFrom, lastTo] = [EDGE, TENANTS - EDGE, TENANTS].map((count) => marks.get(count));
      if (first && lastFrom && lastTo && TENANTS - EDGE >= EDGE) {
        cpuEdges = { first: cpuBetween(cpuBefore, first), last: cpuBetween(lastFrom, lastTo) };
      }
    } finally {
      cpu = cpuBetween(cpuBefore, readCpu(stack));
      sampler.stop();
      rss = sampler.largest();
      rssPerApp = sampler.maxKb;
    }
    commits = gitCommits(stack.gitRemote) - commitsBefore;
    for (const tenant of fleet.tenants) if (tenant.tenantId) tenantIds.push(tenant.tenantId);
    const sent = fleet.tenants.filter((tenant) => tenant.tenantId !== undefined);
    perTenant = await tenantStepDurations(
      events,
      sent.map((tenant) => tenant.tenantId as string),
    );
  } finally {
    process.stderr.write(`removing what the run made (${tenantIds.length} tenants)…\n`);
    const profiles = events ? await profilesOf(events, tenantIds).catch(() => []) : [];
    await events?.close();
    await stack.stop();
    if (GIT_TIMINGS) gitTimings = gitTimingReport(stack.logDir);
    await removeTenantResources(stack, profiles);
    await stack.removeVhost();
    await stack.dropSchemas();
    rmSync(dir, { recursive: true, force: true });
  }
  if (interrupted) {
    console.log('interrupted: no RESULT');
    return;
  }

  process.stderr.write(`spec script over ${TENANTS} tenants (reference)…\n`);
  const referenceIds = Array.from({ length: TENANTS }, () =>
    generateTenantId('Ref', randomBytes(3).toString('hex')),
  );
  const specSeconds = await specScript(referenceIds);

  const succeeded = fleet.tenants.filter((tenant) => tenant.latencyS !== undefined);
  const failures = fleet.tenants.filter((tenant) => tenant.error !== undefined);
  const sorted = succeeded.map((tenant) => tenant.latencyS as number).sort((a, b) => a - b);
  const p50 = sorted.length > 0 ? percentile(sorted, 50) : NaN;
  const p99 = sorted.length > 0 ? percentile(sorted, 99) : NaN;
  const perMinute = (succeeded.length / fleet.wallS) * 60;
  const specPerMinute = (TENANTS / specSeconds) * 60;
  const edges = edgeComparison(perTenant, EDGE);

  console.log(
    `fleet: ${succeeded.length}/${TENANTS} tenants active (concurrency ${CONCURRENCY}) in ` +
      `${fleet.wallS.toFixed(1)} s, ${perMinute.toFixed(1)} a minute; webhook->active p50 ${p50.toFixed(2)} s, ` +
      `p99 ${p99.toFixed(2)} s, max ${(sorted[sorted.length - 1] ?? NaN).toFixed(2)} s`,
  );
  if (failures.length > 0) {
    console.log(`${failures.length} tenants failed; the first ones:`);
    for (const tenant of failures.slice(0, 5)) {
      console.log(`  #${tenant.index} ${tenant.tenantId ?? '(no tenant id)'}: ${tenant.error}`);
    }
  }
  console.log(
    `load: ${fleet.events} tenant events (${(fleet.events / TENANTS).toFixed(1)} per tenant), ` +
      `${commits} git commits (${(commits / TENANTS).toFixed(2)} per tenant)`,
  );
  console.log(
    `memory: largest resident set ${rss.mb.toFixed(0)} MB (${rss.app}); per app: ` +
      [...rssPerApp].map(([app, kb]) => `${app} ${(kb / 1024).toFixed(0)}`).join(', '),
  );
  const cores = availableParallelism();
  const cpuPerTenant = cpu ? cpu.machine / Math.max(1, succeeded.length) : NaN;
  if (cpu) {
    console.log(
      `cpu: ${cpu.machine.toFixed(1)} s busy on ${cores} cores over ${cpu.wallS.toFixed(1)} s ` +
        `(${((cpu.machine / (cores * cpu.wallS)) * 100).toFixed(0)} % of the machine), ` +
        `${cpuPerTenant.toFixed(2)} s a tenant; bound at full use: ${((cores * 60) / cpuPerTenant).toFixed(0)} tenants a minute\n` +
        `cpu seconds per tenant by component (apps include their git processes):\n` +
        [...cpu.rows, ['everything else', Math.max(0, cpu.machine - cpu.accounted)] as [string, number]]
          .map(
            ([name, seconds]) =>
              `  ${name.padEnd(22)} ${(seconds / Math.max(1, succeeded.length)).toFixed(3).padStart(7)} s ` +
              `${((seconds / Math.max(cpu?.machine ?? 1, 1e-9)) * 100).toFixed(1).padStart(5)} %`,
          )
          .join('\n'),
    );
  }
  if (cpuEdges) console.log(cpuEdgeTable(cpuEdges.first, cpuEdges.last));
  console.log(
    `per step (StepStarted to its result, every tenant):\n${formatStepTable(stepRows(mergeDurations(perTenant), stepOrder(perTenant)))}`,
  );
  console.log(`per-step p50, first ${EDGE} tenants against last ${EDGE} (in webhook order):\n${edges.table}`);
  console.log(
    `spec script: ${TENANTS} tenants' databases, vhosts and buckets, sequentially, in ${specSeconds.toFixed(1)} s ` +
      `(${specPerMinute.toFixed(1)} a minute; the system reached ${((perMinute / specPerMinute) * 100).toFixed(0)} %)`,
  );
  if (gitTimings) console.log(gitTimings);
  console.log(
    `RESULT fleet tenants=${TENANTS} failed=${failures.length} concurrency=${CONCURRENCY} ` +
      `total_s=${fleet.wallS.toFixed(1)} tenants_per_min=${perMinute.toFixed(1)} p50_s=${p50.toFixed(2)} ` +
      `p99_s=${p99.toFixed(2)} git_commits_per_tenant=${(commits / TENANTS).toFixed(2)} ` +
      `max_rss_mb=${rss.mb.toFixed(0)} max_rss_app=${rss.app} ` +
      `spec_script_tenants_per_min=${specPerMinute.toFixed(1)} edge_tenants=${EDGE} ` +
      `worst_step_p50_change_pct=${edges.worstPct.toFixed(0)} worst_step=${edges.worstStep} ` +
      `cpu_s_per_tenant=${cpuPerTenant.toFixed(2)} cpu_bound_tenants_per_min=${((cores * 60) / cpuPerTenant).toFixed(0)}`,
  );
}

/** CPU seconds a tenant cost each component while the first EDGE tenants went active, and the last EDGE. */
function cpuEdgeTable(first: ReturnType<typeof cpuBetween>, last: ReturnType<typeof cpuBetween>): string {
  const lastOf = new Map(last.rows);
  const rows = [
    ...first.rows.map(([name, seconds]) => [name, seconds / EDGE, (lastOf.get(name) ?? 0) / EDGE] as const),
    ['machine', first.machine / EDGE, last.machine / EDGE] as const,
  ];
  return (
    `cpu seconds per tenant, first ${EDGE} active against last ${EDGE}:\n` +
    `  ${'component'.padEnd(22)} ${'first'.padStart(7)} ${'last'.padStart(7)} ${'change'.padStart(7)}\n` +
    rows
      .map(
        ([name, a, b]) =>
          `  ${name.padEnd(22)} ${a.toFixed(3).padStart(7)} ${b.toFixed(3).padStart(7)} ` +
          `${a > 0 ? `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(0)}%` : '-'}`.padStart(7),
      )
      .join('\n')
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
