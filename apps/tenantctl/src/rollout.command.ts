import { randomUUID } from 'node:crypto';
import { REGIONS, TIERS } from '@app/contracts';
import { Rollouts, type RolloutAccepted, type RolloutView } from '@app/rollouts';
import { Option } from 'commander';
import { json, operatorName, positiveInt } from './args';
import { table } from './format';
import type { TenantctlContext } from './resources';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A rollout in a few lines: its status, then one row per tenant, wave by wave. */
function rolloutText(rollout: RolloutView): string {
  const { counts } = rollout;
  const lines = [
    `rollout ${rollout.rolloutId}: ${rollout.status}, image tag ${rollout.imageTag}, by ${rollout.requestedBy} (${rollout.reason})`,
    `  started ${rollout.startedAt}${rollout.completedAt ? `, completed ${rollout.completedAt}` : ''}; ` +
      `${counts.succeeded} succeeded, ${counts.skipped} skipped, ${counts.failed} failed, ` +
      `${counts.started} in flight, ${counts.pending} pending`,
  ];
  if (rollout.halt) {
    lines.push(
      `  HALTED at ${rollout.halt.tenantId} (wave ${rollout.halt.wave}): ${rollout.halt.error.code} ${rollout.halt.error.message}`,
    );
  }
  const rows = rollout.waves.flatMap((wave) =>
    wave.tenants.map((tenant) => [
      `${wave.wave} ${wave.kind}`,
      tenant.tenantId,
      tenant.status,
      String(tenant.attempt),
      tenant.outcome ??
        tenant.skipReason ??
        (tenant.error ? `${tenant.error.code}: ${tenant.error.message}` : ''),
    ]),
  );
  return `${lines.join('\n')}\n${table(['wave', 'tenant', 'status', 'attempt', 'detail'], rows)}`;
}

/**
 * `rollout start|status|pause|resume|abort`: staged fleet rollouts of the workloads' image tag, on the same use
 * cases as the API (the event store alone); the orchestrator drives them.
 */
export function addRolloutCommands({ program, io, resources }: TenantctlContext): void {
  const rollouts = async () =>
    new Rollouts(await resources.eventStore(), io.now ?? (() => new Date()), randomUUID);
  const print = (result: RolloutAccepted | RolloutView, asJson?: boolean) => {
    const rollout = 'rollout' in result ? result.rollout : result;
    io.stdout.write(asJson ? json(result) : rolloutText(rollout));
  };
  const command = program
    .command('rollout')
    .description('Staged fleet rollouts of the workloads image tag: a canary wave, then batches');

  command
    .command('start')
    .description('Start a rollout over the active tenants (all, or those selected)')
    .requiredOption('--image-tag <tag>', 'the OCI image tag the workloads will run')
    .requiredOption('--reason <text>', 'why (recorded in the rollout and each tenant stream)')
    .addOption(
      new Option('--tier <tier>', 'only tenants of this tier (repeatable)')
        .choices([...TIERS])
        .argParser(collect),
    )
    .addOption(
      new Option('--region <region>', 'only tenants of this region (repeatable)')
        .choices([...REGIONS])
        .argParser(collect),
    )
    .option('--tenant <id>', 'only this tenant (repeatable, in canary-first order)', collect)
    .option(
      '--canary-size <n>',
      'tenants of the canary wave (default 1)',
      positiveInt('--canary-size', 1, 1000),
    )
    .option('--batch-size <n>', 'tenants per later wave (default 10)', positiveInt('--batch-size', 1, 1000))
    .option('--as <name>', 'operator name recorded as operator:<name> (default $USER)')
    .option('--idempotency-key <key>', 'repeat-safe request id')
    .option('--json', 'print JSON')
    .action(
      async (options: {
        imageTag: string;
        reason: string;
        tier?: string[];
        region?: string[];
        tenant?: string[];
        canarySize?: number;
        batchSize?: number;
        as?: string;
        idempotencyKey?: string;
        json?: boolean;
      }) => {
        const selection = {
          ...(options.tier ? { tiers: options.tier } : {}),
          ...(options.region ? { regions: options.region } : {}),
          ...(options.tenant ? { tenant_ids: options.tenant } : {}),
        };
        const result = await (
          await rollouts()
        ).start({
          imageTag: options.imageTag,
          selection,
          canarySize: options.canarySize,
          batchSize: options.batchSize,
          reason: options.reason,
          operator: operatorName(options.as, io.env),
          idempotencyKey: options.idempotencyKey,
        });
        print(result, options.json);
      },
    );

  command
    .command('status')
    .description('One rollout with its waves and tenants, or every rollout (newest first)')
    .argument('[rollout]', 'rollout id')
    .option('--json', 'print JSON')
    .action(async (rolloutId: string | undefined, options: { json?: boolean }) => {
      const use = await rollouts();
      if (rolloutId !== undefined) return print(await use.get(rolloutId), options.json);
      const all = await use.list();
      if (options.json) return void io.stdout.write(json(all));
      const rows = all.map((r) => [
        r.rolloutId,
        r.status,
        r.imageTag,
        `${r.counts.succeeded}/${Object.values(r.counts).reduce((a, b) => a + b, 0)}`,
        r.startedAt,
      ]);
      io.stdout.write(table(['rollout', 'status', 'image tag', 'done', 'started'], rows));
    });

  for (const action of ['pause', 'resume', 'abort'] as const) {
    command
      .command(action)
      .description(
        {
          pause: 'Pause a running rollout: tenants in flight finish, no other starts',
          resume: 'Resume a paused or halted rollout (a halt’s failed tenant is tried again)',
          abort: 'Abort a rollout: no further tenant starts',
        }[action],
      )
      .argument('<rollout>', 'rollout id')
      .option('--reason <text>', 'why (recorded in the rollout stream)')
      .option('--as <name>', 'operator name recorded as operator:<name> (default $USER)')
      .option('--idempotency-key <key>', 'repeat-safe request id')
      .option('--json', 'print JSON')
      .action(
        async (
          rolloutId: string,
          options: { reason?: string; as?: string; idempotencyKey?: string; json?: boolean },
        ) => {
          const result = await (
            await rollouts()
          ).decide({
            rolloutId,
            action,
            reason: options.reason,
            operator: operatorName(options.as, io.env),
            idempotencyKey: options.idempotencyKey,
          });
          print(result, options.json);
        },
      );
  }
}
