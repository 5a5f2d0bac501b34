import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const run = promisify(execFile);
const SERVER = '/usr/sbin/mariadbd';

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * A MariaDB server of a test's own, in a temporary directory on a free port, for tests that stop or restart it
 * (never the shared one on :3306). `root` has no password and may connect from 127.0.0.1. The machine's option
 * files are ignored (`--no-defaults`), so nothing of the shared server's configuration applies.
 */
export class PrivateMariadb {
  private child: ChildProcess | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static available(): boolean {
    return existsSync(SERVER);
  }

  static async start(): Promise<PrivateMariadb> {
    if (!PrivateMariadb.available()) throw new Error(`no MariaDB server at ${SERVER}`);
    const dir = mkdtempSync(join(tmpdir(), 'private-mariadb-'));
    const server = new PrivateMariadb(dir, await freePort());
    try {
      await run(
        'mariadb-install-db',
        [
          '--no-defaults',
          `--datadir=${join(dir, 'data')}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          ...(process.getuid?.() === 0 ? ['--user=root'] : []),
        ],
        { timeout: 60_000 },
      );
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`mariadb-install-db failed: ${(stderr || stdout || String(error)).trim().slice(-800)}`);
    }
    await server.resume();
    return server;
  }

  url(user = 'root', password = ''): string {
    return `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}`;
  }

  /** Starts the server and waits until it accepts connections. */
  async resume(): Promise<void> {
    const child = spawn(
      SERVER,
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(this.dir, 'mariadb.sock')}`,
        `--pid-file=${join(this.dir, 'mariadb.pid')}`,
        `--log-error=${join(this.dir, 'error.log')}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
        '--max-connections=60',
        ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    const until = Date.now() + 60_000;
    while (!(await listening(this.port))) {
      if (child.exitCode !== null)
        throw new Error(`mariadbd exited with ${child.exitCode}: see ${this.dir}/error.log`);
      if (Date.now() > until) throw new Error('mariadbd did not listen within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** A normal shutdown (SIGTERM): the server closes every session, then exits. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.resume();
  }

  async destroy(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
    this.child = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
