import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mutex, withFileLock } from './file-lock';

/** Against the real file system, in a fresh temporary directory. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kube-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that certainly belongs to no live process: a child that has already exited. */
/**
 * A pid no process can have: above the kernel's pid_max. (The pid of a child that just exited can be handed to a
 * new process at once when the machine spawns many, and a lock naming it would then look alive.)
 */
function deadPid(): number {
  return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) + 1;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A hostname that is certainly not ours: another replica's container. */
const otherHost = `not-${hostname()}`;

describe('Mutex', () => {
  it('runs work one at a time, in order, and survives a failure', async () => {
    const mutex = new Mutex();
    const events: string[] = [];
    const step = (name: string, fail = false) =>
      mutex.run(async () => {
        events.push(`start ${name}`);
        await new Promise((resolve) => setImmediate(resolve));
        events.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([step('a'), step('b', true), step('c')]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('withFileLock', () => {
  it('holds the lock file with our host, pid and token during the work and removes it after, even on failure', async () => {
    const path = join(dir, 'wc.lock');
    await withFileLock(path, 1000, async () => {
      expect(readFileSync(path, 'utf8')).toMatch(
        new RegExp(`^${escape(hostname())}:${process.pid}:[0-9a-f]+$`),
      );
    });
    expect(existsSync(path)).toBe(false);
    await expect(
      withFileLock(path, 1000, async () => {
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock left by a dead process (old format: a bare pid)', async () => {
    const path = join(dir, 'wc.lock');
    writeFileSync(path, String(deadPid()));
    await expect(withFileLock(path, 1000, async () => 'done')).resolves.toBe('done');
  });

  it('waits for a live owner and gives up after the timeout, naming the owner (old format)', async () => {
    const path = join(dir, 'wc.lock');
    // Our parent is alive for the whole test and is not us: a live foreign owner.
    writeFileSync(path, String(process.ppid));
    await expect(withFileLock(path, 200, async () => 'never')).rejects.toThrow(`held by pid ${process.ppid}`);
    expect(readFileSync(path, 'utf8')).toBe(String(process.ppid));
  });

  it('does not steal a lock held by a live other process', async () => {
    const path = join(dir, 'wc.lock');
    const owner = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(path, String(owner.pid));
      await expect(withFileLock(path, 300, async () => 'never')).rejects.toThrow(`held by pid ${owner.pid}`);
      expect(readFileSync(path, 'utf8')).toBe(String(owner.pid));
    } finally {
      owner.kill('SIGKILL');
    }
  });

  it('takes over an old-format lock holding our own pid, left by a previous life of this process (PID 1 in a container)', async () => {
    const path = join(dir, 'wc.lock');
    writeFileSync(path, String(process.pid));
    await expect(withFileLock(path, 500, async () => 'done')).resolves.toBe('done');
    expect(existsSync(path)).toBe(false);
  });

  it('does not take over a lock from another host that carries our pid (replicas in containers all run as PID 1)', async () => {
    const path = join(dir, 'wc.lock');
    const foreign = `${otherHost}:${process.pid}:0123456789abcdef`;
    writeFileSync(path, foreign);
    await expect(withFileLock(path, 300, async () => 'never')).rejects.toThrow(
      `held by pid ${process.pid} on host ${otherHost}`,
    );
    expect(readFileSync(path, 'utf8')).toBe(foreign);
  });

  it('does not take over a lock from another host whose pid is dead here: our process table says nothing about it', async () => {
    const path = join(dir, 'wc.lock');
    const foreign = `${otherHost}:${deadPid()}:0123456789abcdef`;
    writeFileSync(path, foreign);
    await expect(withFileLock(path, 300, async () => 'never')).rejects.toThrow(`on host ${otherHost}`);
    expect(readFileSync(path, 'utf8')).toBe(foreign);
  });

  it('takes a lock from another host once its owner releases it', async () => {
    const path = join(dir, 'wc.lock');
    writeFileSync(path, `${otherHost}:1:0123456789abcdef`);
    setTimeout(() => rmSync(path, { force: true }), 150);
    await expect(withFileLock(path, 2000, async () => 'done')).resolves.toBe('done');
  });

  it('takes over a lock from this host with our pid and another token: a previous life of this process', async () => {
    const path = join(dir, 'wc.lock');
    writeFileSync(path, `${hostname()}:${process.pid}:0123456789abcdef`);
    await expect(withFileLock(path, 500, async () => 'done')).resolves.toBe('done');
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock from this host whose pid is dead', async () => {
    const path = join(dir, 'wc.lock');
    writeFileSync(path, `${hostname()}:${deadPid()}:0123456789abcdef`);
    await expect(withFileLock(path, 500, async () => 'done')).resolves.toBe('done');
  });

  it('waits for a live other process on this host', async () => {
    const path = join(dir, 'wc.lock');
    const owner = `${hostname()}:${process.ppid}:0123456789abcdef`;
    writeFileSync(path, owner);
    await expect(withFileLock(path, 200, async () => 'never')).rejects.toThrow(
      `held by pid ${process.ppid} on host ${hostname()}`,
    );
    expect(readFileSync(path, 'utf8')).toBe(owner);
  });

  it('still waits while this process really holds the lock (concurrent callers, no mutex)', async () => {
    const path = join(dir, 'wc.lock');
    const events: string[] = [];
    let release!: () => void;
    const first = withFileLock(path, 1000, async () => {
      events.push('first start');
      await new Promise<void>((resolve) => (release = resolve));
      events.push('first end');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = withFileLock(path, 1000, async () => events.push('second'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    release();
    await Promise.all([first, second]);
    expect(events).toEqual(['first start', 'first end', 'second']);
  });

  it('takes over an old empty lock file (owner killed between creating it and writing its identity)', async () => {
    const path = join(dir, 'wc.lock');
    writeFileSync(path, '');
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(path, longAgo, longAgo);
    await expect(withFileLock(path, 500, async () => 'done')).resolves.toBe('done');
  });

  it('lets exactly one of many waiting processes take over a lock left by a dead owner', async () => {
    // Each child runs this very module (Node strips its types) and records entering and leaving the lock.
    const child = join(dir, 'child.mts');
    writeFileSync(
      child,
      `import { appendFileSync, existsSync } from 'node:fs';
import { withFileLock } from ${JSON.stringify(join(__dirname, 'file-lock.ts'))};
const [lock, log, go] = process.argv.slice(2);
while (!existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 5));
await withFileLock(lock, 30000, async () => {
  appendFileSync(log, 'enter ' + process.pid + '\\n');
  await new Promise((resolve) => setTimeout(resolve, 30));
  appendFileSync(log, 'exit ' + process.pid + '\\n');
});
`,
    );
    const lock = join(dir, 'lock');
    const log = join(dir, 'log');
    const go = join(dir, 'go');
    for (let round = 0; round < 3; round++) {
      writeFileSync(lock, `${hostname()}:${deadPid()}:0123456789abcdef`);
      writeFileSync(log, '');
      rmSync(go, { force: true });
      const children = Array.from({ length: 8 }, () =>
        spawn(process.execPath, [child, lock, log, go], { stdio: ['ignore', 'ignore', 'pipe'] }),
      );
      const exits = children.map(
        (c) =>
          new Promise<{ code: number | null; stderr: string }>((resolve) => {
            let stderr = '';
            c.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
            c.on('exit', (code) => resolve({ code, stderr }));
          }),
      );
      // All eight are waiting on the "go" file, so they meet the stale lock together.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      writeFileSync(go, '');
      // A child that failed shows its stderr in the report.
      for (const exit of await Promise.all(exits)) expect(exit).toMatchObject({ code: 0 });
      const lines = readFileSync(log, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(16);
      let inside = 0;
      let most = 0;
      for (const line of lines) {
        inside += line.startsWith('enter') ? 1 : -1;
        most = Math.max(most, inside);
      }
      expect(most).toBe(1);
      expect(existsSync(lock)).toBe(false);
      expect(existsSync(`${lock}.takeover`)).toBe(false);
    }
  }, 60000);

  it('removes a takeover guard left by a dead owner here, or an old one from another host, and takes over', async () => {
    for (const guardOwner of [
      `${hostname()}:${deadPid()}:0123456789abcdef`,
      `${otherHost}:1:0123456789abcdef`,
    ]) {
      const path = join(dir, 'wc.lock');
      writeFileSync(path, `${hostname()}:${deadPid()}:0123456789abcdef`);
      writeFileSync(`${path}.takeover`, guardOwner);
      const old = new Date(Date.now() - 60_000);
      utimesSync(`${path}.takeover`, old, old);
      await expect(withFileLock(path, 2000, async () => 'done')).resolves.toBe('done');
      expect(existsSync(`${path}.takeover`)).toBe(false);
    }
  });

  it('waits while a fresh takeover guard of another host is in place, and says so', async () => {
    const path = join(dir, 'wc.lock');
    writeFileSync(path, `${hostname()}:${deadPid()}:0123456789abcdef`);
    writeFileSync(`${path}.takeover`, `${otherHost}:1:0123456789abcdef`);
    await expect(withFileLock(path, 300, async () => 'never')).rejects.toThrow('a takeover guard');
    expect(readFileSync(`${path}.takeover`, 'utf8')).toBe(`${otherHost}:1:0123456789abcdef`);
  });

  it('does not take over a fresh empty lock file: its owner is about to write its identity', async () => {
    const path = join(dir, 'wc.lock');
    writeFileSync(path, '');
    await expect(withFileLock(path, 300, async () => 'never')).rejects.toThrow(`lock ${path} held`);
    expect(existsSync(path)).toBe(true);
  });
});
