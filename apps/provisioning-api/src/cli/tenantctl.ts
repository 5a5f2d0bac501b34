#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { isTenantId, TIERS, tenantStream, TENANT_STREAM_CATEGORY } from '@app/contracts';
import {
  exportNdjson,
  verifyNdjson,
  verifyTenant,
  type NdjsonVerification,
  type TenantVerification,
} from '@app/audit';
import { createEventStore, readStreamOrEmpty, type EventStore, type RecordedEvent } from '@app/event-store';
import { ConfigError } from '@app/platform';
import { SecretStoreError } from '@app/secrets';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pino, { type Logger } from 'pino';
import { OperationError, OPERATION_ERROR_CODES } from '../operations/operations.errors';
import { OPERATOR_NAME_PATTERN, TenantOperations } from '../operations/operations.service';
import { createTenantReadModel } from '../tenants/create-read-model';
import { QueryError, QUERY_ERROR_CODES } from '../tenants/query.errors';
import { TenantQueries, tenantDetail, LIST_MAX_LIMIT } from '../tenants/tenant-queries';
import type { TenantReadModel } from '../tenants/tenant-read-model';
import {
  evolveTenantSummary,
  foldTenantSummary,
  TENANT_STATUSES,
  toSummaryEvent,
  type TenantStatus,
  type TenantSummary,
} from '../tenants/tenant-summary.projection';
import { loadTenantctlConfig, type TenantctlConfig } from './cli.config';
import { CliFailure, EXIT, usage, type CliIo } from './cli-io';
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
import { addGitOpsCommands } from './gitops.command';
import { addSecretsCommands } from './secrets.command';

export { EXIT, type CliIo, type TextSink } from './cli-io';

/** PostgreSQL's `undefined_table`: the configured schema holds no event store. */
const UNDEFINED_TABLE = '42P01';

const unknownTenant = (tenantId: string) => new CliFailure(EXIT.UNKNOWN_TENANT, `unknown tenant ${tenantId}`);

const EXIT_CODES_HELP = `
Exit codes:
  0    the command succeeded (whatever the tenant's state)
  1    any other error (store unreachable, action refused by the tenant's state, ...)
  2    bad arguments or configuration
  3    unknown tenant
  4    verify: the audit chain or the export does not match
  5    watch: --timeout passed before the tenant settled
  130  watch, secrets rotate-key: interrupted (Ctrl-C)

Configuration (environment, as for the API): EVENTSTORE_URL, EVENTSTORE_SCHEMA, READ_MODEL_URL,
READ_MODEL_SCHEMA, GRACE_PERIOD_DAYS, LOG_LEVEL (default warn; logs go to stderr). \`secrets\` reads the
services' SECRET_STORE_URL, SECRET_STORE_KEY, SECRET_STORE_KEYS and SECRET_STORE_KEY_ID instead; \`gitops\`
reads the k8s-service's GITOPS_REMOTE, GITOPS_BRANCH (default main), GITOPS_WORKDIR and GITOPS_AUTHOR_*.`;

/** Opened on first use and closed once the command ends: `--help` and argument errors need no database. */
class Resources {
  private store: EventStore | undefined;
  private readModel: TenantReadModel | undefined;
  private config: TenantctlConfig | undefined;
  private logger: Logger | undefined;

  constructor(private readonly io: CliIo) {}

  settings(): TenantctlConfig {
    this.config ??= loadTenantctlConfig(this.io.env);
    return this.config;
  }

  private log(): Logger {
    this.logger ??= pino(
      { name: 'tenantctl', level: this.settings().LOG_LEVEL },
      { write: (line: string) => this.io.stderr.write(line) },
    );
    return this.logger;
  }

