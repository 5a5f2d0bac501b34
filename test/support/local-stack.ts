import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { GrafanaStandIn } from '../../apps/monitoring-service/src/testing';
import { applyBrokerUsers, RabbitManagementClient } from '@app/rabbitmq-admin';
import { freePort } from '@app/testing';
import { SmtpCatcher, TenantHealthStandIn, WebsitesStandIn } from './standins';

/**
 * The whole control plane on this machine, each app as its own process (built output under dist/), wired to
 * the real local servers (PostgreSQL, RabbitMQ, MariaDB, Ceph RGW) and to local stand-ins for what cannot run
 * here. Used by the demo and by the end-to-end suites.
 */

export const APPS = [
  'provisioning-api',
  'orchestrator',
  'k8s-service',
  'database-service',
  'storage-service',
  'broker-service',
  'monitoring-service',
  'notification-service',
] as const;
export type AppName = (typeof APPS)[number];

export interface LocalStackOptions {
  /** Working directory for logs, the GitOps bare repository and the clock file. */
  dir: string;
  /** PostgreSQL database holding the event store, read models and secret store. */
  database: string;
  /**
   * The PostgreSQL server holding `database`, as a URL without a path (default the shared local server,
   * `postgres://postgres@127.0.0.1:5432`); suites that restart PostgreSQL point the stack at a private one.
   */
  postgresServer?: string;
  /** Prefix of every PostgreSQL schema of this stack (lets several stacks share a database). */
  schemaPrefix: string;
  /** RabbitMQ vhost of the control plane's own exchanges and queues (created if missing). */
  vhost: string;
  /** AES-256-GCM key of the secret store (base64 of 32 bytes); random when omitted. */
  secretStoreKey?: string;
  /** Extra environment per app (e.g. a smaller DEADLINE_SCALE for the orchestrator). */
  env?: Partial<Record<AppName, Record<string, string>>>;
  logLevel?: string;
  /**
   * Connection pools of the apps: `small` (the default) lets two stacks and the integration suites run at once
   * under PostgreSQL's 100 connections; `production` keeps the apps' own defaults (the demo, the benchmark).
   */
  pools?: 'small' | 'production';
  /**
   * How the apps connect to RabbitMQ: `per-app` (the default) as one user each, created on the stack's vhost
   * with the narrowest permissions of its role (libs/rabbitmq-admin/src/broker-permissions.ts), as deployed;
   * `administrator` as guest, as every app did before per-app users existed.
   */
  brokerUsers?: 'per-app' | 'administrator';
  /**
   * The RabbitMQ server of the stack, as guest (default the shared local one: `amqp://guest:guest@127.0.0.1:5672`
   * and `http://127.0.0.1:15672`); suites that restart the broker point the stack, the broker-service's
   * management API and its AMQP verification at a private one.
   */
  rabbitmqServer?: { amqp: string; management: string };
}

const ROOT = resolve(__dirname, '../..').replace(/\/dist$/, '');
const MANAGEMENT = 'http://127.0.0.1:15672/api';
const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

/** The last lines of an app's log, for the error of a failed start (a temp directory is gone after CI). */
function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((line) => (line.length > 600 ? `${line.slice(0, 600)}…` : line))
      .join('\n');
  } catch (error) {
    return `(log unreadable: ${(error as Error).message})`;
  }
}

