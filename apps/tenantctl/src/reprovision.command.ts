import { RequestReprovisioning } from '@app/tenancy';
import { json, operatorName, tenantArg } from './args';
import type { TenantctlContext } from './resources';

/** `reprovision`: a fresh provisioning run of a tenant whose last run failed, on the same handler as the API's. */
export function addReprovisionCommand({ program, io, resources }: TenantctlContext): void {
  program
    .command('reprovision')
    .description(
      'Provision again a tenant whose provisioning failed and was rolled back: a fresh run of the same tenant ' +
        'id and domain, the failed run kept in the history',
    )
    .argument('<tenant>', 'tenant id')
    .requiredOption('--reason <text>', 'why (recorded in the tenant stream)')
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
        const result = await (
          await resources.commandBus()
        ).execute(
          new RequestReprovisioning({
            tenantId,
            reason: options.reason,
            operator,
            idempotencyKey: options.idempotencyKey,
          }),
        );
        if (options.json) return void io.stdout.write(json(result));
        io.stdout.write(
          `${result.duplicate ? 'already requested' : 're-provisioning requested'}: ${tenantId} run ${result.run} by operator:${operator} (event ${result.eventId}); follow it with \`tenantctl watch ${tenantId}\`\n`,
        );
      },
    );
}
