import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { withClientSpan } from '@app/platform';

/**
 * The environment git runs in: never a terminal prompt for credentials (a service has no one to answer it),
 * and never a repository named by a parent git process (a hook running the service's tests, say).
 */
function gitEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY']) delete env[name];
  return env;
}

/** How long a git process told to stop (SIGTERM) may take to clean up before it is killed. */
const KILL_GRACE_MS = 2000;

/**
 * Runs git in one directory, one process per call, and counts them: the count is what a group of changes
 * costs in processes (`processes` in its timings). A command that shows no output for `timeoutMs` is killed:
 * a remote that accepts and never answers must not hold the working-copy lock for ever.
 */
export class GitRunner {
  /** Processes spawned so far (cat-file batches included). */
  spawned = 0;

  constructor(
    private readonly cwd: string,
    private readonly config: readonly string[],
    readonly timeoutMs: number,
  ) {}

  async run(args: readonly string[], options: { input?: string; cwd?: string } = {}): Promise<string> {
    return (await this.runBuffer(args, options)).toString('utf8');
  }

  /** One git process, in a CLIENT span `git <subcommand>` (only the subcommand: arguments may name paths). */
  runBuffer(args: readonly string[], options: { input?: string; cwd?: string } = {}): Promise<Buffer> {
    const subcommand = args[0] ?? 'git';
    return withClientSpan(
      `git ${subcommand}`,
      { 'process.executable.name': 'git', 'process.command_args': ['git', subcommand] },
      () => this.runProcess(args, options),
      { recordMessage: false },
    );
  }

  private runProcess(args: readonly string[], options: { input?: string; cwd?: string }): Promise<Buffer> {
    const child = this.spawn(args, options.cwd);
    const subcommand = args[0] ?? 'git';
    return new Promise<Buffer>((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (error: Error | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(Buffer.concat(out));
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const stalled = new Error(`git ${subcommand} showed no progress for ${this.timeoutMs} ms`);
          // A helper git started (git-remote-http) may keep the pipes open: git's own exit is what counts.
          if (child.exitCode !== null || child.signalCode !== null) return finish(stalled);
          child.once('exit', () => finish(stalled));
          // SIGTERM first: a clone cut short removes what it had written, as on Ctrl-C.
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
          child.stdout.destroy();
          child.stderr.destroy();
        }, this.timeoutMs);
      };
      arm();
      child.stdout.on('data', (chunk: Buffer) => {
        out.push(chunk);
        arm();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        err.push(chunk);
        arm();
      });
      child.on('error', (error) => finish(error));
      child.on('close', (code, signal) => {
        if (code === 0) return finish(undefined);
        const stderr = Buffer.concat(err).toString('utf8').trim();
        finish(new Error(stderr || `git ${subcommand} exited with ${code ?? signal}`));
      });
      // Git may exit before reading its input (a failed command): that is its error to report, not EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    });
  }

  /** A long-lived git process (cat-file --batch), counted like the others. */
  spawn(args: readonly string[], cwd?: string): ChildProcessWithoutNullStreams {
    this.spawned++;
    const flags = this.config.flatMap((entry) => ['-c', entry]);
    return spawn('git', [...flags, ...args], { cwd: cwd ?? this.cwd, env: gitEnvironment() });
  }
}

interface PendingRead {
  oid: string;
  resolve: (object: { type: string; content: Buffer }) => void;
  reject: (error: unknown) => void;
}

/**
 * One `git cat-file --batch` for every object a group reads (trees it rebuilds, blobs another writer's commit
 * brought): one process per group instead of one per object. Requests are pipelined; answers come in order.
 */
export class CatFileBatch {
  private child?: ChildProcessWithoutNullStreams;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: PendingRead[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly git: GitRunner) {}

  read(oid: string): Promise<{ type: string; content: Buffer }> {
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      this.pending.push({ oid, resolve, reject });
      this.arm();
      child.stdin.write(`${oid}\n`);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.child?.stdin.end();
    this.child = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = this.git.spawn(['cat-file', '--batch']);
    this.child = child;
    this.buffer = Buffer.alloc(0);
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdin.on('error', () => undefined);
    const fail = (error: Error) => {
      if (this.child === child) this.child = undefined;
      clearTimeout(this.timer);
      for (const read of this.pending.splice(0)) read.reject(error);
    };
    child.on('error', fail);
    child.on('close', (code) => {
      if (this.pending.length > 0) fail(new Error(stderr.trim() || `git cat-file exited with ${code}`));
      else if (this.child === child) this.child = undefined;
    });
    return child;
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.pending.length === 0) return;
    this.timer = setTimeout(() => {
      const child = this.child;
      this.child = undefined;
      child?.kill('SIGKILL');
      const error = new Error(`git cat-file showed no progress for ${this.git.timeoutMs} ms`);
      for (const read of this.pending.splice(0)) read.reject(error);
    }, this.git.timeoutMs);
  }

  /** Answers: `<oid> <type> <size>\n<content>\n`, or `<oid> missing\n`. */
  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const read = this.pending[0];
      const newline = this.buffer.indexOf(10);
      if (!read || newline < 0) break;
      const header = this.buffer.subarray(0, newline).toString('utf8').split(' ');
      if (header[1] === 'missing' || header.length !== 3) {
        this.buffer = this.buffer.subarray(newline + 1);
        this.pending.shift();
        read.reject(new Error(`object ${read.oid} is missing from the working copy`));
        continue;
      }
      const size = Number(header[2]);
      if (this.buffer.length < newline + 1 + size + 1) break;
      const content = Buffer.from(this.buffer.subarray(newline + 1, newline + 1 + size));
      this.buffer = this.buffer.subarray(newline + 1 + size + 1);
      this.pending.shift();
      read.resolve({ type: header[1], content });
    }
    this.arm();
  }
}
