import { TIERS } from '@app/contracts';
import {
  createTenancyContext,
  GetSloReport,
  SLO_TARGETS,
  type SloReport,
  type StepSlo,
  type TierSlo,
  type PhaseSlo,
} from '@app/tenancy';
import { Option } from 'commander';
import { json } from './args';
import { formatDuration, table } from './format';
import type { TenantctlContext } from './resources';

const INSTANT =
  'a date (2025-01-15), a date-time with a zone, or a duration back from now (90m, 24h, 7d, 2w)';

const ms = (value: number | null) => formatDuration(value);
const verdict = (met: boolean | null) => (met === null ? '-' : met ? 'met' : 'MISSED');
const percent = (ratio: number | null) => (ratio === null ? '-' : `${(ratio * 100).toFixed(2)} %`);

/** `slo`: the provisioning SLO report of a period, from the event store alone (the API's query handler). */
export function addSloCommand({ program, io, resources }: TenantctlContext): void {
  program
    .command('slo')
    .description('Provisioning SLO report: time to active per tier and step, success ratio, time per state')
    .requiredOption('--since <when>', `start of the period: ${INSTANT}`)
    .option('--until <when>', 'end of the period (exclusive), same forms; default now')
    .addOption(new Option('--tier <tier>', 'only tenants of this tier').choices([...TIERS]))
    .option('--json', 'print JSON (the API shape)')
    .action(async (options: { since: string; until?: string; tier?: string; json?: boolean }) => {
      const query = {
        since: options.since,
        ...(options.until !== undefined ? { until: options.until } : {}),
        ...(options.tier ? { tier: options.tier } : {}),
      };
      const context = await createTenancyContext({
        eventStore: await resources.eventStore(),
        gracePeriodDays: resources.settings().GRACE_PERIOD_DAYS,
        ...(io.now ? { clock: io.now } : {}),
      });
      let report: SloReport;
      try {
        report = await context.queryBus.execute(new GetSloReport(query));
      } finally {
        await context.close();
      }
      io.stdout.write(options.json ? json(report) : sloText(report));
    });
}

function tierRow(slo: TierSlo): string[] {
  const t = slo.time_to_active;
  return [
    slo.tier,
    String(slo.runs.activated),
    String(slo.runs.failed),
    String(slo.runs.cancelled),
    String(slo.runs.in_progress),
    percent(slo.success_ratio),
    verdict(slo.success_target_met),
    ms(t.p50_ms),
    ms(t.p95_ms),
    ms(t.p99_ms),
    verdict(t.target_met),
  ];
}

/** Count, percentiles and budget of a step or phase; a step also has its failed attempts after the count. */
function durationRow(name: string, slo: StepSlo | PhaseSlo, failures?: number): string[] {
  return [
    name,
    String(slo.count),
    ...(failures === undefined ? [] : [String(failures)]),
    ms(slo.p50_ms),
    ms(slo.p95_ms),
    ms(slo.p99_ms),
    ms(slo.budget_ms),
    verdict(slo.within_budget),
  ];
}

export function sloText(report: SloReport): string {
  const lines = [
    `SLO report ${report.period.since} .. ${report.period.until} (${report.tier ?? 'all tiers'}), ${report.events_read} events read`,
    `Targets: active within ${ms(SLO_TARGETS.timeToActive.minMs)}-${ms(report.targets.time_to_active_max_ms)} ` +
      `(p95 at most ${ms(report.targets.time_to_active_max_ms)}), success ratio at least ${percent(report.targets.success_ratio)}`,
    '',
    table(
      [
        'TIER',
        'ACTIVATED',
        'FAILED',
        'CANCELLED',
        'RUNNING',
        'SUCCESS',
        `>=${percent(report.targets.success_ratio)}`,
        'P50',
        'P95',
        'P99',
        `P95<=${ms(report.targets.time_to_active_max_ms)}`,
      ],
      [report.overall, ...report.by_tier].map(tierRow),
    ),
    '',
    table(
      ['STEP', 'N', 'FAILURES', 'P50', 'P95', 'P99', 'BUDGET', 'P95<=BUDGET'],
      report.steps.map((step) => durationRow(step.step, step, step.failures)),
    ),
    '',
    table(
      ['PHASE', 'N', 'P50', 'P95', 'P99', 'BUDGET', 'P95<=BUDGET'],
      report.phases.map((phase) => durationRow(phase.label, phase)),
    ),
    '',
    table(
      ['STATE', 'TENANT-TIME IN PERIOD', 'TENANTS', 'STAYS ENDED', 'P50', 'P95'],
      report.states.map((state) => [
        state.state,
        ms(state.total_ms),
        String(state.tenants),
        String(state.completed.count),
        ms(state.completed.p50_ms),
        ms(state.completed.p95_ms),
      ]),
    ),
  ];
  if (report.failed_runs.length > 0) {
    lines.push(
      '',
      table(
        ['FAILED TENANT', 'TIER', 'ENDED', 'STEP', 'CODE'],
        report.failed_runs.map((run) => [
          run.tenant_id,
          run.tier,
          run.ended_at,
          run.failed_step ?? '-',
          run.code ?? '-',
        ]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
