import { TIERS } from '@app/contracts';
import { formatPlan, loadRenderOptions, type TenantPlan } from '@app/plans';
import { createTenancyContext, GetTenantPlan, type RawQuery } from '@app/tenancy';
import { Option } from 'commander';
import { json, tenantArg } from './args';
import type { TenantctlContext } from './resources';

interface PlanOptions {
  tier?: string;
  suspend?: boolean;
  purge?: boolean;
  imageTag?: string;
  json?: boolean;
}

/** The options as the API's query: the handler checks that exactly one change is asked. */
function planQuery(options: PlanOptions): RawQuery {
  return {
    ...(options.tier !== undefined ? { tier: options.tier } : {}),
    ...(options.suspend ? { suspend: 'true' } : {}),
    ...(options.purge ? { purge: 'true' } : {}),
    ...(options.imageTag !== undefined ? { imageTag: options.imageTag } : {}),
  };
}

/** `plan`: what one change would do to a tenant, on the API's query handler; nothing is changed or recorded. */
export function addPlanCommand({ program, io, resources }: TenantctlContext): void {
  program
    .command('plan')
    .description(
      'What-if plan of one change (exactly one of --tier, --suspend, --purge, --image-tag): every Kubernetes ' +
        'object, database, vhost, bucket, Grafana object and e-mail it would touch. Changes nothing',
    )
    .argument('<tenant>', 'tenant id')
    .addOption(new Option('--tier <tier>', 'a change to this tier').choices([...TIERS]))
    .option('--suspend', 'a suspension')
    .option('--purge', 'the purge (now in the grace period, else after the cancellation that starts it)')
    .option('--image-tag <tag>', "a change of the workloads' image tag")
    .option('--json', 'print JSON (the API shape)')
    .action(async (tenant: string, options: PlanOptions) => {
      const tenantId = tenantArg(tenant);
      // The k8s-service's variables, read as it reads them: the plan renders what that deployment would apply.
      const renderOptions = loadRenderOptions(io.env);
      const context = await createTenancyContext({
        eventStore: await resources.eventStore(),
        gracePeriodDays: resources.settings().GRACE_PERIOD_DAYS,
        renderOptions,
        ...(io.now ? { clock: io.now } : {}),
      });
      let plan: TenantPlan;
      try {
        plan = await context.queryBus.execute(new GetTenantPlan(tenantId, planQuery(options)));
      } finally {
        await context.close();
      }
      io.stdout.write(options.json ? json(plan) : formatPlan(plan));
    });
}
