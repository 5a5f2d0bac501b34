import { RequestStepRetry, RequestTenantCancellation, RequestTenantPurge } from '@app/tenancy';
import type { Command } from '@nestjs/cqrs';
import { json } from './args';
import {
  operatorInput,
  operatorOptions,
  type OperatorActionOptions,
  type OperatorInput,
} from './operator-input';
import type { TenantctlContext } from './resources';

/** `retry`, `cancel` and `purge`: operator actions, each a command on the same handlers as the API's. */
export function addOperatorCommands({ program, io, resources }: TenantctlContext): void {
  const out = (text: string) => io.stdout.write(text);

  operatorOptions(
    program
      .command('retry')
      .description('Ask the orchestrator to re-issue a parked step, or `backup` for a blocked backup round')
      .argument('<tenant>', 'tenant id')
      .argument('<step>', 'step key, e.g. compensate:databases, purge:storage, backup'),
  ).action(async (tenant: string, step: string, options: OperatorActionOptions) => {
    const input = operatorInput(tenant, options, io.env);
    const { tenantId, operator } = input;
    const result = await (await resources.commandBus()).execute(new RequestStepRetry({ ...input, step }));
    if (options.json) return void out(json(result));
    out(
      `${result.duplicate ? 'already requested' : 'retry requested'}: ${tenantId} step ${step} by operator:${operator} (event ${result.eventId})\n`,
    );
  });

  /** An operator's request on one tenant with a reason: the same options, the same repeat-safe call. */
  function reasonedCommand<R extends { duplicate: boolean }>(spec: {
    name: string;
    description: string;
    reasonHelp: string;
    command: (input: OperatorInput) => Command<R>;
    summary: (result: R, tenantId: string, operator: string) => string;
  }): void {
    operatorOptions(
      program.command(spec.name).description(spec.description).argument('<tenant>', 'tenant id'),
      spec.reasonHelp,
    ).action(async (tenant: string, options: OperatorActionOptions) => {
      const input = operatorInput(tenant, options, io.env);
      const result = await (await resources.commandBus()).execute(spec.command(input));
      if (options.json) return void out(json(result));
      out(`${spec.summary(result, input.tenantId, input.operator)}\n`);
    });
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
