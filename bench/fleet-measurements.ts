/**
 * What bench/fleet.bench.ts measures around a run: the commits the GitOps remote received, the largest resident
 * memory of every app, and a progress line.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
