import { ApproveDriftRepair, GetTenantDrift, RequestDriftCheck, driftView } from '@app/tenancy';
import { json, tenantArg } from './args';
import { operatorInput, operatorOptions, type OperatorActionOptions } from './operator-input';
import type { TenantctlContext } from './resources';

/** `drift list|check|repair`: a tenant's drift, an immediate check, a repair approval; the API's handlers. */
export function addDriftCommands({ program, io, resources }: TenantctlContext): void {
  const drift = program
    .command('drift')
    .description("Drift of an active tenant's resources from what was provisioned: list, check, repair");

  drift
    .command('list')
    .description('The last drift check and the drifts open and recently closed')
    .argument('<tenant>', 'tenant id')
    .option('--json', 'print JSON')
    .action(async (tenant: string, options: { json?: boolean }) => {
      const tenantId = tenantArg(tenant);
      const view = driftView(await (await resources.queryBus()).execute(new GetTenantDrift(tenantId)));
      if (options.json) return void io.stdout.write(json(view));
      const last = view.last_check;
      io.stdout.write(
        last
          ? `last check: ${last.check} ${last.status} (requested by ${last.requested_by} at ${last.requested_at})` +
              `${last.inconclusive.length > 0 ? `; not checked: ${last.inconclusive.join(', ')}` : ''}\n`
          : 'no drift check yet\n',
      );
      if (view.open.length === 0) io.stdout.write('no open drift\n');
      for (const entry of view.open) {
        const how = entry.automatic ? 'automatic' : 'needs approval';
        io.stdout.write(
          `${entry.drift_id}  ${entry.status}  ${entry.kind} (${how})  ${entry.code}: ${entry.message}\n`,
        );
        if (entry.error)
          io.stdout.write(`  last repair failed: ${entry.error.code}: ${entry.error.message}\n`);
      }
      io.stdout.write(`detected ${view.detected}, repaired ${view.repaired}\n`);
    });

  operatorOptions(
    drift.command('check').description('Verify the tenant again now').argument('<tenant>', 'tenant id'),
  ).action(async (tenant: string, options: OperatorActionOptions) => {
    const input = operatorInput(tenant, options, io.env);
    const { tenantId } = input;
    const result = await (await resources.commandBus()).execute(new RequestDriftCheck(input));
    if (options.json) return void io.stdout.write(json(result));
    io.stdout.write(
      `${result.duplicate ? 'already requested' : 'drift check requested'}: ${tenantId} check ${result.check} (event ${result.eventId}); see \`tenantctl drift list ${tenantId}\`\n`,
    );
  });

  operatorOptions(
    drift
      .command('repair')
      .description("Approve a drift's repair: its resource is provisioned again, then verified")
      .argument('<tenant>', 'tenant id')
      .argument('<driftId>', 'drift id, e.g. 3-databases'),
  ).action(async (tenant: string, driftId: string, options: OperatorActionOptions) => {
    const input = operatorInput(tenant, options, io.env);
    const { tenantId, operator } = input;
    const result = await (
      await resources.commandBus()
    ).execute(new ApproveDriftRepair({ ...input, driftId }));
    if (options.json) return void io.stdout.write(json(result));
    io.stdout.write(
      `${result.duplicate ? 'already approved' : 'repair approved'}: drift ${result.driftId} of ${tenantId} by operator:${operator} (event ${result.eventId})\n`,
    );
  });
}
