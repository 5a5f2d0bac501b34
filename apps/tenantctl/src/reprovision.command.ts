import { RequestReprovisioning } from '@app/tenancy';
import { json } from './args';
import { operatorInput, operatorOptions, type OperatorActionOptions } from './operator-input';
import type { TenantctlContext } from './resources';

/** `reprovision`: a fresh provisioning run of a tenant whose last run failed, on the same handler as the API's. */
export function addReprovisionCommand({ program, io, resources }: TenantctlContext): void {
  operatorOptions(
    program
      .command('reprovision')
      .description(
        'Provision again a tenant whose provisioning failed and was rolled back: a fresh run of the same ' +
          'tenant id and domain, the failed run kept in the history',
      )
      .argument('<tenant>', 'tenant id'),
  ).action(async (tenant: string, options: OperatorActionOptions) => {
    const input = operatorInput(tenant, options, io.env);
    const { tenantId, operator } = input;
    const result = await (await resources.commandBus()).execute(new RequestReprovisioning(input));
    if (options.json) return void io.stdout.write(json(result));
    io.stdout.write(
      `${result.duplicate ? 'already requested' : 're-provisioning requested'}: ${tenantId} run ${result.run} by operator:${operator} (event ${result.eventId}); follow it with \`tenantctl watch ${tenantId}\`\n`,
    );
  });
}
