/**
 * Where the GitOps writers' time goes (BENCH_GIT_TIMINGS=1): the k8s-service and the monitoring-service run at
 * debug level, and their `gitopsGroup` / `gitopsReads` log lines (one per group of changes, one per batch of
 * committed-files reads, see libs/kube/src/git-working-copy.timings.ts) are summarised per service: count, mean
 * and p50/p99 of each phase and counter, and the same means over the first and the last third of the run, so
 * what grows with the fleet shows; then, per change, the git processes spawned and the pushes the remote
 * refused, and how those ended (rebased on the new tip, or redone there).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from './stack-bench';

export const GIT_TIMINGS = process.env.BENCH_GIT_TIMINGS === '1';

export const GIT_TIMING_APPS = ['k8s-service', 'monitoring-service'] as const;

type Entry = Record<string, number>;

function entries(logFile: string, key: 'gitopsGroup' | 'gitopsReads'): Entry[] {
  if (!existsSync(logFile)) return [];
  const found: Entry[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes(`"${key}"`)) continue;
    try {
      const value = (JSON.parse(line) as Record<string, unknown>)[key];
      if (value && typeof value === 'object') found.push(value as Entry);
    } catch {
      // a line cut by the process's exit
    }
  }
  return found;
}

function summarise(label: string, list: Entry[]): string[] {
  if (list.length === 0) return [`${label}: none`];
  const keys = [...new Set(list.flatMap((entry) => Object.keys(entry)))];
  const third = Math.max(1, Math.floor(list.length / 3));
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / (values.length || 1);
  const width = Math.max(...keys.map((key) => key.length));
  const lines = [
    `${label}: ${list.length}`,
    `  ${'phase'.padEnd(width)}  ${'mean'.padStart(8)}  ${'p50'.padStart(8)}  ${'p99'.padStart(8)}  ${'sum'.padStart(9)}  ${'first3_mean'.padStart(11)}  ${'last3_mean'.padStart(10)}`,
  ];
  for (const key of keys) {
    const values = list.map((entry) => entry[key] ?? 0);
    const sorted = [...values].sort((a, b) => a - b);
    const sum = values.reduce((total, value) => total + value, 0);
    lines.push(
      `  ${key.padEnd(width)}  ${mean(values).toFixed(1).padStart(8)}  ${percentile(sorted, 50).toFixed(0).padStart(8)}  ` +
        `${percentile(sorted, 99).toFixed(0).padStart(8)}  ${sum.toFixed(0).padStart(9)}  ` +
        `${mean(values.slice(0, third)).toFixed(1).padStart(11)}  ${mean(values.slice(-third)).toFixed(1).padStart(10)}`,
    );
  }
  return lines;
}

/** The groups' counters over the changes they committed. */
function perChange(groups: Entry[]): string {
  const total = (key: string) => groups.reduce((sum, group) => sum + (group[key] ?? 0), 0);
  const changes = Math.max(1, total('size'));
  return (
    `  per change: ${(total('processes') / changes).toFixed(2)} git processes; refused pushes ${total('refused')} ` +
    `(rebased ${total('rebased')}, redone ${total('redone')}) over ${total('size')} changes`
  );
}

/** The report over the apps' logs in `logDir`, one block per service and kind. */
export function gitTimingReport(logDir: string): string {
  const lines: string[] = ['git timings (ms; per group of changes / per batch of reads):'];
  for (const app of GIT_TIMING_APPS) {
    const file = join(logDir, `${app}.log`);
    const groups = entries(file, 'gitopsGroup');
    lines.push(...summarise(`${app} groups`, groups));
    if (groups.length > 0) lines.push(perChange(groups));
    lines.push(...summarise(`${app} reads`, entries(file, 'gitopsReads')));
  }
  return lines.join('\n');
}
