import { TIERS } from '@app/contracts';
import { exportNdjson } from '@app/audit';
import {
  evolveTenantSummary,
  foldTenantSummary,
  GetTenant,
  LIST_MAX_LIMIT,
  ListTenants,
  TENANT_STATUSES,
  tenantDetail,
  tenantListItem,
  toSummaryEvent,
  type TenantSummary,
} from '@app/tenancy';
import { Option } from 'commander';
import { instantArg, json, positiveInt, tenantArg } from './args';
import { CliFailure, EXIT, usage } from './cli-io';
import {
  formatDuration,
  healthOf,
  HEALTH_WORDS,
  isSettled,
  printable,
  table,
  timelineEntry,
  timelineRow,
  TIMELINE_HEADERS,
  type HealthWord,
} from './format';
import { assertTenantExists, readTenantEvents, unknownTenant, type TenantctlContext } from './resources';

/** `list`, `status`, `watch`, `history` and `state`: what operators and auditors read about tenants. */
export function addTenantCommands({ program, io, resources, setExit }: TenantctlContext): void {
  const out = (text: string) => io.stdout.write(text);

  program
    .command('list')
    .description('List tenants from the read model')
    .addOption(
      new Option('--state <state>', 'only tenants in this state').choices([
        ...TENANT_STATUSES,
        'rolling-back',
      ]),
    )
    .addOption(new Option('--tier <tier>', 'only tenants of this tier').choices([...TIERS]))
    .option('--search <text>', 'substring of tenant id, company or domain')
    .option(
      '--limit <n>',
      `at most n tenants (1..${LIST_MAX_LIMIT})`,
      positiveInt('--limit', 1, LIST_MAX_LIMIT),
      50,
    )
    .option('--offset <n>', 'skip the first n tenants', positiveInt('--offset', 0, 1_000_000), 0)
    .option('--json', 'print JSON (the API shape)')
    .action(
      async (options: {
        state?: string;
        tier?: string;
        search?: string;
        limit: number;
        offset: number;
        json?: boolean;
      }) => {
        const state = options.state === 'rolling-back' ? 'rolling_back' : options.state;
        const query = {
          ...(state ? { state } : {}),
          ...(options.tier ? { tier: options.tier } : {}),
          ...(options.search ? { q: options.search } : {}),
          limit: String(options.limit),
          offset: String(options.offset),
        };
        const page = await (await resources.queryBus()).execute(new ListTenants(query));
        if (options.json) return void out(json({ ...page, items: page.items.map(tenantListItem) }));
        const rows = page.items.map((tenant) => [
          tenant.tenantId,
          healthOf(tenant.status),
          tenant.tier,
          tenant.region,
          tenant.currentStep ?? '-',
          tenant.updatedAt,
          tenant.companyName,
        ]);
        out(`${table(['TENANT', 'HEALTH', 'TIER', 'REGION', 'STEP', 'UPDATED', 'COMPANY'], rows)}\n`);
        out(`${page.items.length} of ${page.total} tenants\n`);
      },
    );

  program
    .command('status')
    .description(`Health of one tenant (${HEALTH_WORDS.join(' / ')}) and the detail of every step`)
    .argument('<tenant>', 'tenant id, e.g. abc-corporation-7f3a9c')
    .option('--json', 'print JSON')
    .action(async (tenant: string, options: { json?: boolean }) => {
      const tenantId = tenantArg(tenant);
      // The read model's row, or the stream folded when the projector has not caught up yet.
      const summary = await (await resources.queryBus()).execute(new GetTenant(tenantId));
      if (options.json) return void out(json({ health: healthOf(summary.status), ...tenantDetail(summary) }));
      out(statusText(summary));
    });

  program
    .command('watch')
    .description(
      'Follow a tenant live until it settles (active, failed, cancelled, suspended, purged) or Ctrl-C',
    )
    .argument('<tenant>', 'tenant id')
    .option(
      '--timeout <seconds>',
      'give up after this long (exit 5)',
      positiveInt('--timeout', 1, 31 * 24 * 3600),
    )
    .option('--interval <ms>', 'poll period of the event store', positiveInt('--interval', 20, 60_000), 1000)
    .action(async (tenant: string, options: { timeout?: number; interval: number }) => {
      const tenantId = tenantArg(tenant);
      const store = await resources.eventStore();
      const events = await readTenantEvents(store, tenantId);
      let summary = foldTenantSummary(events.map(toSummaryEvent));
      if (!summary) throw unknownTenant(tenantId);
      let health: HealthWord = healthOf(summary.status);
      out(`${tenantId}: ${health} (revision ${summary.revision})\n`);
      if (isSettled(health)) return;
      const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout * 1000;
      let next = events[events.length - 1].revision + 1;
      for (;;) {
        if (io.signal?.aborted) {
          out(`interrupted; ${tenantId} is ${health}\n`);
          return setExit(EXIT.INTERRUPTED);
        }
        if (Date.now() >= deadline) {
          io.stderr.write(`timed out; ${tenantId} is still ${health}\n`);
          return setExit(EXIT.TIMEOUT);
        }
        await sleep(Math.min(options.interval, Math.max(0, deadline - Date.now())), io.signal);
        for (const event of await readTenantEvents(store, tenantId, next)) {
          next = event.revision + 1;
          summary = evolveTenantSummary(summary, toSummaryEvent(event)) ?? summary;
          out(`${timelineRow(timelineEntry(event)).map(printable).join('  ')}\n`);
          const now = healthOf(summary.status);
          if (now !== health) out(`${tenantId}: ${health} -> ${now}\n`);
          health = now;
        }
        if (isSettled(health)) return;
      }
    });

  program
    .command('history')
    .description('Timeline of a tenant: time, type, actor, step, detail')
    .argument('<tenant>', 'tenant id')
    .option('--json', 'print JSON (data with secret-looking keys masked)')
    .option(
      '--ndjson',
      'print the audit export (events as stored, with chain hashes) for offline `verify --file`',
    )
    .action(async (tenant: string, options: { json?: boolean; ndjson?: boolean }) => {
      const tenantId = tenantArg(tenant);
      if (options.json && options.ndjson) throw usage('--json and --ndjson are exclusive');
      const store = await resources.eventStore();
      if (options.ndjson) {
        await assertTenantExists(store, tenantId);
        for await (const line of exportNdjson(store, tenantId)) out(`${line}\n`);
        return;
      }
      const entries = (await readTenantEvents(store, tenantId)).map(timelineEntry);
      if (options.json) return void out(json(entries));
      out(`${table([...TIMELINE_HEADERS], entries.map(timelineRow))}\n`);
    });

  program
    .command('state')
    .description('State of a tenant as it was at a past instant (its stream replayed up to then)')
    .argument('<tenant>', 'tenant id')
    .requiredOption('--at <instant>', 'ISO 8601 instant, e.g. 2025-01-15T10:30:00Z')
    .option('--json', 'print JSON')
    .action(async (tenant: string, options: { at: string; json?: boolean }) => {
      const tenantId = tenantArg(tenant);
      const at = instantArg(options.at);
      const events = await readTenantEvents(await resources.eventStore(), tenantId);
      const summary = foldTenantSummary(
        events.map(toSummaryEvent).filter((event) => Date.parse(event.occurredAt) <= at),
      );
      const asOf = new Date(at).toISOString();
      if (!summary)
        throw new CliFailure(EXIT.UNKNOWN_TENANT, `tenant ${tenantId} did not exist yet at ${asOf}`);
      if (options.json) {
        return void out(json({ as_of: asOf, health: healthOf(summary.status), ...tenantDetail(summary) }));
      }
      out(statusText(summary, asOf));
    });
}

