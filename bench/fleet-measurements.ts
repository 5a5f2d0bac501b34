/**
 * What bench/fleet.bench.ts measures around a run: the commits the GitOps remote received, the largest resident
 * memory of every app, and a progress line.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { AppName, LocalStack } from '../test/support/local-stack';

/** Commits reachable in the bare repository (0 while it has none). */
export function gitCommits(remote: string): number {
  const result = spawnSync('git', ['--git-dir', remote, 'rev-list', '--count', '--all'], {
    encoding: 'utf8',
  });
  if (result.status !== 0) return 0;
  return Number(result.stdout.trim());
}

/** Samples every app's VmRSS twice a second and keeps each one's largest. */
export class RssSampler {
  readonly maxKb = new Map<AppName, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly stack: LocalStack) {
    this.timer = setInterval(() => this.sample(), 500);
    this.sample();
  }

  private sample(): void {
    for (const [app, child] of this.stack.processes) {
      if (child.pid === undefined || child.exitCode !== null) continue;
      let status: string;
      try {
        status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      } catch {
        continue; // exited between the check and the read
      }
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      if (match) this.maxKb.set(app, Math.max(this.maxKb.get(app) ?? 0, Number(match[1])));
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  largest(): { app: string; mb: number } {
    let app = 'none';
    let kb = 0;
    for (const [name, value] of this.maxKb) if (value > kb) [app, kb] = [name, value];
    return { app, mb: kb / 1024 };
  }
}

/** One in-place line on stderr when it is a terminal; otherwise a line every tenth of the run. */
export class Progress {
  private lastTenth = -1;
  private readonly started = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly total: number,
    private readonly counts: () => { active: number; failed: number; inFlight: number },
  ) {
    this.timer = setInterval(() => this.draw(), 1000);
  }

  draw(final = false): void {
    const { active, failed, inFlight } = this.counts();
    const done = active + failed;
    const elapsed = (Date.now() - this.started) / 1000;
    const width = 30;
    const filled = Math.round((done / this.total) * width);
    const rate = elapsed > 0 ? (active / elapsed) * 60 : 0;
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ` +
      `(${active} active, ${failed} failed, ${inFlight} in flight) ${elapsed.toFixed(0)} s, ${rate.toFixed(0)}/min`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    } else {
      const tenth = Math.floor((done / this.total) * 10);
      if (tenth !== this.lastTenth || final) {
        this.lastTenth = tenth;
        process.stderr.write(`${line}\n`);
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.draw(true);
  }
}

/**
 * Where the machine's CPU went during the run, from /proc: each app (its own time plus its reaped children's,
 * which are its git processes), each server (PostgreSQL: the postmaster, its live backends and those it reaped;
 * MariaDB; RabbitMQ; Ceph's gateway, object store, monitor and manager), and the whole machine from /proc/stat
 * (the rest is everything else: the bench itself, the kernel's own threads, other work on the machine). On a
 * saturated machine the sum over the
 * components per tenant bounds the rate: cores x 60 / (CPU seconds a tenant costs) tenants a minute.
 */
export interface CpuReading {
  components: Map<string, number>;
  /** Busy seconds of every core together since boot. */
  machine: number;
  /** When it was read (ms since the epoch). */
  at: number;
}

const SERVERS: Record<string, string> = {
  postgres: 'postgresql',
  mariadbd: 'mariadb',
  mysqld: 'mariadb',
  'beam.smp': 'rabbitmq',
  // The S3 server is Ceph: the gateway, and the object store and monitor daemons behind it.
  radosgw: 'ceph',
  'ceph-osd': 'ceph',
  'ceph-mon': 'ceph',
  'ceph-mgr': 'ceph',
};

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    ticksPerSecond = Number(result.stdout.trim()) || 100;
  }
  return ticksPerSecond;
}

/** utime, stime, cutime, cstime (seconds) and the command name of a process, or undefined once it is gone. */
function processTimes(
  pid: number,
): { own: number; children: number; comm: string; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces; the fields after it are space-separated.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, so fields[11]; stime [12], cutime [13], cstime [14].
  const tick = clockTicks();
  return {
    comm,
    ppid: Number(fields[1]),
    own: (Number(fields[11]) + Number(fields[12])) / tick,
    children: (Number(fields[13]) + Number(fields[14])) / tick,
  };
}

export function readCpu(stack: LocalStack): CpuReading {
  const components = new Map<string, number>();
  const add = (name: string, seconds: number) => components.set(name, (components.get(name) ?? 0) + seconds);
  const appPids = new Set<number>();
  for (const [app, child] of stack.processes) {
    if (child.pid === undefined) continue;
    appPids.add(child.pid);
    const times = processTimes(child.pid);
    if (times) add(app, times.own + times.children);
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || appPids.has(Number(entry))) continue;
    const times = processTimes(Number(entry));
    const server = times && SERVERS[times.comm];
    if (!times || !server) continue;
    // A server's children (PostgreSQL's backends) are counted live here and, once reaped, in the parent's
    // children time; a process whose parent is the same server is not counted twice.
    const parent = processTimes(times.ppid);
    const parentIsServer = parent !== undefined && SERVERS[parent.comm] === server;
    add(server, times.own + (parentIsServer ? 0 : times.children));
  }
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
  const busyTicks = cpu
    .slice(0, 8)
    .reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
  return { components, machine: busyTicks / clockTicks(), at: Date.now() };
}

/** Seconds of CPU per component between two readings, largest first, with the machine's total and the rest. */
export function cpuBetween(
  before: CpuReading,
  after: CpuReading,
): { rows: [string, number][]; machine: number; accounted: number; wallS: number } {
  const rows: [string, number][] = [];
  for (const [name, seconds] of after.components) {
    rows.push([name, Math.max(0, seconds - (before.components.get(name) ?? 0))]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  const accounted = rows.reduce((sum, [, seconds]) => sum + seconds, 0);
  return { rows, machine: after.machine - before.machine, accounted, wallS: (after.at - before.at) / 1000 };
}
