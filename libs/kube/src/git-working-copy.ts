import { permanent } from '@app/platform';
import { dirname, isAbsolute, join, sep } from 'node:path';
import type { Logger } from 'pino';
import { Mutex, withFileLock } from './file-lock';
import {
  type CommitOutcome,
  type CommitRequest,
  type GitOpsConfig,
  firstLine,
  toSyncError,
} from './git-working-copy.config';
import { GroupRunner, type Waiter } from './git-working-copy.group';
import { type ChangeScope, assertRepoPath } from './git-working-copy.scope';
import { WorkingTree } from './git-working-copy.sync';
import { GroupTimings } from './git-working-copy.timings';

export {
  DEFAULT_GIT_COMMAND_TIMEOUT_MS,
  commitMessage,
  firstLine,
  type CommitOutcome,
  type CommitRequest,
  type GitOpsConfig,
} from './git-working-copy.config';
export type { ChangeScope } from './git-working-copy.scope';

/** A read of what is committed under `dir`, waiting for its batch. */
interface Read {
  dir: string;
  queuedAt: number;
  resolve: (paths: Set<string>) => void;
  reject: (error: unknown) => void;
}

const MAINTENANCE_EVERY_GROUPS = 20;
const SAFE_BRANCH = /^[A-Za-z0-9._/-]+$/;
const SAFE_CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** What git accepts in an identity: no angle brackets, no line break. */
const SAFE_IDENTITY = /^[^<>\n\r\0]+$/;

/**
 * A working copy of the manifests repository, shared discipline of every GitOps writer: each commit starts
 * from the remote's tip, runs its change there and commits only when content differs, so a re-run makes no
 * commit. A push that loses a race is made again on the new tip: as it is when the other writer touched none of
 * the change's paths, by running the change again otherwise (no rebase conflicts either way). Work is
 * serialised in-process (mutex) and across processes sharing the copy (lock file). A copy left broken by a
 * killed process repairs itself: git's lock files are removed under our lock, and a copy that still cannot be
 * synced is cloned again (it is only a cache of the remote).
 * Commits are built in-process from the files each change's declared paths hold (`CommitRequest.paths`): a
 * group costs what it changed, not the size of the repository (see `WorkingTree`, `ObjectStore`).
 * Error codes are `<errorDomain>.BAD_CONFIG`, `.BAD_CORRELATION_ID`, `.BAD_PATH`, `.GITOPS_PUSH_FAILED` and
 * the retryable `.GITOPS_FETCH_FAILED` (remote unreachable) and `.GITOPS_SYNC_FAILED` (copy not repairable).
 */