function mainOf(app: AppName): string {
  return join(ROOT, 'dist', 'apps', app, 'src', 'main.js');
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

export class LocalStack {
  /** Billing's bearer secret (WEBHOOK_BEARER_SECRET); requests are signed with `webhookSigningSecret`. */
  readonly webhookSecret = randomBytes(24).toString('hex');
  readonly webhookSigningSecret = randomBytes(24).toString('hex');
  readonly operatorToken = randomBytes(24).toString('hex');
  readonly auditorToken = randomBytes(24).toString('hex');
  readonly grafanaToken = randomBytes(16).toString('hex');
  readonly websitesToken = randomBytes(16).toString('hex');
  readonly smtp = new SmtpCatcher();
  readonly websites = new WebsitesStandIn(this.websitesToken);
  readonly grafana = new GrafanaStandIn(this.grafanaToken);
  readonly tenantHealth = new TenantHealthStandIn();
  readonly processes = new Map<AppName, ChildProcess>();
  readonly envs = new Map<AppName, Record<string, string>>();
  readonly healthPorts = new Map<AppName, number>();
  readonly gitRemote: string;
  readonly clockFile: string;
  readonly logDir: string;
  readonly secretStoreKey: string;
  apiUrl = '';

  constructor(readonly options: LocalStackOptions) {
    this.gitRemote = join(options.dir, 'manifests.git');
    this.clockFile = join(options.dir, 'clock');
    this.logDir = join(options.dir, 'logs');
    this.secretStoreKey = options.secretStoreKey ?? randomBytes(32).toString('base64');
  }

  get pgUrl(): string {
    const server = (this.options.postgresServer ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
    return `${server}/${this.options.database}`;
  }
  get eventStoreSchema(): string {
    return `${this.options.schemaPrefix}_events`;
  }
  get readModelSchema(): string {
    return `${this.options.schemaPrefix}_read`;
  }
  private get smallPools(): boolean {
    return (this.options.pools ?? 'small') === 'small';
  }
  get secretStoreUrl(): string {
    const pool = this.smallPools ? '&pool_size=2' : '';
    return `${this.pgUrl}?schema=${this.options.schemaPrefix}_secrets${pool}`;
  }
  /** The broker's AMQP address with guest's credentials, without a vhost. */
  private get amqpServer(): string {
    return (this.options.rabbitmqServer?.amqp ?? 'amqp://guest:guest@127.0.0.1:5672').replace(/\/+$/, '');
  }
  /** The broker's management API (with `/api`). */
  private get managementApi(): string {
    const base = this.options.rabbitmqServer?.management ?? MANAGEMENT.replace(/\/api$/, '');
    return `${base.replace(/\/+$/, '')}/api`;
  }
  get amqpUrl(): string {
    return `${this.amqpServer}/${encodeURIComponent(this.options.vhost)}`;
  }
  private get perAppBrokerUsers(): boolean {
    return (this.options.brokerUsers ?? 'per-app') === 'per-app';
  }
  /** The broker user of one app: users are global to RabbitMQ, so the vhost names them. */
  brokerUserOf(app: AppName): string {
    return `${this.options.vhost}.${app}`;
  }
  /** The AMQP URL one app connects with (guest's under `brokerUsers: 'administrator'`). */
  amqpUrlOf(app: AppName): string {
    if (!this.perAppBrokerUsers) return this.amqpUrl;
    const user = encodeURIComponent(this.brokerUserOf(app));
    const hostPort = new URL(this.amqpServer).host;
    return `amqp://${user}:${this.brokerPassword}@${hostPort}/${encodeURIComponent(this.options.vhost)}`;
  }
  private readonly brokerPassword = randomBytes(18).toString('hex');
  private brokerAdmin(): RabbitManagementClient {
    return new RabbitManagementClient({
      baseUrl: this.managementApi.replace(/\/api$/, ''),
      username: 'guest',
      password: 'guest',
    });
  }

  async start(): Promise<void> {
    for (const app of APPS) {
      if (!existsSync(mainOf(app))) throw new Error(`${mainOf(app)} is missing: run \`npm run build\` first`);
    }
    mkdirSync(this.logDir, { recursive: true });
    if (!existsSync(this.gitRemote)) {
      const init = spawnSync('git', ['init', '--bare', '--initial-branch=main', this.gitRemote], {
        encoding: 'utf8',
      });
      if (init.status !== 0) throw new Error(`git init --bare failed: ${init.stderr}`);
    }
    const vhostUrl = `${this.managementApi}/vhosts/${encodeURIComponent(this.options.vhost)}`;
    const vhostResponse = await fetch(vhostUrl, {
      method: 'PUT',
      headers: { authorization: GUEST },
    });
    if (!vhostResponse.ok)
      throw new Error(`cannot create vhost ${this.options.vhost}: ${vhostResponse.status}`);
    if (this.perAppBrokerUsers) {
      const vhost = this.options.vhost;
      const password = this.brokerPassword;
      await applyBrokerUsers(
        this.brokerAdmin(),
        APPS.map((app) => ({ app, user: this.brokerUserOf(app), password, vhost })),
        { queuePrefix: this.options.env?.orchestrator?.QUEUE_PREFIX },
      );
    }

    const smtpUrl = await this.smtp.start();
    const websitesUrl = await this.websites.start();
    const grafanaUrl = await this.grafana.start();
    const tenantHealthUrl = await this.tenantHealth.start();
    const apiPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;

    const common: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      LOG_LEVEL: this.options.logLevel ?? 'info',
      EVENTSTORE_URL: this.pgUrl,
      EVENTSTORE_SCHEMA: this.eventStoreSchema,
      AMQP_URL: this.amqpUrl,
      SECRET_STORE_URL: this.secretStoreUrl,
      SECRET_STORE_KEY: this.secretStoreKey,
      COMMAND_RETRY_INITIAL_MS: '500',
      // Two stacks run at once under Jest, beside the int suites: small pools keep them under PostgreSQL's 100
      // connections (the production default of 10 per process would not).
      ...(this.smallPools ? { EVENTSTORE_POOL_SIZE: '3' } : {}),
    };
    const perApp: Record<AppName, Record<string, string>> = {
      'provisioning-api': {
        PORT: String(apiPort),
        HOST: '127.0.0.1',
        WEBHOOK_SIGNING_SECRET: this.webhookSigningSecret,
        WEBHOOK_BEARER_SECRET: this.webhookSecret,
        OPERATOR_TOKENS: `operator:${this.operatorToken}`,
        AUDITOR_TOKENS: `auditor:${this.auditorToken}`,
        READ_MODEL_URL: this.pgUrl,
        READ_MODEL_SCHEMA: this.readModelSchema,
        ...(this.smallPools ? { READ_MODEL_POOL_SIZE: '2' } : {}),
      },
      orchestrator: { TIMER_INTERVAL_MS: '250', CLOCK_FILE: this.clockFile },
      'k8s-service': {
        K8S_DELIVERY: 'gitops',
        GITOPS_REMOTE: this.gitRemote,
        GITOPS_WORKDIR: join(this.options.dir, 'work', 'k8s'),
        K8S_VERIFY_TRUST_COMMIT: 'true',
        TENANT_HEALTH_BASE_URL: tenantHealthUrl,
        VERIFY_INTERVAL_MS: '250',
      },
      // Final backups go where production's go: the S3 archive bucket (RGW here), beside the bucket mirrors.
      'database-service': { BACKUP_TARGET: 's3' },
      'storage-service': {},
      'broker-service': this.options.rabbitmqServer
        ? {
            RABBITMQ_MANAGEMENT_URL: this.options.rabbitmqServer.management,
            RABBITMQ_AMQP_URL: `amqp://${new URL(this.amqpServer).host}`,
          }
        : {},
      'monitoring-service': {
        MONITORING_DELIVERY: 'gitops',
        GITOPS_REMOTE: this.gitRemote,
        GITOPS_WORKDIR: join(this.options.dir, 'work', 'monitoring'),
        GRAFANA_URL: grafanaUrl,
        GRAFANA_ADMIN_TOKEN: this.grafanaToken,
      },
      'notification-service': {
        SMTP_URL: smtpUrl,
        WEBSITES_API_URL: websitesUrl,
        WEBSITES_API_TOKEN: this.websitesToken,
      },
    };
    for (const app of APPS) {
      const healthPort = app === 'provisioning-api' ? undefined : await freePort();
      if (healthPort) this.healthPorts.set(app, healthPort);
      this.envs.set(app, {
        ...common,
        ...perApp[app],
        AMQP_URL: this.amqpUrlOf(app),
        ...(healthPort ? { HEALTH_PORT: String(healthPort), HEALTH_HOST: '127.0.0.1' } : {}),
        ...(this.options.env?.[app] ?? {}),
      });
    }
    // The API migrates the event store schema; start it first so the others find it ready.
    await this.startApp('provisioning-api');
    await Promise.all(APPS.filter((a) => a !== 'provisioning-api').map((app) => this.startApp(app)));
  }

  /** Starts (or restarts) one app and waits until it reports ready. */
  async startApp(app: AppName): Promise<void> {
    const logPath = join(this.logDir, `${app}.log`);
    const log = openSync(logPath, 'a');
    // BENCH_CPU_PROFILE_DIR: a V8 CPU profile per app, written when it exits (bench/fleet.bench.ts documents it).
    const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
    const profile = profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${app}.cpuprofile`]
      : [];
    const child = spawn(process.execPath, [...profile, mainOf(app)], {
      cwd: ROOT,
      env: this.envs.get(app),
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.processes.set(app, child);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(
          new Error(
            `${app} exited with code ${code} during start-up; the end of ${logPath}:\n` + logTail(logPath),
          ),
        ),
      ),
    );
    exited.catch(() => undefined);
    const ready =
      app === 'provisioning-api'
        ? () => httpOk(`${this.apiUrl}/health`)
        : () => httpOk(`http://127.0.0.1:${this.healthPorts.get(app)}/ready`);
    await Promise.race([waitUntil(app, ready, 60_000), exited]);
  }

  /** Sends a signal to one app and waits for it to exit (SIGKILL simulates a crash). */
  async kill(app: AppName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.processes.get(app);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(APPS.map((app) => this.kill(app, 'SIGTERM')));
    await Promise.all([
      this.smtp.stop(),
      this.websites.stop(),
      this.grafana.stop(),
      this.tenantHealth.stop(),
    ]);
  }

  /** Deletes the control plane's vhost (tests call it; the demo keeps it for a second run). */
  async removeVhost(): Promise<void> {
    const response = await fetch(`${this.managementApi}/vhosts/${encodeURIComponent(this.options.vhost)}`, {
      method: 'DELETE',
      headers: { authorization: GUEST },
    });
    if (!response.ok && response.status !== 404)
      throw new Error(`cannot delete vhost ${this.options.vhost}: ${response.status}`);
    if (this.perAppBrokerUsers) {
      const admin = this.brokerAdmin();
      await Promise.all(APPS.map((app) => admin.deleteUser(this.brokerUserOf(app))));
    }
  }

  /** Drops the stack's PostgreSQL schemas (events, read model, secrets): call once its processes stopped. */
  async dropSchemas(): Promise<void> {
    const pg = new Client({ connectionString: this.pgUrl });
    await pg.connect();
    try {
      for (const suffix of ['events', 'read', 'secrets']) {
        await pg.query(`DROP SCHEMA IF EXISTS ${this.options.schemaPrefix}_${suffix} CASCADE`);
      }
    } finally {
      await pg.end();
    }
  }

  // HTTP helpers -----------------------------------------------------------------------------------------

  async postWebhook(
    kind: 'subscription-created' | 'subscription-cancelled',
    body: unknown,
  ): Promise<Response> {
    return fetch(`${this.apiUrl}/api/v1/provisioning/webhooks/${kind}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.webhookSecret}` },
      body: JSON.stringify(body),
    });
  }

  async getJson<T>(path: string, token = this.operatorToken): Promise<T> {
    const response = await fetch(`${this.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
    return (await response.json()) as T;
  }
}

/** The spec's own `subscription.created` example (1.1), with a subscription id of the caller's choosing. */
export function specSubscriptionCreated(subscriptionId = 'sub_abc123', name = 'ABC Corporation') {
  return {
    event: 'subscription.created',
    timestamp: new Date().toISOString(),
    data: {
      subscription_id: subscriptionId,
      customer: { name, email: 'admin@abc-corp.com', billing_email: 'billing@abc-corp.com' },
      plan: { tier: 'premium', price: 124.99, currency: 'EUR', billing_period: 'monthly' },
      metadata: { company_size: '50-200', industry: 'retail', region: 'us-east' },
    },
  };
}
