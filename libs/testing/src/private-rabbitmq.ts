import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const run = promisify(execFile);
/** The scripts themselves: `/usr/sbin/rabbitmq-*` switch to the `rabbitmq` user and log to /var/log/rabbitmq. */
const BIN = '/usr/lib/rabbitmq/bin';
const START_TIMEOUT_MS = 60_000;

/**
 * A RabbitMQ node of a test's own, in a temporary directory on free ports (AMQP, management API, Erlang
 * distribution), for tests that stop or restart the broker. Never the shared node (`rabbit@localhost`, AMQP
 * :5672, management :15672): its configuration files are not read (the node has its own `rabbitmq.conf`,
 * environment file and plugins file), its Erlang cookie lives in the temporary directory (HOME), and every
 * `rabbitmqctl` call names this node only. The default user guest/guest may connect from 127.0.0.1.
 */
export class PrivateRabbitmq {
  private child: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly nodeName: string,
    readonly amqpPort: number,
    readonly managementPort: number,
    private readonly distPort: number,
  ) {}

  static available(): boolean {
    return existsSync(join(BIN, 'rabbitmq-server')) && existsSync(join(BIN, 'rabbitmqctl'));
  }

  /** Writes the node's configuration and starts it; resolves once AMQP and the management API answer. */
  static async start(): Promise<PrivateRabbitmq> {
    if (!PrivateRabbitmq.available()) throw new Error(`no RabbitMQ server scripts in ${BIN}`);
    const dir = mkdtempSync(join(tmpdir(), 'private-rabbitmq-'));
    const server = new PrivateRabbitmq(
      dir,
      `rabbit-${randomBytes(4).toString('hex')}@localhost`,
      await freePort(),
      await freePort(),
      await freePort(),
    );
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.local = 127.0.0.1:${server.amqpPort}`,
        `management.tcp.ip = 127.0.0.1`,
        `management.tcp.port = ${server.managementPort}`,
        // A test machine's disk may be nearly full: no alarm blocks publishers over it.
        'disk_free_limit.absolute = 1MB',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
    // Replaces /etc/rabbitmq/rabbitmq-env.conf (which names the shared node).
    writeFileSync(join(dir, 'rabbitmq-env.conf'), 'ERL_EPMD_ADDRESS=127.0.0.1\n');
    try {
      await server.resume();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  /** AMQP URL as guest, on `vhost` when given (encoded). */
  amqpUrl(vhost?: string): string {
    const base = `amqp://guest:guest@127.0.0.1:${this.amqpPort}`;
    return vhost === undefined ? base : `${base}/${encodeURIComponent(vhost)}`;
  }

  /** Base URL of the management API (without `/api`). */
  get managementUrl(): string {
    return `http://127.0.0.1:${this.managementPort}`;
  }

  /** Starts the node (after `start` or `stop`) and waits until AMQP is served and the management API answers. */
  async resume(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null)
      throw new Error(`${this.nodeName} is already running`);
    const log = openSync(join(this.dir, 'server.out'), 'a');
    const child = spawn(join(BIN, 'rabbitmq-server'), [], {
      cwd: this.dir,
      env: this.env(),
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    const until = Date.now() + START_TIMEOUT_MS;
    // `await_startup` waits for the boot to finish (listeners and plugins included); first the node must exist.
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `rabbitmq-server exited with ${child.exitCode ?? child.signalCode}: see ${this.dir}/server.out`,
        );
      if (
        await this.ctl(['await_startup', '--timeout', '30'], 40_000).then(
          () => true,
          () => false,
        )
      )
        break;
      if (Date.now() > until)
        throw new Error(`${this.nodeName} did not start within ${START_TIMEOUT_MS} ms: see ${this.dir}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    while (!(await this.managementAnswers())) {
      if (Date.now() > until)
        throw new Error(`${this.nodeName}'s management API did not answer within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * Stops the RabbitMQ application but keeps the Erlang node (`rabbitmqctl stop_app`): every connection is
   * closed by the server (320 CONNECTION_FORCED), nothing is served until `startApp`.
   */
  async stopApp(): Promise<void> {
    await this.ctl(['stop_app'], 60_000);
  }

  /** `rabbitmqctl start_app`, then waits for the management API. */
  async startApp(): Promise<void> {
    await this.ctl(['start_app'], 60_000);
    const until = Date.now() + START_TIMEOUT_MS;
    while (!(await this.managementAnswers())) {
      if (Date.now() > until)
        throw new Error(`${this.nodeName}'s management API did not answer within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Stops the whole node (`rabbitmqctl stop`, a clean shutdown) and leaves it down until `resume`. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await this.ctl(['stop'], 60_000);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 30_000)))]);
    clearTimeout(timer);
  }

  /** Stops the node if it runs (killing it if it does not stop) and deletes its directory. */
  async destroy(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await this.ctl(['stop'], 30_000).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // The Erlang cookie is read from (and first written to) $HOME: the node's own, not the shared node's.
      HOME: this.dir,
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(this.amqpPort),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_PID_FILE: join(this.dir, 'rabbitmq.pid'),
      RABBITMQ_PLUGINS_EXPAND_DIR: join(this.dir, 'plugins-expand'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
      ERL_EPMD_ADDRESS: '127.0.0.1',
    };
  }

  private async managementAnswers(): Promise<boolean> {
    try {
      const response = await fetch(`${this.managementUrl}/api/overview`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
        signal: AbortSignal.timeout(2000),
      });
      return response.ok;
    } catch {
      return false;
    }
  }

  private async ctl(args: string[], timeout: number): Promise<void> {
    try {
      await run(join(BIN, 'rabbitmqctl'), ['-n', this.nodeName, ...args], {
        cwd: this.dir,
        env: this.env(),
        timeout,
      });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(
        `rabbitmqctl ${args[0]} (${this.nodeName}) failed: ${(stderr || stdout || String(error)).trim().slice(-800)}`,
      );
    }
  }
}
