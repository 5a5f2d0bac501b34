/**
 * GitOps working-copy benchmark (not a test): the same changes committed and pushed by `GitWorkingCopy`
 * (git processes, commits built in-process from the changes' declared paths) and, as the reference, in-process
 * with isomorphic-git (its `add`, `commit`, `push`, grouped as the working copy groups them).
 *
 *   npm run build && npm run bench:git
 *
 * Env: BENCH_TENANTS (default 300), BENCH_CHANGES (changes per tenant, one after the other like the
 * namespace, workloads and ingress steps, default 3), BENCH_CONCURRENCY (tenants in flight, default 50).
 * Each run has its own bare repository in a temporary directory. Lines:
 *   RESULT git_working_copy changes= groups= commits= processes= total_s= changes_per_s= p50_ms= p99_ms=
 *     last100_vs_first100_pct= held_growth_pct= refused=
 *   RESULT git_inprocess (the same keys): isomorphic-git, one writer;
 *   RESULT git_working_copy_two_writers (the same, and rebased= redone= monitoring_*=): a second working copy,
 *     as the monitoring-service's, pushes each tenant's monitoring/ while its later steps run.
 * groups: lock holds that committed; processes: git processes the client spawned (isomorphic-git: none; the
 * remote's upload-pack and receive-pack are not counted); p50_ms, p99_ms: a change, queued to pushed;
 * last100_vs_first100_pct: p50 of the last 100 tenants' changes against the first 100's (positive = slower);
 * held_growth_pct: mean time a group held the lock, last third of the groups against the first third (what a
 * group costs as the repository grows, queueing aside). isomorphic-git fetches and pushes over HTTP only (no
 * file or ssh transport): its remote is served by `git http-backend` behind an HTTP server in this process.
 */
import { type ChildProcess, spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import git from 'isomorphic-git';
import gitHttp from 'isomorphic-git/http/node';
import pino from 'pino';
import { GitWorkingCopy, Mutex } from '@app/kube';
import { percentile } from './stack-bench';

const TENANTS = Number(process.env['BENCH_TENANTS'] ?? '300');
const CHANGES = Number(process.env['BENCH_CHANGES'] ?? '3');
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? '50');
const AUTHOR = { name: 'provisioning-bench', email: 'bench@collectverything.com' };

interface FileWrite {
  path: string;
  content: string;
}