export class GitWorkingCopy {
  private readonly mutex = new Mutex();
  private readonly queue: Waiter<unknown>[] = [];
  private readonly reads: Read[] = [];
  private readonly tree: WorkingTree;
  private readonly runner: GroupRunner;
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
    if (!SAFE_IDENTITY.test(config.authorName) || !SAFE_IDENTITY.test(config.authorEmail)) {
      throw permanent(
        `${errorDomain}.BAD_CONFIG`,
        'the GitOps author name or e-mail has characters git refuses',
      );
    }
    this.tree = new WorkingTree(config, errorDomain, logger);
    this.runner = new GroupRunner(this.tree, config, errorDomain, logger);
  }

  get workdir(): string {
    return this.config.workdir;
  }

  async health(): Promise<boolean> {
    try {
      await this.tree.ensureRepo();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The files committed under `dir` (a path relative to the repository, no trailing slash), relative to it:
   * on the remote's tip, fetched first, since another replica may have pushed since this copy last synced;
   * on the branch without a remote. Never the working tree, which may hold what a failed run left uncommitted.
   * Reads queued meanwhile share the next holder's fetch (a group's, when one runs) and its object reads.
   */
  async committedFiles(dir: string): Promise<Set<string>> {
    return new Promise<Set<string>>((resolve, reject) => {
      this.reads.push({ dir, resolve, reject, queuedAt: performance.now() });
      void this.mutex.run(() => this.drain());
    });
  }

  /**
   * Runs `mutate` on the remote tip and commits (and pushes) whatever it changed. Changes that arrive while
   * another group holds the working copy are queued and run together by the next holder: one sync, every
   * queued change in arrival order, one commit (its message carries each change's trailers), one push. Each
   * waiter gets that commit's id; a change that left the tree as it was gets `changed: false`.
   * A change reads and writes only under `request.paths` (it includes any other path through its scope
   * first): those are all that is looked at to find what it changed, and put back if it throws, so a
   * half-written change never reaches the commit of the others. A sync or push that fails for good fails every
   * waiter of the group with the same error.
   */
  async commit<T>(
    request: CommitRequest,
    mutate: (scope: ChangeScope) => Promise<T>,
  ): Promise<CommitOutcome<T>> {
    if (!SAFE_CORRELATION_ID.test(request.correlationId)) {
      throw permanent(`${this.errorDomain}.BAD_CORRELATION_ID`, 'correlation id has unexpected characters');
    }
    for (const path of request.paths ?? []) assertRepoPath(path, this.errorDomain);
    return new Promise<CommitOutcome<T>>((resolve, reject) => {
      this.queue.push({ request, mutate, resolve, reject, queuedAt: performance.now() } as Waiter<unknown>);
      // Every call schedules a drain; the first to run takes the whole queue and the rest find it empty.
      void this.mutex.run(() => this.drain());
    });
  }

  /** The cross-process lock file, beside the working copy (never inside it, where git would see it). */
  private lockPath(): string {
    const { workdir } = this.config;
    return join(dirname(workdir), `.${workdir.split(sep).pop()}.lock`);
  }

  private async drain(): Promise<void> {
    if (this.queue.length === 0 && this.reads.length === 0) return;
    let group: Waiter<unknown>[] = [];
    let batch: Read[] = [];
    let failure: { error: unknown } | undefined;
    const timings = new GroupTimings();
    const spawned = this.tree.git.spawned;
    try {
      await withFileLock(this.lockPath(), this.config.lockTimeoutMs, async () => {
        // Taken once the lock is ours: what arrived while another process held it joins this hold.
        group = this.queue.splice(0);
        batch = this.reads.splice(0);
        timings.locked([...group, ...batch].map((entry) => entry.queuedAt));
        try {
          if (group.length > 0) await this.runner.run(group, timings);
          if (batch.length > 0) await this.answerReads(batch, timings);
          await timings.time('maintainMs', () => this.maintain(group.length));
        } finally {
          this.tree.endHold();
        }
      });
    } catch (error) {
      // The lock was never ours (or released with an error): nobody may be left waiting.
      failure = { error };
      group.push(...this.queue.splice(0));
      batch.push(...this.reads.splice(0));
      for (const waiter of group) waiter.settled ??= failure;
    }
    timings.processes = this.tree.git.spawned - spawned;
    if (group.length > 0)
      this.logger.debug(
        { gitopsGroup: { ...timings.done(group.length), reads: batch.length } },
        'gitops group',
      );
    else this.logger.debug({ gitopsReads: timings.done(batch.length) }, 'gitops reads');
    // Settled once the lock is released: a caller that retries at once must find it free.
    for (const { resolve, reject, settled } of group) {
      if (!settled) reject(new Error('the group of changes ended without an outcome for this change'));
      else if ('error' in settled) reject(settled.error);
      else resolve(settled.outcome);
    }
    for (const read of batch) {
      if (failure) read.reject(failure.error);
    }
  }

  /** Every read of the hold answered from one fetched tip (the group's fetch or push, when it ran). */
  private async answerReads(batch: Read[], timings: GroupTimings): Promise<void> {
    let files: Map<string, string[]>;
    try {
      await this.tree.ensureRepo();
      await this.tree.removeGitLocks();
      if (!this.tree.fresh) await timings.time('fetchMs', () => this.tree.fetch());
      const tip = await this.tree.tip();
      files = new Map();
      for (const dir of new Set(batch.map((read) => read.dir))) {
        files.set(
          dir,
          tip.tree
            ? await timings.time('lsTreeMs', () => this.tree.store.listFiles(tip.tree as string, dir))
            : [],
        );
      }
    } catch (error) {
      const failure = toSyncError(error, this.errorDomain);
      for (const read of batch) read.reject(failure);
      return;
    }
    for (const read of batch) read.resolve(new Set(files.get(read.dir)));
  }

  /**
   * Git's housekeeping (packing loose objects) every few groups, under the lock, rather than a process
   * spawned by every fetch; `--auto` does nothing until there is enough to pack. A failure only delays it.
   */
  private async maintain(groupSize: number): Promise<void> {
    if (groupSize === 0 || ++this.groups % MAINTENANCE_EVERY_GROUPS !== 0) return;
    await this.tree.git
      .run(['-c', 'maintenance.auto=true', 'maintenance', 'run', '--auto', '--quiet'])
      .catch((error: unknown) => this.logger.warn({ error: firstLine(error) }, 'git maintenance failed'));
  }
}
