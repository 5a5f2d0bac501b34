import { GitWorkingCopy, gitOpsConfigFrom } from '@app/kube';
import type { Command } from 'commander';
import pino from 'pino';
import { loadGitOpsConfig } from './cli.config';
import { usage, type CliIo } from './cli-io';
import {
  applyMigration,
  planMigration,
  TENANT_REGISTRATION_GLOB,
  type MigrationPlan,
} from './gitops-migration';

/** Progress lines on stderr: every this many config files, and the last. */
const PROGRESS_EVERY = 100;

function summary(plan: MigrationPlan, dryRun: boolean, revision: string | undefined): string {
  switch (plan.kind) {
    case 'no-application-set':
      return 'nothing to migrate: the repository has no applicationsets/tenant-applications.yaml (Application mode, or no tenant yet)\n';
    case 'already-migrated':
      return `nothing to migrate: the ApplicationSet already reads ${TENANT_REGISTRATION_GLOB}\n`;
    case 'migrate': {
      const kept = plan.tenants.length - plan.write.length;
      const what =
        `${plan.tenants.length} tenants: ${plan.write.length} config files ${dryRun ? 'to write' : 'written'}, ` +
        `${kept} kept; the ApplicationSet ${dryRun ? 'would read' : 'reads'} ${TENANT_REGISTRATION_GLOB}`;
      return dryRun
        ? `dry run, nothing committed: ${what}\n`
        : `migrated ${what} (commit ${revision ?? 'unknown'})\n`;
    }
  }
}

/**
 * `tenantctl gitops migrate`: moves a manifests repository from the list ApplicationSet to one config file per
 * tenant, in one commit pushed to GITOPS_REMOTE, through the same working-copy discipline as the services (start
 * from the remote tip, commit only a difference, redo on a lost push race). A second run finds nothing to do.
 */
export function addGitOpsCommands(program: Command, io: CliIo): void {
  const gitops = program.command('gitops').description('Operate the GitOps manifests repository');
  gitops
    .command('migrate')
    .description(
      `Give every tenant of the list ApplicationSet its ${TENANT_REGISTRATION_GLOB} and switch the ApplicationSet ` +
        'to the git files generator, in one commit to GITOPS_REMOTE (GITOPS_BRANCH); idempotent',
    )
    .option('--dry-run', 'print what would change, commit nothing')
    .action(async (options: { dryRun?: boolean }) => {
      const config = loadGitOpsConfig(io.env);
      if (!config.GITOPS_REMOTE) throw usage('GITOPS_REMOTE is required: the repository to migrate');
      const logger = pino(
        { name: 'tenantctl', level: config.LOG_LEVEL },
        { write: (line: string) => io.stderr.write(line) },
      );
      const working = new GitWorkingCopy(gitOpsConfigFrom(config), 'GITOPS', logger);
      const dryRun = options.dryRun === true;
      const { revision, result: plan } = await working.commit(
        { reason: 'MigrateArgoRegistration', tenantId: 'fleet', correlationId: `tenantctl-${Date.now()}` },
        async () => {
          const found = await planMigration(working.workdir);
          if (found.kind !== 'migrate') return found;
          io.stderr.write(
            `migrate: ${found.tenants.length} tenants in the list ApplicationSet, ${found.write.length} config files to write\n`,
          );
          if (dryRun) {
            for (const file of found.write) io.stderr.write(`migrate: would write ${file.path}\n`);
            return found;
          }
          await applyMigration(working.workdir, found, (done) => {
            if (done % PROGRESS_EVERY === 0 || done === found.write.length)
              io.stderr.write(`migrate: ${done}/${found.write.length}\n`);
          });
          return found;
        },
      );
      io.stdout.write(summary(plan, dryRun, revision));
    });
}