/** A tenant's step `step`: a few manifests of realistic size under `tenants/<id>/`, and its kustomization. */
function stepFiles(tenantId: string, step: number): FileWrite[] {
  const root = `tenants/${tenantId}`;
  const manifest = (name: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: e-commerce-${tenantId}\n` +
    `  labels: { tenant: ${tenantId}, step: "${step}" }\ndata:\n${'  key: value-of-some-length-for-a-realistic-file\n'.repeat(12)}`;
  const names = [
    ['namespace', 'resource-quota', 'limit-range', 'network-policy'],
    ['storefront', 'admin', 'api', 'worker', 'search', 'media', 'checkout', 'mailer'].map(
      (s) => `services/${s}`,
    ),
    ['ingress', 'certificate'],
  ][step % 3];
  const files = names.map((name) => ({ path: `${root}/${name}.yaml`, content: manifest(name) }));
  const listed = Array.from({ length: step + 1 }, (_, s) => `step-${s}`).join(', ');
  files.push({ path: `${root}/kustomization.yaml`, content: `resources: [${listed}]\n` });
  if (step === 0) files.push({ path: `${root}/config.json`, content: `{"tenant":"${tenantId}"}\n` });
  return files;
}

async function writeFiles(workdir: string, files: readonly FileWrite[]): Promise<void> {
  for (const file of files) {
    await mkdir(dirname(join(workdir, file.path)), { recursive: true });
    await writeFile(join(workdir, file.path), file.content);
  }
}

type Committer = { commit(tenantId: string, step: number, files: FileWrite[]): Promise<void> };

interface Run {
  latencies: { tenant: number; ms: number }[];
  totalS: number;
}

/**
 * Every tenant's changes, one after the other per tenant, CONCURRENCY tenants at a time; `aside`, when given,
 * is started once the tenant's first change is in (the monitoring step after the namespace) and awaited at
 * the tenant's end, its latency not counted.
 */
async function drive(
  committer: Committer,
  label: string,
  aside?: (tenantId: string) => Promise<void>,
): Promise<Run> {
  const latencies: Run['latencies'] = [];
  const started = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < TENANTS) {
      const tenant = next++;
      const tenantId = `bench-${String(tenant).padStart(5, '0')}`;
      let side: Promise<void> | undefined;
      for (let step = 0; step < CHANGES; step++) {
        const queued = performance.now();
        await committer.commit(tenantId, step, stepFiles(tenantId, step));
        latencies.push({ tenant, ms: performance.now() - queued });
        if (step === 0 && aside) side = aside(tenantId);
      }
      await side;
      if (++done % 50 === 0) process.stderr.write(`${label}: ${done}/${TENANTS} tenants\n`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { latencies, totalS: (performance.now() - started) / 1000 };
}

function result(
  name: string,
  run: Run,
  extra: { groups: number[]; processes: number; refused: number; commits: number },
) {
  const all = run.latencies.map((entry) => entry.ms).sort((a, b) => a - b);
  const p50Of = (from: number, to: number) =>
    percentile(
      run.latencies
        .filter((entry) => entry.tenant >= from && entry.tenant < to)
        .map((entry) => entry.ms)
        .sort((a, b) => a - b),
      50,
    );
  const window = Math.min(100, Math.floor(TENANTS / 2));
  const growth = (p50Of(TENANTS - window, TENANTS) / p50Of(0, window) - 1) * 100;
  const third = Math.max(1, Math.floor(extra.groups.length / 3));
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / (values.length || 1);
  const heldGrowth = (mean(extra.groups.slice(-third)) / mean(extra.groups.slice(0, third)) - 1) * 100;
  return (
    `RESULT ${name} changes=${all.length} groups=${extra.groups.length} commits=${extra.commits} ` +
    `processes=${extra.processes} total_s=${run.totalS.toFixed(1)} changes_per_s=${(all.length / run.totalS).toFixed(1)} ` +
    `p50_ms=${percentile(all, 50).toFixed(0)} p99_ms=${percentile(all, 99).toFixed(0)} ` +
    `last100_vs_first100_pct=${growth.toFixed(0)} held_growth_pct=${heldGrowth.toFixed(0)} refused=${extra.refused}`
  );
}

function bareRepo(path: string): void {
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch', 'main', path]);
  execFileSync('git', ['config', 'http.receivepack', 'true'], { cwd: path });
}

function commitsOn(bare: string): number {
  return Number(execFileSync('git', ['rev-list', '--count', 'main'], { cwd: bare, encoding: 'utf8' }).trim());
}

/** A working copy on `bare` whose per-group timings (`gitopsGroup`) land in `groups`. */
function workingCopy(
  base: string,
  name: string,
  bare: string,
  groups: Record<string, number>[],
): GitWorkingCopy {
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { gitopsGroup?: Record<string, number> };
        if (entry.gitopsGroup) groups.push(entry.gitopsGroup);
      },
    },
  );
  const config = {
    workdir: join(base, name),
    remote: bare,
    branch: 'main',
    authorName: AUTHOR.name,
    authorEmail: AUTHOR.email,
    pushAttempts: 10,
    lockTimeoutMs: 600_000,
  };
  return new GitWorkingCopy(config, 'BENCH', logger);
}

const sum = (groups: Record<string, number>[], key: string) =>
  groups.reduce((total, group) => total + (group[key] ?? 0), 0);

/**
 * The working copy alone on its remote; with `monitoring`, a second writer (another working copy, as the
 * monitoring-service's) pushes each tenant's `monitoring/` and root kustomization while the tenant's later
 * steps run, so pushes race: `refused`, `rebased` and `redone` of the k8s-like writer's groups.
 */
async function benchWorkingCopy(base: string, name: string, monitoring: boolean): Promise<string> {
  const bare = join(base, `${name}.git`);
  bareRepo(bare);
  const groups: Record<string, number>[] = [];
  const working = workingCopy(base, `${name}-k8s`, bare, groups);
  const other: Record<string, number>[] = [];
  const monitor = workingCopy(base, `${name}-monitoring`, bare, other);
  const run = await drive(
    {
      commit: async (tenantId, step, files) => {
        const request = { reason: `Step${step}`, tenantId, correlationId: `bench-${tenantId}-${step}` };
        await working.commit({ ...request, paths: [`tenants/${tenantId}`] }, async () => {
          // The root kustomization keeps `monitoring/` listed once it exists, as the k8s-service's does.
          const listed = fs.existsSync(join(working.workdir, `tenants/${tenantId}/monitoring`));
          await writeFiles(
            working.workdir,
            files.map((file) =>
              listed && file.path.endsWith('/kustomization.yaml')
                ? { ...file, content: file.content.replace(']', ', monitoring]') }
                : file,
            ),
          );
        });
      },
    },
    name,
    monitoring
      ? async (tenantId) => {
          const root = `tenants/${tenantId}`;
          const request = { reason: 'ProvisionMonitoring', tenantId, correlationId: `bench-${tenantId}-m` };
          const paths = [`${root}/monitoring`, `${root}/kustomization.yaml`];
          await monitor.commit({ ...request, paths }, async () => {
            await writeFiles(monitor.workdir, [
              {
                path: `${root}/monitoring/service-monitor.yaml`,
                content: `kind: ServiceMonitor # ${tenantId}\n`,
              },
              { path: `${root}/monitoring/rules.yaml`, content: `kind: PrometheusRule # ${tenantId}\n` },
            ]);
            const kustomization = join(monitor.workdir, root, 'kustomization.yaml');
            const content = fs.readFileSync(kustomization, 'utf8');
            if (!content.includes('monitoring'))
              fs.writeFileSync(kustomization, content.replace(']', ', monitoring]'));
          });
        }
      : undefined,
  );
  const committing = groups.filter((group) => group.size > 0);
  const line = result(name, run, {
    groups: committing.map((group) => group.heldMs ?? 0),
    processes: sum(groups, 'processes'),
    refused: sum(groups, 'refused'),
    commits: commitsOn(bare),
  });
  if (!monitoring) return line;
  return (
    `${line} rebased=${sum(groups, 'rebased')} redone=${sum(groups, 'redone')} ` +
    `monitoring_groups=${other.length} monitoring_refused=${sum(other, 'refused')} ` +
    `monitoring_rebased=${sum(other, 'rebased')} monitoring_redone=${sum(other, 'redone')}`
  );
}

