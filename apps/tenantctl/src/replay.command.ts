import { TENANT_STREAM_CATEGORY } from '@app/contracts';
import type { TenantStatus } from '@app/tenancy';
import { positiveInt } from './args';
import { CliFailure, EXIT } from './cli-io';
import type { TenantctlContext } from './resources';

/** `replay`: the tenant read model rebuilt from the event store, the way the projector builds it. */
export function addReplayCommand({ program, io, resources }: TenantctlContext): void {
  const out = (text: string) => io.stdout.write(text);
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
}