function statusText(summary: TenantSummary, asOf?: string): string {
  const detail = tenantDetail(summary);
  const health = healthOf(summary.status);
  const fields: [string, string][] = [
    ['tenant', summary.tenantId],
    ['health', health],
    ...(asOf ? ([['as of', asOf]] as [string, string][]) : []),
    ['company', `${summary.companyName} (${summary.tier}, ${summary.region})`],
    ['domain', summary.domain],
    ['created', summary.createdAt],
    ['updated', summary.updatedAt],
    ['activated', summary.activatedAt ?? '-'],
    ['current step', summary.currentStep ?? '-'],
  ];
  if (summary.failureReason) {
    fields.push([
      'failure',
      `${summary.failureReason.step}: ${summary.failureReason.code}: ${summary.failureReason.message}`,
    ]);
  }
  if (summary.deprovisioning) {
    fields.push([
      'cancellation',
      `${summary.deprovisioning.reason}; deletion on ${summary.deprovisioning.deletionDate}${summary.deprovisioning.purgeStartedAt ? `; purge since ${summary.deprovisioning.purgeStartedAt}` : ''}`,
    ]);
  }
  if (summary.purgedAt) fields.push(['purged', summary.purgedAt]);
  fields.push(['revision', String(summary.revision)]);
  const steps = detail.steps.map((step) => [
    step.step,
    step.status,
    String(step.attempt),
    step.service,
    step.started_at,
    formatDuration(step.duration_ms),
    step.error ? `${step.error.code}: ${step.error.message}` : '',
  ]);
  const head = table(
    ['FIELD', 'VALUE'],
    fields.map(([name, value]) => [name, value]),
  )
    .split('\n')
    .slice(1)
    .join('\n');
  const body =
    steps.length > 0
      ? table(['STEP', 'STATUS', 'ATTEMPT', 'SERVICE', 'STARTED', 'DURATION', 'ERROR'], steps)
      : '(no step started)';
  return `${head}\n\n${body}\n`;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
