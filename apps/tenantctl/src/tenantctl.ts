import { Command, CommanderError } from 'commander';
import { addAuditCommands } from './audit.command';
import { addDriftCommands } from './drift.command';
import { EXIT, type CliIo } from './cli-io';
import { failureOf } from './failure';
import { printable } from './format';
import { addGitOpsCommands } from './gitops.command';
import { addOperatorCommands } from './operator.commands';
import { addReconcileCommand } from './reconcile.command';
import { addReplayCommand } from './replay.command';
import { addReprovisionCommand } from './reprovision.command';
import { addPlanCommand } from './plan.command';
import { addRolloutCommands } from './rollout.command';
import { Resources } from './resources';
import { addSecretsCommands } from './secrets.command';
import { addSloCommand } from './slo.command';
import { addTenantCommands } from './tenant.commands';
import { addVerifyCommand } from './verify.command';

export { EXIT, type CliIo, type TextSink } from './cli-io';

const EXIT_CODES_HELP = `
Exit codes:
  0    the command succeeded (whatever the tenant's state)
  1    any other error (store unreachable, action refused by the tenant's state, ...)
  2    bad arguments or configuration
  3    unknown tenant, or unknown rollout, reconciliation or drift the command names
  4    verify: the audit chain or the export does not match
  5    watch: --timeout passed before the tenant settled
  130  watch, secrets rotate-key: interrupted (Ctrl-C)

Configuration (environment, as for the API): EVENTSTORE_URL, EVENTSTORE_SCHEMA, READ_MODEL_URL,
READ_MODEL_SCHEMA, GRACE_PERIOD_DAYS, LOG_LEVEL (default warn; logs go to stderr). \`secrets\` reads the
services' SECRET_STORE_URL, SECRET_STORE_KEY, SECRET_STORE_KEYS and SECRET_STORE_KEY_ID instead; \`gitops\`
reads the k8s-service's GITOPS_REMOTE, GITOPS_BRANCH (default main), GITOPS_WORKDIR and GITOPS_AUTHOR_*.`;

function buildProgram(io: CliIo, resources: Resources, setExit: (code: number) => void): Command {
  const program = new Command('tenantctl')
    .description('Operate and audit tenants of the provisioning control plane')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP);
  const context = { program, io, resources, setExit };
  addTenantCommands(context);
  addVerifyCommand(context);
  addAuditCommands(context);
  addOperatorCommands(context);
  addReprovisionCommand(context);
  addDriftCommands(context);
  addReplayCommand(context);
  addSloCommand(context);
  addPlanCommand(context);
  addReconcileCommand(context);
  addRolloutCommands(context);
  addSecretsCommands(program, io, setExit);
  addGitOpsCommands(program, io);
  return program;
}

/**
 * Runs one tenantctl command in-process and resolves with its exit code (`main.ts` and the tests both call
 * it). Never throws: every failure becomes a message on stderr and an exit code.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const resources = new Resources(io);
  let exitCode: number = EXIT.OK;
  try {
    await buildProgram(io, resources, (code) => (exitCode = code)).parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message; `--help` and `--version` are successes, the rest is usage.
      exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    } else {
      const failure = failureOf(error);
      io.stderr.write(`tenantctl: ${printable(failure.message)}\n`);
      exitCode = failure.code;
    }
  } finally {
    await resources.close();
  }
  return exitCode;
}
