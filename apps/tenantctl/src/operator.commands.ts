import { RequestStepRetry, RequestTenantCancellation, RequestTenantPurge } from '@app/tenancy';
import type { Command } from '@nestjs/cqrs';
import { json, operatorName, tenantArg } from './args';
import type { TenantctlContext } from './resources';

/** What a reasoned operator command sends: the tenant, the reason, who, and an optional repeat-safe key. */
interface OperatorInput {
  tenantId: string;
  reason: string;
  operator: string;
  idempotencyKey?: string;
}

/** `retry`, `cancel` and `purge`: operator actions, each a command on the same handlers as the API's. */
export function addOperatorCommands({ program, io, resources }: TenantctlContext): void {
  const out = (text: string) => io.stdout.write(text);

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
        const result = await (
          await resources.commandBus()
        ).execute(
          new RequestStepRetry({
            tenantId,
            step,
            reason: options.reason,
            operator,
            idempotencyKey: options.idempotencyKey,
          }),
        );
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
    command: (input: OperatorInput) => Command<R>;
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
          const input = {
            tenantId,
            reason: options.reason,
            operator,
            idempotencyKey: options.idempotencyKey,
          };
          const result = await (await resources.commandBus()).execute(spec.command(input));
          if (options.json) return void out(json(result));
          out(`${spec.summary(result, tenantId, operator)}\n`);
        },
      );
  }

  reasonedCommand({
    name: 'cancel',
    description: 'Cancel an active or suspended tenant: grace period from now, then backup and deletion',
    reasonHelp: 'why (recorded in the tenant stream)',
    command: (input) => new RequestTenantCancellation(input),
    summary: (result, tenantId, operator) =>
      `${result.duplicate ? 'already requested' : 'cancellation requested'}: ${tenantId} by operator:${operator}; deletion on ${result.deletionDate} (event ${result.eventId})`,
  });

  reasonedCommand({
    name: 'purge',
    description:
      'Purge a tenant in its grace period now instead of at its deletion date (after a verified final backup, ' +
      'within the purge guardrails)',
    reasonHelp: 'why (recorded in the tenant stream and its audit chain)',
    command: (input) => new RequestTenantPurge(input),
    summary: (result, tenantId, operator) =>
      `${result.duplicate ? 'already requested' : 'purge requested'}: ${tenantId} by operator:${operator} at ${result.requestedAt}, instead of ${result.deletionDate}; the orchestrator takes a final backup first (event ${result.eventId})`,
  });
}
