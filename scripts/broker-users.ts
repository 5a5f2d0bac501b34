import { readFileSync } from 'node:fs';
import {
  applyBrokerUsers,
  brokerAccountFromUrl,
  brokerPermissionsFor,
  CONTROL_PLANE_APPS,
  RabbitManagementClient,
  type BrokerAccount,
  type BrokerUserAdmin,
  type ControlPlaneApp,
} from '@app/rabbitmq-admin';

/**
 * Creates or updates one RabbitMQ user per control-plane app, with the narrowest permissions its role needs
 * (libs/rabbitmq-admin/src/broker-permissions.ts), through the management API as an administrator. Idempotent: run
 * it at every deployment (docker-compose.yml runs it before the apps start). Each app's account is read from
 * the AMQP URL that app connects with, so the two cannot drift; passwords are never printed.
 *
 *   node dist/scripts/broker-users.js [--dry-run]
 *
 * Environment (each `X` may instead be given as `X_FILE`, a file holding the value):
 *   <APP>_AMQP_URL            one per app: PROVISIONING_API_AMQP_URL, ORCHESTRATOR_AMQP_URL,
 *                             K8S_SERVICE_AMQP_URL, DATABASE_SERVICE_AMQP_URL, ... (user, password, vhost)
 *   RABBITMQ_MANAGEMENT_URL   default http://127.0.0.1:15672
 *   RABBITMQ_ADMIN_USER, RABBITMQ_ADMIN_PASSWORD   an administrator of the broker
 *   QUEUE_PREFIX              the apps' queue prefix, when they use one
 * --dry-run prints the permissions without calling the broker (and needs no administrator).
 */

export class BrokerUsersUsageError extends Error {}

export interface BrokerUsersIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(text: string): unknown };
  readFile?: (path: string) => string;
  /** Tests pass their own; by default a RabbitManagementClient from the environment. */
  admin?: BrokerUserAdmin;
}

export function urlVariable(app: ControlPlaneApp): string {
  return `${app.toUpperCase().replace(/-/g, '_')}_AMQP_URL`;
}

function valueOf(io: BrokerUsersIo, name: string): string | undefined {
  const direct = io.env[name];
  if (direct !== undefined && direct !== '') return direct;
  const file = io.env[`${name}_FILE`];
  if (file === undefined || file === '') return undefined;
  try {
    return (io.readFile ?? ((path) => readFileSync(path, 'utf8')))(file).trim();
  } catch (error) {
    throw new BrokerUsersUsageError(`${name}_FILE: cannot read ${file}: ${(error as Error).message}`);
  }
}

function required(io: BrokerUsersIo, name: string): string {
  const value = valueOf(io, name);
  if (value === undefined) throw new BrokerUsersUsageError(`${name} (or ${name}_FILE) is required`);
  return value;
}

export async function runBrokerUsers(args: readonly string[], io: BrokerUsersIo): Promise<void> {
  const unknown = args.filter((arg) => arg !== '--dry-run');
  if (unknown.length > 0) throw new BrokerUsersUsageError(`unknown argument ${unknown[0]}`);
  const dryRun = args.includes('--dry-run');
  const accounts: BrokerAccount[] = CONTROL_PLANE_APPS.map((app) =>
    brokerAccountFromUrl(app, required(io, urlVariable(app))),
  );
  const queuePrefix = valueOf(io, 'QUEUE_PREFIX');
  const describe = (account: BrokerAccount) => {
    const p = brokerPermissionsFor(account.app, { queuePrefix });
    const topic = p.topic.map((t) => ` topic[${t.exchange}] write=${t.write} read=${t.read}`).join('');
    return `${account.app}: user "${account.user}" on vhost "${account.vhost}" configure=${p.configure} write=${p.write} read=${p.read}${topic}\n`;
  };
  if (dryRun) {
    for (const account of accounts) io.stdout.write(describe(account));
    return;
  }
  const admin =
    io.admin ??
    new RabbitManagementClient({
      baseUrl: valueOf(io, 'RABBITMQ_MANAGEMENT_URL') ?? 'http://127.0.0.1:15672',
      username: required(io, 'RABBITMQ_ADMIN_USER'),
      password: required(io, 'RABBITMQ_ADMIN_PASSWORD'),
      attempts: 5,
    });
  await applyBrokerUsers(admin, accounts, { queuePrefix });
  for (const account of accounts) io.stdout.write(`applied ${describe(account)}`);
}

if (require.main === module) {
  runBrokerUsers(process.argv.slice(2), { env: process.env, stdout: process.stdout }).catch(
    (error: unknown) => {
      process.stderr.write(`broker-users: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(error instanceof BrokerUsersUsageError ? 2 : 1);
    },
  );
}
