import { StepError, permanent, retryable } from '@app/platform';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, sep } from 'node:path';
import type { Logger } from 'pino';
import { simpleGit, type SimpleGit } from 'simple-git';
import { Mutex, withFileLock } from './file-lock';

/** Where a service commits the manifests Argo CD watches (the `GITOPS_*` variables, see `gitOpsEnv`). */
export interface GitOpsConfig {
  /** Local working copy (created or cloned on first use). Absolute path. */
  workdir: string;
  /** Remote to clone from and push to (URL or path); none = commit locally only. */
  remote?: string;
  branch: string;
  authorName: string;
  authorEmail: string;
  /** Attempts when a push loses a race with another writer. */
  pushAttempts: number;
  lockTimeoutMs: number;
  /**
   * A git command that shows no progress for this long is killed (default 20 s): a remote that accepts and
   * never answers must not hold the working-copy lock, and every writer queued behind it, forever.
   */
  commandTimeoutMs?: number;
}

export const DEFAULT_GIT_COMMAND_TIMEOUT_MS = 20_000;

/** What a commit is about: `<reason> tenant <tenantId>`, with trailers an auditor follows back to the command. */
export interface CommitRequest {
  /** The command performing the change. */
  reason: string;
  tenantId: string;
  correlationId: string;
}

export interface CommitOutcome<T> {
  /** Whether a commit was made (false when the change left the tree as it was). */
  changed: boolean;
  /** The commit the branch points at after the change. */
  revision?: string;
  /** What the last run of the change returned. */
  result: T;
}

/** A change waiting for its group's commit. */
interface Waiter<T> {
  request: CommitRequest;
  mutate: () => Promise<T>;
  /** When the change was queued (ms, `performance.now()`), for the group's timings. */
  queuedAt: number;
  resolve: (outcome: CommitOutcome<T>) => void;
  reject: (error: unknown) => void;
  /** How the group ended for this change, applied once the lock is released. */
  settled?: { outcome: CommitOutcome<T> } | { error: unknown };
}

/** A read of what is committed under `dir`, waiting for its batch. */
interface Read {
  dir: string;
  resolve: (paths: Set<string>) => void;
  reject: (error: unknown) => void;
}

/** A branch tip: empty for a branch with no commit yet. */
interface Tip {
  commit?: string;
  tree?: string;
}

const MAINTENANCE_EVERY_GROUPS = 20;
const CLEAN_MARK = 'gitops-clean';
const OBJECT_ID = /^[0-9a-f]{40,64}$/;

const SAFE_BRANCH = /^[A-Za-z0-9._/-]+$/;
const SAFE_CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A working copy of the manifests repository, shared discipline of every GitOps writer: each commit starts
 * from the remote's tip, re-runs its change there and commits only when content differs, so a re-run makes
 * no commit. A push that loses a race is redone on the new tip (no rebase conflicts: the change is re-run,
 * not replayed). Work is serialised in-process (mutex) and across processes sharing the copy (lock file).
 * A copy left broken by a killed process repairs itself: git's lock files are removed under our lock, and a
 * copy that still cannot be synced is cloned again (it is only a cache of the remote).
 * Error codes are `<errorDomain>.BAD_CONFIG`, `.BAD_CORRELATION_ID`, `.GITOPS_PUSH_FAILED` and the
 * retryable `.GITOPS_FETCH_FAILED` (remote unreachable) and `.GITOPS_SYNC_FAILED` (copy not repairable).
 */
export class GitWorkingCopy {
  private readonly mutex = new Mutex();
  private readonly queue: Waiter<unknown>[] = [];
  private readonly reads: Read[] = [];
  private initialised = false;
  private groups = 0;

  constructor(
    readonly config: GitOpsConfig,
    private readonly errorDomain: string,
    private readonly logger: Logger,
  ) {
    if (!isAbsolute(config.workdir)) {
      throw permanent(`${errorDomain}.BAD_CONFIG`, 'GITOPS_WORKDIR must be an absolute path');
    }
    if (!SAFE_BRANCH.test(config.branch) || config.branch.includes('..')) {
      throw permanent(`${errorDomain}.BAD_CONFIG`, 'GITOPS_BRANCH is not a safe branch name');
    }
  }

  get workdir(): string {
    return this.config.workdir;
  }

