/**
 * Provisions and removes N tenants' databases (spec 3.1) and RabbitMQ vhosts (spec 5.x) twice in one run:
 * with the database-service and broker-service handlers (tenants in parallel, bounded), and with a plain
 * sequential script doing what the spec's SQL and curl listings do (one statement / one HTTP call at a
 * time on one connection). Real MariaDB and RabbitMQ; secrets go to the in-memory store on our side
 * because the spec script stores none. Ends with one RESULT line; leaves nothing behind.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/resources.bench.ts   (BENCH_TENANTS=20)
 */
import { randomBytes } from 'node:crypto';
import {
  BUSINESS_SERVICES,
  buildMessage,
  generateTenantId,
  type CommandType,
  type TenantProfile,
} from '@app/contracts';
import { FilesystemBackupTarget } from '@app/archive';
import { RabbitManagementClient } from '@app/rabbitmq-admin';
import type { CommandHandler, CommandHandlers } from '@app/platform';
import { InMemorySecretStore } from '@app/secrets';
import mysql from 'mysql2/promise';
import pino from 'pino';
import { createHandlers as brokerHandlers } from '../apps/broker-service/src';
import { createHandlers as databaseHandlers, MysqlServer, parseMysqlUrl } from '../apps/database-service/src';

const TENANTS = Number(process.env.BENCH_TENANTS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

function tenant(): TenantProfile {
  const tenantId = generateTenantId('Bench Co', randomBytes(3).toString('hex'));
  return {
    tenantId,
    companyName: 'Bench Co',
    adminEmail: 'a@example.com',
    billingEmail: 'b@example.com',
    tier: 'standard',
    region: 'eu-west',
    domain: `${tenantId}.collectverything.com`,
    subscriptionId: 'sub_bench',
    plan: { price: 1, currency: 'EUR', billingPeriod: 'monthly' },
    createdAt: new Date().toISOString(),
  };
}

const context = { commandId: 'b', correlationId: 'b', attempt: 1, logger: pino({ level: 'silent' }) };

function invoke(handlers: CommandHandlers, type: CommandType, t: TenantProfile) {
  const handler = handlers[type] as CommandHandler;
  const message = buildMessage(
    type,
    { step: 'bench', tenant: t, params: {} },
    { tenantId: t.tenantId, correlationId: 'b', actor: 'bench' },
    `${type}-${t.tenantId}`,
    new Date(),
  );
  return handler(message as never, context);
}

async function pooled<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

async function ours(tenants: TenantProfile[]): Promise<number> {
  const admin = new MysqlServer(parseMysqlUrl(MYSQL_URL), { poolSize: 8 });
  const secrets = new InMemorySecretStore();
  const db = databaseHandlers({
    admin,
    secrets,
    backups: new FilesystemBackupTarget('/tmp/bench-backups-unused'),
    secretHost: 'mysql',
    secretPort: 3306,
  });
  const broker = brokerHandlers({
    management: new RabbitManagementClient({ baseUrl: MANAGEMENT_URL, username: 'guest', password: 'guest' }),
    adminUser: 'guest',
    secrets,
    probe: () => Promise.reject(new Error('not used by the benchmark')),
    amqpUrl: 'amqp://127.0.0.1:5672',
    secretHost: 'rabbitmq',
    secretPort: 5672,
    foreignVhost: '/',
  });
  const started = process.hrtime.bigint();
  try {
    await pooled(tenants, CONCURRENCY, (t) =>
      Promise.all([invoke(db, 'ProvisionDatabases', t), invoke(broker, 'ProvisionBroker', t)]),
    );
    await pooled(tenants, CONCURRENCY, (t) =>
      Promise.all([invoke(db, 'RemoveDatabases', t), invoke(broker, 'RemoveBroker', t)]),
    );
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    await admin.close();
  }
}

async function http(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${MANAGEMENT_URL}${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await response.text();
  if (!response.ok && response.status !== 404) throw new Error(`${method} ${path}: HTTP ${response.status}`);
}

/** The spec's listings, literally: statements one by one on one connection, curl calls one by one. */
async function specScript(tenants: TenantProfile[]): Promise<number> {
  const connection = await mysql.createConnection(parseMysqlUrl(MYSQL_URL));
  const started = process.hrtime.bigint();
  try {
    for (const t of tenants) {
      const prefix = t.tenantId.replace(/-/g, '_');
      for (const service of BUSINESS_SERVICES) {
        await connection.query(
          `CREATE DATABASE IF NOT EXISTS ${prefix}_${service}_db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
        );
      }
      for (const service of BUSINESS_SERVICES) {
        await connection.query(
          `CREATE USER '${prefix}_${service}_user'@'%' IDENTIFIED BY '${randomBytes(24).toString('base64url')}'`,
        );
        await connection.query(
          `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON ${prefix}_${service}_db.* TO '${prefix}_${service}_user'@'%'`,
        );
      }
      await connection.query('FLUSH PRIVILEGES');
      const v = encodeURIComponent(t.tenantId);
      const user = encodeURIComponent(`${t.tenantId}-app-user`);
      await http('PUT', `/api/vhosts/${v}`);
      await http('PUT', `/api/users/${user}`, { password: randomBytes(24).toString('base64url'), tags: '' });
      await http('PUT', `/api/permissions/${v}/${user}`, { configure: '.*', write: '.*', read: '.*' });
      await http('PUT', `/api/exchanges/${v}/${encodeURIComponent(`${t.tenantId}.events`)}`, {
        type: 'topic',
        durable: true,
        auto_delete: false,
      });
      const queues: [string, Record<string, number>, string][] = [
        ['auth', { 'x-message-ttl': 86400000, 'x-max-length': 10000 }, 'user.*'],
        ['products', {}, 'product.*'],
        ['orders', {}, 'order.*'],
      ];
      for (const [kind, args] of queues) {
        await http('PUT', `/api/queues/${v}/${encodeURIComponent(`${t.tenantId}.${kind}`)}`, {
          durable: true,
          auto_delete: false,
          arguments: args,
        });
      }
      for (const [kind, , key] of queues) {
        await http(
          'POST',
          `/api/bindings/${v}/e/${encodeURIComponent(`${t.tenantId}.events`)}/q/${encodeURIComponent(`${t.tenantId}.${kind}`)}`,
          { routing_key: key },
        );
      }
    }
    for (const t of tenants) {
      const prefix = t.tenantId.replace(/-/g, '_');
      for (const service of BUSINESS_SERVICES)
        await connection.query(`DROP DATABASE IF EXISTS ${prefix}_${service}_db`);
      // The spec's rollback forgets the users; dropped here so the run leaves nothing behind.
      for (const service of BUSINESS_SERVICES)
        await connection.query(`DROP USER IF EXISTS '${prefix}_${service}_user'@'%'`);
      await http('DELETE', `/api/vhosts/${encodeURIComponent(t.tenantId)}`);
      await http('DELETE', `/api/users/${encodeURIComponent(`${t.tenantId}-app-user`)}`);
    }
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    await connection.end();
  }
}

async function main(): Promise<void> {
  const oursSeconds = await ours(Array.from({ length: TENANTS }, tenant));
  const specSeconds = await specScript(Array.from({ length: TENANTS }, tenant));
  console.log(
    `ours: ${TENANTS} tenants in ${oursSeconds.toFixed(2)} s (concurrency ${CONCURRENCY}); spec script: ${specSeconds.toFixed(2)} s`,
  );
  console.log(
    `RESULT resources tenants=${TENANTS} ours_s=${oursSeconds.toFixed(2)} spec_script_s=${specSeconds.toFixed(2)} ratio=${(specSeconds / oursSeconds).toFixed(2)}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
