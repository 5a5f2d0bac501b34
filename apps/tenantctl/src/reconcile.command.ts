import { readFile, stat } from 'node:fs/promises';
import {
  createTenancyContext,
  DEFAULT_SOURCE_LIMITS,
  RunReconciliation,
  type ReconciliationReport,
  type RunReconciliationRequest,
} from '@app/tenancy';
import { json, operatorName } from './args';
import { usage } from './cli-io';
import { printable, table } from './format';
import type { TenantctlContext } from './resources';

interface ReconcileOptions {
  file?: string;
  url?: string;
  propose?: boolean;
  as?: string;
  idempotencyKey?: string;
  json?: boolean;
}

/** Billing's list from a file: JSON when it starts like JSON, CSV otherwise; as large as a URL source may be. */
async function fromFile(path: string): Promise<Pick<RunReconciliationRequest, 'subscriptions' | 'csv'>> {
  const shown = JSON.stringify(printable(path));
  const size = await stat(path).then(
    (s) => s.size,
    () => {
      throw usage(`cannot read ${shown}`);
    },
  );
  if (size > DEFAULT_SOURCE_LIMITS.maxBytes) {
    throw usage(`${shown} is larger than ${DEFAULT_SOURCE_LIMITS.maxBytes} bytes`);
  }
  const text = await readFile(path, 'utf8');
  if (!/^\s*[[{]/.test(text)) return { csv: text };
  try {
    return { subscriptions: JSON.parse(text) as unknown };
  } catch (error) {
    throw usage(`${shown} is not valid JSON: ${(error as Error).message}`);
  }
}

function summary(report: ReconciliationReport): string {
  const { counts } = report;
  const recorded = report.reconciliationId
    ? `; ${report.duplicate ? 'already proposed' : 'proposed'} as reconciliation ${report.reconciliationId} ` +
      '(accept or dismiss through the API)'
    : '';
  return (
    `${report.subscriptions} subscriptions from ${report.source} against ${report.tenantsCompared} tenants: ` +
    `${counts.orphan} orphan, ${counts.missing} missing, ${counts.tier_mismatch} tier mismatch, ` +
    `${counts.tenant_mismatch} tenant mismatch${recorded}\n`
  );
}

/** `reconcile`: billing's active subscriptions against the tenants (the read model), as the API compares them. */
export function addReconcileCommand({ program, io, resources }: TenantctlContext): void {
  program
    .command('reconcile')
    .description(
      'Compare billing’s active subscriptions (JSON or CSV: subscription_id, tier[, tenant_id]) with the tenants: ' +
        'orphans, missing tenants, tier mismatches',
    )
    .option('--file <path>', 'billing’s list: a JSON array (or {"subscriptions": [...]}) or a CSV file')
    .option('--url <url>', 'fetch billing’s list (http/https, JSON or CSV by content type)')
    .option('--propose', 'record the findings as actions for an operator to accept or dismiss')
    .option('--as <name>', 'operator name recorded as operator:<name> (default $USER)')
    .option(
      '--idempotency-key <key>',
      'repeat-safe request id: with --propose, a repeat prints the recorded reconciliation again',
    )
    .option('--json', 'print JSON')
    .action(async (options: ReconcileOptions) => {
      if ((options.file === undefined) === (options.url === undefined)) {
        throw usage('give exactly one of --file <path> or --url <url>');
      }
      const operator = operatorName(options.as, io.env);
      const list = options.file !== undefined ? await fromFile(options.file) : { source: options.url };
      // The comparison reads the read model and may append proposals: a context holding both.
      const context = await createTenancyContext({
        eventStore: await resources.eventStore(),
        readModel: await resources.tenantReadModel(),
        gracePeriodDays: resources.settings().GRACE_PERIOD_DAYS,
        ...(io.now ? { clock: io.now } : {}),
      });
      try {
        const report = await context.commandBus.execute(
          new RunReconciliation({
            ...list,
            propose: options.propose === true,
            operator,
            idempotencyKey: options.idempotencyKey,
          }),
        );
        if (options.json) return void io.stdout.write(json(report));
        io.stdout.write(summary(report));
        if (report.findings.length === 0) return;
        const rows = report.findings.map((f) => [
          f.kind,
          f.subscriptionId,
          f.tenantId ?? '-',
          f.tenantStatus ?? '-',
          f.tenantTier ?? '-',
          f.billingTier ?? '-',
          f.action,
          f.actionId ?? '-',
          f.detail,
        ]);
        const headers = [
          'KIND',
          'SUBSCRIPTION',
          'TENANT',
          'STATUS',
          'TIER',
          'BILLING',
          'ACTION',
          'ACTION-ID',
          'DETAIL',
        ];
        io.stdout.write(`${table(headers, rows)}\n`);
      } finally {
        await context.close();
      }
    });
}