  async health(): Promise<boolean> {
    try {
      await this.ensureRepo();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The files committed under `dir` (a path relative to the repository, no trailing slash), relative to it:
   * on the remote's tip, fetched first, since another replica may have pushed since this copy last synced;
   * on HEAD without a remote. Never the working tree, which may hold what a failed run left uncommitted.
   */
  async committedFiles(dir: string): Promise<Set<string>> {
    return new Promise<Set<string>>((resolve, reject) => {
      this.reads.push({ dir, resolve, reject });
      void this.mutex.run(() => this.drainReads());
    });
  }

  /** Every read queued meanwhile is answered by one fetch and one listing. */
  private async drainReads(): Promise<void> {
    if (this.reads.length === 0) return;
    let batch: Read[] = [];
    let paths: string[];
    const timings = new GroupTimings();
    try {
      // Under the same locks as a commit: the fetch writes refs, which another process sharing this working
      // copy must not see half-written (nor take for a killed process's leftovers).
      paths = await withFileLock(this.lockPath(), this.config.lockTimeoutMs, async () => {
        batch = this.reads.splice(0);
        timings.locked([]);
        try {
          await this.ensureRepo();
          await this.removeGitLocks();
          const repo = this.repo();
          const { remote, branch } = this.config;
          if (remote) await timings.time('fetchMs', () => this.fetch(repo, remote));
          const tip = await this.tipOf(
            repo,
            remote ? `refs/remotes/origin/${branch}` : `refs/heads/${branch}`,
          );
          if (!tip.commit) return [];
          const dirs = [...new Set(batch.map((read) => `${read.dir}/`))];
          const listing = await timings.time('lsTreeMs', () =>
            repo.raw(['ls-tree', '-r', '-z', '--name-only', tip.commit as string, '--', ...dirs]),
          );
          return listing.split('\0');
        } catch (error) {
          throw toSyncError(error, this.errorDomain);
        }
      });
    } catch (error) {
      for (const read of [...batch, ...this.reads.splice(0)]) read.reject(error);
      return;
    }
    this.logger.debug({ gitopsReads: { ...timings.done([]), size: batch.length } }, 'gitops reads');
    for (const read of batch) {
      const prefix = `${read.dir}/`;
      read.resolve(
        new Set(paths.filter((path) => path.startsWith(prefix)).map((path) => path.slice(prefix.length))),
      );
    }
  }

  /** The cross-process lock file, beside the working copy (never inside it, where git would see it). */
  private lockPath(): string {
    const { workdir } = this.config;
    return join(dirname(workdir), `.${workdir.split(sep).pop()}.lock`);
  }

  /**
   * Runs `mutate` on the remote tip and commits (and pushes) whatever it changed. Changes that arrive while
   * another group holds the working copy are queued and run together by the next holder: one sync, every
   * queued change in arrival order, one commit (its message carries each change's trailers), one push. Each
   * waiter gets that commit's id; a change that left the tree as it was gets `changed: false`.
   * A change that throws fails alone: the files it touched are restored from the index, which holds what the
   * changes before it in the group staged, so a half-written change never reaches the commit of the others.
   * A sync or push that fails for good fails every waiter of the group with the same error.
   */
  async commit<T>(request: CommitRequest, mutate: () => Promise<T>): Promise<CommitOutcome<T>> {
    if (!SAFE_CORRELATION_ID.test(request.correlationId)) {
      throw permanent(`${this.errorDomain}.BAD_CORRELATION_ID`, 'correlation id has unexpected characters');
    }
    return new Promise<CommitOutcome<T>>((resolve, reject) => {
      this.queue.push({ request, mutate, resolve, reject, queuedAt: performance.now() } as Waiter<unknown>);
      // Every call schedules a drain; the first to run takes the whole queue and the rest find it empty.
      void this.mutex.run(() => this.drain());
    });
  }

  private async drain(): Promise<void> {
    if (this.queue.length === 0) return;
    let group: Waiter<unknown>[] = [];
    let unserved: Waiter<unknown>[] = [];
    const timings = new GroupTimings();
    try {
      await withFileLock(this.lockPath(), this.config.lockTimeoutMs, async () => {
        // Taken once the lock is ours: changes that arrived while another process held it join this group.
        group = this.queue.splice(0);
        timings.locked(group);
        await this.runGroup(group, timings);
        await timings.time('maintainMs', () => this.maintain());
      });
    } catch (error) {
      // The lock was never ours (or released with an error): nobody of the group may be left waiting.
      unserved = this.queue.splice(0);
      for (const waiter of [...group, ...unserved]) waiter.settled ??= { error };
    }
    this.logger.debug({ gitopsGroup: timings.done(group) }, 'gitops group');
    // Settled once the lock is released: a caller that retries at once must find it free.
    for (const { resolve, reject, settled } of [...group, ...unserved]) {
      if (!settled) reject(new Error('the group of changes ended without an outcome for this change'));
      else if ('error' in settled) reject(settled.error);
      else resolve(settled.outcome);
    }
  }

  private async runGroup(group: Waiter<unknown>[], timings: GroupTimings): Promise<void> {
    const { remote, branch, pushAttempts } = this.config;
    const failAll = (error: unknown) => {
      for (const waiter of live) waiter.settled ??= { error };
      live = [];
    };
    let live = group;
    try {
      await this.ensureRepo();
    } catch (error) {
      return failAll(toSyncError(error, this.errorDomain));
    }
    await this.removeGitLocks();
    const repo = this.repo();
    // The commit the last group left the copy clean at, when known (see `takeCleanMark`): the sync then
    // fetches but has nothing to reset or clean when the remote tip is still that commit.
    const clean = await this.takeCleanMark();
    for (let attempt = 1; ; attempt++) {
      timings.attempts = attempt;
      let base: Tip;
      try {
        base = await timings.time('syncMs', () =>
          this.syncToRemote(timings, attempt === 1 ? clean : undefined),
        );
      } catch (error) {
        return failAll(error);
      }
      const outcomes = new Map<Waiter<unknown>, { changed: boolean; result: unknown }>();
      try {
        for (const waiter of live) {
          let result: unknown;
          try {
            result = await timings.time('mutateMs', () => waiter.mutate());
          } catch (error) {
            waiter.settled = { error };
            await this.restoreFromIndex(repo);
            continue;
          }
          outcomes.set(waiter, { result, changed: await timings.time('stageMs', () => this.stage(repo)) });
        }
        live = live.filter((waiter) => outcomes.has(waiter));
        if (live.length === 0) return;
        const changes = live.filter((waiter) => outcomes.get(waiter)?.changed);
        // Changes that undo each other leave the tree as it was: no commit then either.
        const tree =
          changes.length > 0
            ? (await timings.time('commitMs', () => repo.raw(['write-tree']))).trim()
            : base.tree;
        if (tree === base.tree || !tree) {
          if (base.commit && base.tree) await this.markClean({ commit: base.commit, tree: base.tree });
          for (const waiter of live) {
            const outcome = { changed: false, revision: base.commit, result: outcomes.get(waiter)?.result };
            waiter.settled = { outcome };
          }
          return;
        }
        const revision = (
          await timings.time('commitMs', () =>
            repo.raw([
              'commit-tree',
              tree,
              ...(base.commit ? ['-p', base.commit] : []),
              '-m',
              commitMessage(changes.map((waiter) => waiter.request)),
            ]),
          )
        ).trim();
        // The branch moves too (a rejected push is undone by the next sync), so the copy reads as committed.
        await timings.time('commitMs', () => repo.raw(['update-ref', 'HEAD', revision]));
        if (remote) {
          try {
            await timings.time('pushMs', () =>
              repo.raw(['push', '--quiet', 'origin', `${revision}:refs/heads/${branch}`]),
            );
          } catch (error) {
            timings.refused += 1;
            if (attempt >= pushAttempts) {
              return failAll(
                retryable(
                  `${this.errorDomain}.GITOPS_PUSH_FAILED`,
                  `push failed after ${attempt} attempts: ${firstLine(error)}`,
                  error,
                ),
              );
            }
            this.logger.warn(
              { tenantIds: live.map((waiter) => waiter.request.tenantId), attempt },
              'push rejected, redoing the group of changes on the new tip',
            );
            continue;
          }
        }
        await this.markClean({ commit: revision, tree });
        for (const waiter of live) {
          const outcome = outcomes.get(waiter);
          waiter.settled = {
            outcome: { changed: outcome?.changed ?? false, revision, result: outcome?.result },
          };
        }
        return;
      } catch (error) {
        return failAll(toSyncError(error, this.errorDomain));
      }
    }
  }

  /**
   * Git's housekeeping (packing loose objects) every few groups, under the lock, rather than a process
   * spawned by every fetch; `--auto` does nothing until there is enough to pack. A failure only delays it.
   */
  private async maintain(): Promise<void> {
    if (++this.groups % MAINTENANCE_EVERY_GROUPS !== 0 || !this.initialised) return;
    await this.repo()
      .raw(['-c', 'maintenance.auto=true', 'maintenance', 'run', '--auto', '--quiet'])
      .catch((error: unknown) => this.logger.warn({ error: firstLine(error) }, 'git maintenance failed'));
  }

  /** Where a group that ended well records the commit the copy is clean at (inside `.git`: git ignores it). */
  private cleanMarkPath(): string {
    return join(this.config.workdir, '.git', CLEAN_MARK);
  }

  /**
   * Records that HEAD, the index and the working tree are exactly `tip` and that `tip` was the remote's tip
   * when this group pushed it (or synced to it). Written last, under the lock: a process killed before leaves
   * no mark, and the next group syncs in full.
   */
  private async markClean(tip: Required<Tip>): Promise<void> {
    try {
      await writeFile(this.cleanMarkPath(), `${tip.commit} ${tip.tree} ${await this.indexStamp()}\n`);
    } catch (error) {
      this.logger.warn({ error: firstLine(error) }, 'cannot record the working copy as clean');
    }
  }

  /**
   * The tip the last group left the copy clean at, when it is still so: the mark is removed here, before any
   * change runs, so a group that fails half-way (or a process killed in it) leaves none, whichever process
   * shares the copy; and HEAD must still name that commit (read from the loose ref, without spawning git; a
   * packed or detached HEAD counts as unknown). Undefined: sync in full.
   */
  private async takeCleanMark(): Promise<Required<Tip> | undefined> {
    const path = this.cleanMarkPath();
    const mark = await readFile(path, 'utf8').catch(() => '');
    if (!mark) return undefined;
    await rm(path, { force: true });
    const [commit, tree, ...stamp] = mark.trim().split(' ');
    if (!OBJECT_ID.test(commit ?? '') || !OBJECT_ID.test(tree ?? '')) return undefined;
    // An index written since (or truncated) is not the one the mark vouches for.
    if (stamp.join(' ') !== (await this.indexStamp().catch(() => ''))) return undefined;
    const head = (await readFile(join(this.config.workdir, '.git', 'HEAD'), 'utf8').catch(() => '')).trim();
    const ref = /^ref: (refs\/heads\/[A-Za-z0-9._/-]+)$/.exec(head)?.[1];
    if (!ref || ref.includes('..')) return undefined;
    return (await this.looseRef(ref)) === commit ? { commit, tree } : undefined;
  }

  /** The index file's size and modification time: any write to it changes them. */
  private async indexStamp(): Promise<string> {
    const info = await stat(join(this.config.workdir, '.git', 'index'), { bigint: true });
    return `${info.size} ${info.mtimeNs}`;
  }

  /** A ref's commit read from its loose file, without spawning git; empty when it is packed or absent. */
  private async looseRef(ref: string): Promise<string> {
    return (await readFile(join(this.config.workdir, '.git', ref), 'utf8').catch(() => '')).trim();
  }

  /** Stages everything the last change did; whether it changed anything (`add -v` names what it staged). */
  private async stage(repo: SimpleGit): Promise<boolean> {
    return (await repo.raw(['add', '-A', '-v', '--', '.'])).trim().length > 0;
  }

  /**
   * Undoes a change that threw: tracked files back as staged (the group's earlier changes), and what it
   * created removed. Cheaper and safer than tracking which paths the change wrote.
   */
  private async restoreFromIndex(repo: SimpleGit): Promise<void> {
    await repo.raw(['checkout-index', '-a', '-f']);
    await repo.raw(['clean', '-fdq']);
  }

  // -------------------------------------------------------------------------------------------------------

  private repo(): SimpleGit {
    return simpleGit({
      baseDir: this.config.workdir,
      config: [
        `user.name=${this.config.authorName}`,
        `user.email=${this.config.authorEmail}`,
        // Every fetch would otherwise spawn `git maintenance run --auto`; `maintain` runs it every few groups.
        'maintenance.auto=false',
        // `add -A` and `clean` walk the whole tree, which grows with the fleet: unchanged directories are skipped.
        'core.untrackedCache=true',
      ],
      timeout: this.timeout(),
    });
  }

  /** simple-git's inactivity timeout: reset by any output, so a slow but progressing clone is not killed. */
  private timeout(): { block: number } {
    return { block: this.config.commandTimeoutMs ?? DEFAULT_GIT_COMMAND_TIMEOUT_MS };
  }

  private async ensureRepo(): Promise<void> {
    if (this.initialised) return;
    const { workdir, remote, branch } = this.config;
    if (!existsSync(join(workdir, '.git'))) {
      await mkdir(dirname(workdir), { recursive: true });
      if (remote) {
        // Created here, not in the constructor: simple-git refuses a base directory that does not exist yet.
        // Quiet: errors keep git's first stderr line, which must be the cause, not "Cloning into '...'...".
        await simpleGit({ baseDir: dirname(workdir), timeout: this.timeout() }).clone(remote, workdir, [
          '--no-checkout',
          '--quiet',
        ]);
        const repo = this.repo();
        const remoteBranches = await repo.branch(['-r']);
        if (remoteBranches.all.includes(`origin/${branch}`))
          await repo.checkout(['-B', branch, `origin/${branch}`]);
        else await repo.checkout(['--orphan', branch]);
      } else {
        await mkdir(workdir, { recursive: true });
        await this.repo().init(['--initial-branch', branch]);
      }
    }
    this.initialised = true;
  }

  /**
   * Git's lock files in the working copy. Holding our lock, no other git process can be running here, so
   * any is the leftover of a killed one, and would fail every later `reset`, `add` or `fetch`.
   */
  private async removeGitLocks(): Promise<void> {
    const gitDir = join(this.config.workdir, '.git');
    const topLevel = await readdir(gitDir).catch(() => [] as string[]);
    const refs = await readdir(join(gitDir, 'refs'), { recursive: true }).catch(() => [] as string[]);
    const locks = [
      ...topLevel.filter((name) => name.endsWith('.lock')).map((name) => join(gitDir, name)),
      ...refs.filter((name) => name.endsWith('.lock')).map((name) => join(gitDir, 'refs', name)),
    ];
    for (const lock of locks) {
      this.logger.warn({ lock }, 'removing a git lock file left by a killed process');
      await rm(lock, { force: true });
    }
  }

  /**
   * Makes the working copy exactly the remote tip (local-only: HEAD), dropping what a failed run left, and
   * returns that tip. A copy that cannot be synced (corrupt) is cloned again; an unreachable remote fails
   * retryably as it is.
   */
  private async syncToRemote(timings?: GroupTimings, clean?: Required<Tip>): Promise<Tip> {
    const { workdir, remote } = this.config;
    try {
      return await this.resetToRemote(this.repo(), timings, clean);
    } catch (error) {
      if (
        !remote ||
        (error instanceof StepError && error.code === `${this.errorDomain}.GITOPS_FETCH_FAILED`)
      ) {
        throw toSyncError(error, this.errorDomain);
      }
      this.logger.warn({ error: firstLine(error) }, 'working copy cannot be synced, cloning it again');
      await rm(workdir, { recursive: true, force: true });
      this.initialised = false;
      try {
        await this.ensureRepo();
        return await this.resetToRemote(this.repo());
      } catch (retryError) {
        throw toSyncError(retryError, this.errorDomain);
      }
    }
  }

  private async resetToRemote(repo: SimpleGit, timings?: GroupTimings, clean?: Required<Tip>): Promise<Tip> {
    const { remote, branch } = this.config;
    await this.assertRepository();
    let tip: Tip = {};
    if (remote) {
      await (timings ? timings.time('fetchMs', () => this.fetch(repo, remote)) : this.fetch(repo, remote));
      if (clean && (await this.looseRef(`refs/remotes/origin/${branch}`)) === clean.commit) return clean;
      tip = await this.tipOf(repo, `refs/remotes/origin/${branch}`);
      // A clean copy holds no untracked file: the reset alone makes it the new tip.
      if (clean && tip.commit) {
        await repo.raw(['reset', '-q', '--hard', tip.commit]);
        return tip;
      }
      if (tip.commit) await repo.raw(['reset', '-q', '--hard', tip.commit]);
      else {
        // Nothing pushed yet: what a rejected first push committed or staged must not make the redo look
        // unchanged.
        if (await this.head(repo)) await repo.raw(['update-ref', '-d', 'HEAD']);
        await repo.raw(['read-tree', '--empty']);
      }
    } else {
      tip = await this.tipOf(repo, `refs/heads/${branch}`);
      if (tip.commit) await repo.raw(['reset', '-q', '--hard', tip.commit]);
    }
    await repo.raw(['clean', '-fdq']);
    return tip;
  }

  /**
   * What git needs to take `.git` for a repository (HEAD naming a ref or a commit, objects/, refs/), checked
   * without spawning git: a copy missing one is no repository, and git would look for one in the parent
   * directories, then reset and clean that one.
   */
  private async assertRepository(): Promise<void> {
    const gitDir = join(this.config.workdir, '.git');
    const head = await readFile(join(gitDir, 'HEAD'), 'utf8').catch(() => '');
    const valid =
      /^(ref: refs\/\S+|[0-9a-f]{40,64})\s*$/.test(head) &&
      existsSync(join(gitDir, 'objects')) &&
      existsSync(join(gitDir, 'refs'));
    if (!valid) throw new Error(`${this.config.workdir} is not a git repository`);
  }

  /** A ref's commit and tree in one process; empty when the ref does not exist (an unborn branch). */
  private async tipOf(repo: SimpleGit, ref: string): Promise<Tip> {
    const line = (
      await repo.raw(['for-each-ref', '--count=1', '--format=%(objectname) %(tree)', ref])
    ).trim();
    if (line) {
      const [commit, tree] = line.split(' ');
      return { commit, tree };
    }
    return {};
  }

  /**
   * Fetches the remote, never carrying on from a stale tip: the commit would be rejected at every push.
   * All branches (`--prune`), not just ours: fetching a branch the remote does not have yet (before the
   * first push) fails. A failure with the remote reachable is the working copy's, left to the re-clone.
   */
  private async fetch(repo: SimpleGit, remote: string): Promise<void> {
    try {
      await repo.fetch(['--prune', 'origin']);
    } catch (error) {
      const reachable = await simpleGit({ baseDir: dirname(this.config.workdir), timeout: this.timeout() })
        .listRemote(['--heads', remote])
        .then(
          () => true,
          () => false,
        );
      if (reachable) throw error;
      throw retryable(
        `${this.errorDomain}.GITOPS_FETCH_FAILED`,
        `fetch from the remote failed: ${firstLine(error)}`,
        error,
      );
    }
  }

  private async head(repo: SimpleGit): Promise<string | undefined> {
    try {
      return (await repo.revparse(['HEAD'])).trim();
    } catch {
      return undefined;
    }
  }
}

/**
 * One change: `<reason> tenant <id>` and its trailers, as before grouping. Several: a subject counting them,
 * one line per change, and the trailers of every change in the same order, so `git log --grep` and
 * `%(trailers)` lead an auditor from any correlation id to the commit.
 */
export function commitMessage(requests: CommitRequest[]): string {
  const trailers = requests
    .map((request) => `Correlation-Id: ${request.correlationId}\nTenant: ${request.tenantId}\n`)
    .join('');
  const [first] = requests;
  if (requests.length === 1) return `${first.reason} tenant ${first.tenantId}\n\n${trailers}`;
  const lines = requests.map(
    (request) => `- ${request.reason} tenant ${request.tenantId} (${request.correlationId})\n`,
  );
  return `${requests.length} changes: ${first.reason} tenant ${first.tenantId} and others\n\n${lines.join('')}\n${trailers}`;
}

/**
 * Where a group's time went, logged at debug level per group (`gitopsGroup`): the oldest change's wait for the
 * locks, each phase summed over the attempts, the attempts and the pushes the remote refused.
 */
class GroupTimings {
  private readonly started = performance.now();
  private lockedAt = this.started;
  private readonly phases: Record<string, number> = {};
  attempts = 0;
  refused = 0;

  locked(group: readonly Waiter<unknown>[]): void {
    this.lockedAt = performance.now();
    this.phases.lockMs = this.lockedAt - this.started;
    this.phases.queuedMs = this.lockedAt - Math.min(this.lockedAt, ...group.map((waiter) => waiter.queuedAt));
  }

  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.phases[phase] = (this.phases[phase] ?? 0) + performance.now() - started;
    }
  }

  done(group: readonly Waiter<unknown>[]): Record<string, number> {
    const rounded = Object.fromEntries(
      Object.entries(this.phases).map(([phase, ms]) => [phase, Math.round(ms)]),
    );
    return {
      size: group.length,
      attempts: this.attempts,
      refused: this.refused,
      ...rounded,
      heldMs: Math.round(performance.now() - this.lockedAt),
    };
  }
}

function toSyncError(error: unknown, errorDomain: string): StepError {
  if (error instanceof StepError) return error;
  return retryable(
    `${errorDomain}.GITOPS_SYNC_FAILED`,
    `working copy cannot be synced: ${firstLine(error)}`,
    error,
  );
}

/**
 * The first line of a git error, for events and logs. A remote given as `https://user:token@host/...` may be
 * echoed by git: credentials in URLs are masked whatever git does.
 */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error))
    .split('\n')[0]
    .replace(/(\/\/)[^/@\s]+@/g, '$1***@')
    .slice(0, 200);
}
