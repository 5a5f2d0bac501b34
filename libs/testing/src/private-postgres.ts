import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const run = promisify(execFile);

/** The newest PostgreSQL server binaries installed under /usr/lib/postgresql, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

/** PostgreSQL refuses to run as root: under root, every server command runs as the `postgres` user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

/**
 * A PostgreSQL server of a test's own, in a temporary directory on a free port, for tests that stop or restart
 * the server (never the shared one on :5432, which other suites use at the same time). Trust authentication on
 * 127.0.0.1 only; any password in a URL is accepted and ignored.
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  /** Creates the cluster and starts it; throws naming what is missing when no server binaries are installed. */
  static async start(): Promise<PrivatePostgres> {
    const bin = postgresBinDir();
    if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin');
    const dir = mkdtempSync(join(tmpdir(), 'private-pg-'));
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: group } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(group.trim()));
    }
    const server = new PrivatePostgres(dir, await freePort(), bin);
    await server.exec('initdb', [
      '--pgdata',
      server.dataDir,
      '--username',
      'postgres',
      '--auth',
      'trust',
      '--no-sync',
      '--encoding',
      'UTF8',
    ]);
    await server.ctl('start');
    return server;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  url(database = 'postgres', password?: string): string {
    const credentials = password === undefined ? 'postgres' : `postgres:${encodeURIComponent(password)}`;
    return `postgres://${credentials}@127.0.0.1:${this.port}/${database}`;
  }

  /** `pg_ctl restart -m fast`: every session is terminated with 57P01, as in a failover or an operator restart. */
  async restart(): Promise<void> {
    await this.ctl('restart', ['-m', 'fast']);
  }

  /** Stops the server (sessions get 57P01) and leaves it down until `resume`. */
  async stop(): Promise<void> {
    await this.ctl('stop', ['-m', 'fast']);
  }

  async resume(): Promise<void> {
    await this.ctl('start');
  }

  /** Stops the server if it runs and deletes its directory. */
  async destroy(): Promise<void> {
    await this.ctl('stop', ['-m', 'immediate']).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async ctl(action: 'start' | 'stop' | 'restart', extra: string[] = []): Promise<void> {
    const options = [
      `-c listen_addresses=127.0.0.1`,
      `-c port=${this.port}`,
      `-c unix_socket_directories=${this.dir}`,
      '-c fsync=off',
      '-c max_connections=60',
      '-c shared_buffers=16MB',
    ].join(' ');
    await this.exec('pg_ctl', [
      action,
      '--pgdata',
      this.dataDir,
      '--wait',
      '--timeout',
      '60',
      '--log',
      join(this.dir, 'server.log'),
      ...(action === 'stop' ? [] : ['-o', options]),
      ...extra,
    ]);
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    const [command, argv] = asServerUser(join(this.bin, tool), args);
    try {
      await run(command, argv, { cwd: this.dir, timeout: 90_000 });
    } catch (error) {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`${tool} ${args[0]} failed: ${(stderr || stdout || String(error)).trim().slice(-800)}`);
    }
  }
}