  /** Opened without upcasters: `verify` and `history --ndjson` must see the data exactly as stored. */
  async eventStore(): Promise<EventStore> {
    const config = this.settings();
    this.store ??= await createEventStore(config.EVENTSTORE_URL, {
      schema: config.EVENTSTORE_SCHEMA,
      logger: this.log().child({ component: 'event-store' }),
      applicationName: 'tenantctl',
      // An operator tool does not run DDL on the event store; a wrong schema fails instead of being created.
      migrate: false,
      poolSize: 2,
    });
    return this.store;
  }

  async tenantReadModel(): Promise<TenantReadModel> {
    const config = this.settings();
    this.readModel ??= await createTenantReadModel(config.READ_MODEL_URL, config.READ_MODEL_SCHEMA);
    return this.readModel;
  }

  async queries(): Promise<TenantQueries> {
    return new TenantQueries(await this.eventStore(), await this.tenantReadModel());
  }

  async operations(): Promise<TenantOperations> {
    return new TenantOperations(await this.eventStore(), {
      gracePeriodDays: this.settings().GRACE_PERIOD_DAYS,
      now: this.io.now,
    });
  }

  async close(): Promise<void> {
    await this.readModel?.close().catch(() => undefined);
    await this.store?.close().catch(() => undefined);
  }
}

function tenantArg(value: string): string {
  if (!isTenantId(value))
    throw usage(
      `invalid tenant id ${JSON.stringify(printable(value))}: expected e.g. abc-corporation-7f3a9c`,
    );
  return value;
}