/** `git http-backend` (CGI) behind a node HTTP server: the remote isomorphic-git can push to. */
async function serveOverHttp(
  root: string,
): Promise<{ url: string; spawned: () => number; close: () => Promise<void> }> {
  let spawned = 0;
  const children = new Set<ChildProcess>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    spawned++;
    const child = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: request.method ?? 'GET',
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        ...(request.headers['content-length'] ? { CONTENT_LENGTH: request.headers['content-length'] } : {}),
        ...(request.headers['content-encoding']
          ? { HTTP_CONTENT_ENCODING: request.headers['content-encoding'] }
          : {}),
        REMOTE_USER: 'bench',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    children.add(child);
    child.on('close', () => children.delete(child));
    request.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersSent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) return void response.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      for (const line of head.subarray(0, end).toString('utf8').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') response.statusCode = Number(value.split(' ')[0]);
        else response.setHeader(name, value);
      }
      headersSent = true;
      response.write(head.subarray(end + 4));
    });
    child.stdout.on('end', () => response.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    spawned: () => spawned,
    close: () =>
      new Promise<void>((resolve) => {
        for (const child of children) child.kill();
        server.close(() => resolve());
      }),
  };
}

async function benchInProcess(base: string): Promise<string> {
  const root = join(base, 'served');
  const bare = join(root, 'manifests.git');
  await mkdir(root, { recursive: true });
  bareRepo(bare);
  const remote = await serveOverHttp(root);
  const url = `${remote.url}/manifests.git`;
  const dir = join(base, 'iso');
  const cache = {};
  await git.init({ fs, dir, defaultBranch: 'main' });
  await git.addRemote({ fs, dir, remote: 'origin', url });
  const mutex = new Mutex();
  const queue: { tenantId: string; step: number; files: FileWrite[]; done: (error?: unknown) => void }[] = [];
  const held: number[] = [];
  let tip: string | undefined;
  // One group per hold of the mutex, as the working copy does: fetch, every queued change, one commit, one push.
  const drain = async () => {
    const group = queue.splice(0);
    if (group.length === 0) return;
    const started = performance.now();
    try {
      const refs = await git.listServerRefs({ http: gitHttp, url, prefix: 'refs/heads/main' });
      const remoteTip = refs[0]?.oid;
      if (remoteTip !== tip) {
        await git.fetch({ fs, http: gitHttp, dir, url, ref: 'main', singleBranch: true, tags: false, cache });
        throw new Error('another writer pushed: not part of this benchmark');
      }
      const paths = new Set<string>();
      for (const change of group) {
        await writeFiles(dir, change.files);
        paths.add(`tenants/${change.tenantId}`);
      }
      await git.add({ fs, dir, filepath: [...paths], cache });
      const matrix = await git.statusMatrix({ fs, dir, filepaths: [...paths], cache });
      if (matrix.some(([, head, , stage]) => head !== stage)) {
        const message = `${group.length} changes\n\n${group.map((c) => `Tenant: ${c.tenantId}\n`).join('')}`;
        tip = await git.commit({ fs, dir, message, author: AUTHOR, cache });
        await git.push({ fs, http: gitHttp, dir, url, ref: 'main', remoteRef: 'main', cache });
      }
      held.push(performance.now() - started);
      for (const change of group) change.done();
    } catch (error) {
      for (const change of group) change.done(error);
    }
  };
  const run = await drive(
    {
      commit: (tenantId, step, files) =>
        new Promise<void>((resolve, reject) => {
          queue.push({
            tenantId,
            step,
            files,
            done: (error) => (error ? reject(error as Error) : resolve()),
          });
          void mutex.run(drain);
        }),
    },
    'git_inprocess',
  );
  const line = result('git_inprocess', run, {
    groups: held,
    processes: 0,
    refused: 0,
    commits: commitsOn(bare),
  });
  process.stderr.write(
    `git_inprocess: the HTTP remote spawned ${remote.spawned()} git http-backend processes\n`,
  );
  await remote.close();
  return line;
}

async function main(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'bench-git-'));
  try {
    process.stderr.write(`${TENANTS} tenants x ${CHANGES} changes, ${CONCURRENCY} tenants in flight\n`);
    const alone = await benchWorkingCopy(base, 'git_working_copy', false);
    console.log(alone);
    const inProcess = await benchInProcess(base);
    console.log(inProcess);
    const raced = await benchWorkingCopy(base, 'git_working_copy_two_writers', true);
    console.log(raced);
  } finally {
    await rm(base, { recursive: true, force: true, maxRetries: 5 }); // git may still be writing (auto maintenance)
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