function positiveInt(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}.`);
    }
    return Number(value);
  };
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** A date, or a date-time with an explicit zone: a local time would mean something else on every machine. */
function instantArg(value: string): number {
  const ms = Date.parse(value);
  if (!ISO_INSTANT.test(value) || !Number.isFinite(ms)) {
    throw usage(
      `--at must be an ISO 8601 instant with a zone, e.g. 2025-01-15T10:30:00Z (got ${JSON.stringify(printable(value))})`,
    );
  }
  return ms;
}

async function readTenantEvents(store: EventStore, tenantId: string, from = 0): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let next = from; ;) {
    const page = await readStreamOrEmpty(store, tenantStream(tenantId), { from: next, limit: 1000 });
    // A stream that exists has an event at revision 0: nothing there means no such tenant.
    if (page.length === 0 && next === 0) throw unknownTenant(tenantId);
    events.push(...page);
    if (page.length < 1000) return events;
    next = page[page.length - 1].revision + 1;
  }
}

async function assertTenantExists(store: EventStore, tenantId: string): Promise<void> {
  const [first] = await readStreamOrEmpty(store, tenantStream(tenantId), { limit: 1 });
  if (first === undefined) throw unknownTenant(tenantId);
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
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

function verificationText(result: TenantVerification): string {
  if (result.ok) {
    const covered =
      result.coveredUpTo < 0
        ? 'no event is covered by the audit chain yet (is the audit-chain projector running?)'
        : `${result.checkedEvents} events match the audit chain up to revision ${result.coveredUpTo} (head ${result.chainHead})`;
    return `ok ${result.streamName}: ${covered}; ${result.uncoveredEvents} newer events not yet covered\n`;
  }
  const m = result.firstMismatch;
  if (!m) return `FAILED ${result.streamName}\n`;
  return [
    `FAILED ${result.streamName}: revision ${m.revision} (${m.type ?? 'unknown type'}, event ${m.eventId ?? 'unknown'}): ${m.reason}${m.detail ? ` - ${m.detail}` : ''}`,
    `  recorded hash:   ${m.expectedHash ?? '-'}`,
    `  recomputed hash: ${m.actualHash ?? '-'}`,
    `  ${result.checkedEvents} earlier events verified`,
    '',
  ].join('\n');
}

function ndjsonVerificationText(file: string, result: NdjsonVerification): string {
  if (result.ok) {
    return `ok ${file}: ${result.checkedEvents} events of ${result.streamName} verified, covered up to revision ${result.coveredUpTo} (head ${result.chainHead}); ${result.uncoveredEvents ?? 0} events not vouched for by a checkpoint\n`;
  }
  const e = result.firstError;
  if (!e) return `FAILED ${file}\n`;
  return `FAILED ${file}: line ${e.line}${e.revision !== undefined ? `, revision ${e.revision}` : ''}${e.eventId ? ` (event ${e.eventId})` : ''}: ${e.reason} - ${e.detail}\n`;
}

function parseAnchor(value: string, previous: { revision: number; hash: string }[] = []) {
  const match = /^(-1|\d{1,9}):([0-9a-f]{64})$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected <revision>:<64 lowercase hex digits>.');
  return [...previous, { revision: Number(match[1]), hash: match[2] }];
}

function operatorName(as: string | undefined, env: NodeJS.ProcessEnv): string {
  const name = as ?? env['USER'] ?? env['LOGNAME'];
  if (!name) throw usage('cannot tell who you are: pass --as <name> (or set USER)');
  if (!OPERATOR_NAME_PATTERN.test(name)) throw usage(`operator name must match ${OPERATOR_NAME_PATTERN}`);
  return name;
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

function buildProgram(io: CliIo, resources: Resources, setExit: (code: number) => void): Command {
  const out = (text: string) => io.stdout.write(text);
  const program = new Command('tenantctl')
    .description('Operate and audit tenants of the provisioning control plane')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP);

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
        const queries = await resources.queries();
        const state = options.state === 'rolling-back' ? 'rolling_back' : options.state;
        const page = await queries.list({
          ...(state ? { state } : {}),
          ...(options.tier ? { tier: options.tier } : {}),
          ...(options.search ? { q: options.search } : {}),
          limit: String(options.limit),
          offset: String(options.offset),
        });
        if (options.json) return void out(json(page));
        const rows = page.items.map((item) => [
          item.tenant_id,
          healthOf(item.state),
          item.tier,
          item.region,
          item.current_step ?? '-',
          item.updated_at,
          item.company_name,
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
      const summary = await currentSummary(resources, tenantId);
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

  program
    .command('verify')
    .description('Check the tenant stream against its audit hash chain, or an NDJSON export offline')
    .argument('[tenant]', 'tenant id (online check)')
    .option('--file <path>', 'verify an export of `history --ndjson` without any system access')
    .option(
      '--anchor <revision:hash>',
      'with --file: a chain head known independently (repeatable)',
      parseAnchor,
    )
    .option('--json', 'print JSON')
    .action(
      async (
        tenant: string | undefined,
        options: { file?: string; anchor?: { revision: number; hash: string }[]; json?: boolean },
      ) => {
        if ((tenant === undefined) === (options.file === undefined))
          throw usage('give either a tenant id or --file');
        if (options.anchor && !options.file) throw usage('--anchor needs --file');
        if (options.file !== undefined) {
          let content: string;
          try {
            content = await readFile(options.file, 'utf8');
          } catch (error) {
            throw usage(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
          }
          const result = verifyNdjson(content, { anchors: options.anchor ?? [] });
          out(options.json ? json(result) : ndjsonVerificationText(options.file, result));
          if (!result.ok) setExit(EXIT.VERIFY_FAILED);
          return;
        }
        const tenantId = tenantArg(tenant ?? '');
        const store = await resources.eventStore();
        await assertTenantExists(store, tenantId);
        const result = await verifyTenant(store, tenantId);
        out(options.json ? json(result) : verificationText(result));
        if (!result.ok) setExit(EXIT.VERIFY_FAILED);
      },
    );

  program
    .command('retry')
    .description('Ask the orchestrator to re-issue a parked step, or `backup` for a blocked backup round')
    .argument('<tenant>', 'tenant id')
    .argument('<step>', 'step key, e.g. compensate:databases, purge:storage, backup')
    .requiredOption('--reason <text>', 'why (recorded in the tenant stream)')
    .option('--as <name>', 'operator name recorded as operator:<name> (default $USER)')
    .option('--idempotency-key <key>', 'repeat-safe request id')
    .option('--json', 'print JSON')
    .action(
      async (
        tenant: string,
        step: string,
        options: { reason: string; as?: string; idempotencyKey?: string; json?: boolean },
      ) => {
        const tenantId = tenantArg(tenant);
        const operator = operatorName(options.as, io.env);
        const operations = await resources.operations();
        const result = await operations.requestRetry({
          tenantId,
          step,
          reason: options.reason,
          operator,
          idempotencyKey: options.idempotencyKey,
        });
        if (options.json) return void out(json(result));
        out(
          `${result.duplicate ? 'already requested' : 'retry requested'}: ${tenantId} step ${step} by operator:${operator} (event ${result.eventId})\n`,
        );
      },
    );

  /** An operator's request on one tenant with a reason: the same options, the same repeat-safe call. */
  function reasonedCommand<R extends { duplicate: boolean }>(spec: {
    name: string;
    description: string;
    reasonHelp: string;
    request: (
      operations: Awaited<ReturnType<typeof resources.operations>>,
      input: { tenantId: string; reason: string; operator: string; idempotencyKey?: string },
    ) => Promise<R>;
    summary: (result: R, tenantId: string, operator: string) => string;
  }): void {
    program
      .command(spec.name)
      .description(spec.description)
      .argument('<tenant>', 'tenant id')
      .requiredOption('--reason <text>', spec.reasonHelp)
      .option('--as <name>', 'operator name recorded as operator:<name> (default $USER)')
      .option('--idempotency-key <key>', 'repeat-safe request id')
      .option('--json', 'print JSON')
      .action(
        async (
          tenant: string,
          options: { reason: string; as?: string; idempotencyKey?: string; json?: boolean },
        ) => {
          const tenantId = tenantArg(tenant);
          const operator = operatorName(options.as, io.env);
          const result = await spec.request(await resources.operations(), {
            tenantId,
            reason: options.reason,
            operator,
            idempotencyKey: options.idempotencyKey,
          });
          if (options.json) return void out(json(result));
          out(`${spec.summary(result, tenantId, operator)}\n`);
        },
      );
  }

  reasonedCommand({
    name: 'cancel',
    description: 'Cancel an active or suspended tenant: grace period from now, then backup and deletion',
    reasonHelp: 'why (recorded in the tenant stream)',
    request: (operations, input) => operations.requestCancellation(input),
    summary: (result, tenantId, operator) =>
      `${result.duplicate ? 'already requested' : 'cancellation requested'}: ${tenantId} by operator:${operator}; deletion on ${result.deletionDate} (event ${result.eventId})`,
  });

  reasonedCommand({
    name: 'purge',
    description:
      'Purge a tenant in its grace period now instead of at its deletion date (after a verified final backup, ' +
      'within the purge guardrails)',
    reasonHelp: 'why (recorded in the tenant stream and its audit chain)',
    request: (operations, input) => operations.requestPurge(input),
    summary: (result, tenantId, operator) =>
      `${result.duplicate ? 'already requested' : 'purge requested'}: ${tenantId} by operator:${operator} at ${result.requestedAt}, instead of ${result.deletionDate}; the orchestrator takes a final backup first (event ${result.eventId})`,
  });

  program
    .command('replay')
    .description('Rebuild the tenant read model from the event store (stop the API projectors first)')
    .option('--batch <n>', 'events per read', positiveInt('--batch', 1, 10_000), 500)
    .action(async (options: { batch: number }) => {
      const store = await resources.eventStore();
      const readModel = await resources.tenantReadModel();
      await readModel.reset();
      out('read model cleared; replaying the tenant streams\n');
      let after: string | undefined;
      let applied = 0;
      let skipped = 0;
      const tenants = new Set<string>();
      for (;;) {
        const page = await store.readAll({
          after,
          limit: options.batch,
          filter: { category: TENANT_STREAM_CATEGORY },
        });
        if (page.length === 0) break;
        for (const event of page) {
          if (await readModel.apply(event)) applied += 1;
          else skipped += 1;
          tenants.add(event.streamName);
        }
        after = page[page.length - 1].position;
        out(`replayed ${applied} events of ${tenants.size} tenant streams\n`);
      }
      const counts = await readModel.countByStatus();
      const rows = (Object.entries(counts) as [TenantStatus, number][]).reduce((sum, [, n]) => sum + n, 0);
      out(`done: ${applied} events applied, ${rows} tenants in the read model\n`);
      if (skipped > 0) {
        throw new CliFailure(
          EXIT.ERROR,
          `${skipped} events were skipped because another projector moved the checkpoint during the replay; stop the provisioning-api instances and run replay again`,
        );
      }
    });

  addSecretsCommands(program, io, setExit);
  addGitOpsCommands(program, io);

  return program;
}

/** The read model's row, or the stream folded when the projector has not caught up yet. */
async function currentSummary(resources: Resources, tenantId: string): Promise<TenantSummary> {
  const projected = await (await resources.tenantReadModel()).get(tenantId);
  if (projected) return projected;
  const events = await readTenantEvents(await resources.eventStore(), tenantId);
  const folded = foldTenantSummary(events.map(toSummaryEvent));
  if (!folded) throw unknownTenant(tenantId);
  return folded;
}

function failureOf(error: unknown): { code: number; message: string } {
  if (error instanceof CliFailure) return { code: error.exitCode, message: error.message };
  if (error instanceof ConfigError) return { code: EXIT.USAGE, message: error.message };
  if (error instanceof QueryError) {
    const detail = error.violations.flatMap((v) => v.messages).join('; ');
    return {
      code: error.code === QUERY_ERROR_CODES.TENANT_NOT_FOUND ? EXIT.UNKNOWN_TENANT : EXIT.USAGE,
      message: detail ? `${error.message}: ${detail}` : error.message,
    };
  }
  if (error instanceof SecretStoreError) {
    // Configuration mistakes (a key, the URL) are usage errors; the messages name variables, never values.
    const configuration = /^SECRETS\.(KEY_|BAD_URL|UNSUPPORTED_URL|INVALID_SCHEMA)/.test(error.code);
    return { code: configuration ? EXIT.USAGE : EXIT.ERROR, message: `${error.code}: ${error.message}` };
  }
  if (error instanceof OperationError) {
    const detail = error.violations.flatMap((v) => v.messages).join('; ');
    const code =
      error.code === OPERATION_ERROR_CODES.VALIDATION_FAILED
        ? EXIT.USAGE
        : error.code === OPERATION_ERROR_CODES.TENANT_NOT_FOUND
          ? EXIT.UNKNOWN_TENANT
          : EXIT.ERROR;
    return { code, message: `${error.code}: ${detail ? `${error.message}: ${detail}` : error.message}` };
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === UNDEFINED_TABLE) {
    return {
      code: EXIT.ERROR,
      message: `${message} (check EVENTSTORE_SCHEMA: tenantctl reads an existing event store, it never creates one)`,
    };
  }
  return { code: EXIT.ERROR, message: typeof code === 'string' ? `${code}: ${message}` : message };
}

/**
 * Runs one tenantctl command in-process and resolves with its exit code (the binary below and the tests both
 * call it). Never throws: every failure becomes a message on stderr and an exit code.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const resources = new Resources(io);
  let exitCode: number = EXIT.OK;
  try {
    await buildProgram(io, resources, (code) => (exitCode = code)).parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message; `--help` and `--version` are successes, the rest is usage.
      exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    } else {
      const failure = failureOf(error);
      io.stderr.write(`tenantctl: ${printable(failure.message)}\n`);
      exitCode = failure.code;
    }
  } finally {
    await resources.close();
  }
  return exitCode;
}

if (require.main === module) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = EXIT.ERROR;
    },
  );
}
