import { StepError, permanent, retryable } from '@app/platform';
import { existsSync } from 'node:fs';
import { mkdir, readdir, realpath, rm } from 'node:fs/promises';
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
  private initialised = false;

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
    // Under the same locks as a commit: the fetch writes refs, which another process sharing this working
    // copy must not see half-written (nor take for a killed process's leftovers).
    return this.mutex.run(() =>
      withFileLock(this.lockPath(), this.config.lockTimeoutMs, async () => {
        try {
          await this.ensureRepo();
          await this.removeGitLocks();
          const repo = this.repo();
          let ref: string | undefined;
          if (this.config.remote) {
            await this.fetch(repo, this.config.remote);
            const remoteBranches = await repo.branch(['-r']);
            if (remoteBranches.all.includes(`origin/${this.config.branch}`))
              ref = `origin/${this.config.branch}`;
          } else ref = await this.head(repo);
          if (!ref) return new Set<string>();
          const prefix = `${dir}/`;
          const listing = await repo.raw(['ls-tree', '-r', '-z', '--name-only', ref, '--', prefix]);
          return new Set(
            listing
              .split('\0')
              .filter((path) => path.startsWith(prefix))
              .map((path) => path.slice(prefix.length)),
          );
        } catch (error) {
          throw toSyncError(error, this.errorDomain);
        }
      }),
    );
  }

  /** The cross-process lock file, beside the working copy (never inside it, where git would see it). */
  private lockPath(): string {
    const { workdir } = this.config;
    return join(dirname(workdir), `.${workdir.split(sep).pop()}.lock`);
  }

  /** Runs `mutate` on the remote tip and commits (and pushes) whatever it changed. */
  async commit<T>(request: CommitRequest, mutate: () => Promise<T>): Promise<CommitOutcome<T>> {
    if (!SAFE_CORRELATION_ID.test(request.correlationId)) {
      throw permanent(`${this.errorDomain}.BAD_CORRELATION_ID`, 'correlation id has unexpected characters');
    }
    const { remote, branch, pushAttempts, lockTimeoutMs } = this.config;
    return this.mutex.run(() =>
      withFileLock(this.lockPath(), lockTimeoutMs, async () => {
        try {
          await this.ensureRepo();
        } catch (error) {
          throw toSyncError(error, this.errorDomain);
        }
        await this.removeGitLocks();
        const repo = this.repo();
        for (let attempt = 1; ; attempt++) {
          await this.syncToRemote();
          const result = await mutate();
          // The working copy was reset to the remote tip, so everything that differs is this change.
          await repo.add(['-A', '.']);
          if ((await repo.status()).isClean()) {
            return { changed: false, revision: await this.head(repo), result };
          }
          await repo.commit(
            `${request.reason} tenant ${request.tenantId}\n\n` +
              `Correlation-Id: ${request.correlationId}\nTenant: ${request.tenantId}\n`,
          );
          if (!remote) return { changed: true, revision: await this.head(repo), result };
          try {
            await repo.push('origin', `HEAD:refs/heads/${branch}`);
            return { changed: true, revision: await this.head(repo), result };
          } catch (error) {
            if (attempt >= pushAttempts) {
              throw retryable(
                `${this.errorDomain}.GITOPS_PUSH_FAILED`,
                `push failed after ${attempt} attempts: ${firstLine(error)}`,
                error,
              );
            }
            this.logger.warn(
              { tenantId: request.tenantId, attempt },
              'push rejected, redoing the change on the new tip',
            );
          }
        }
      }),
    );
  }

  // -------------------------------------------------------------------------------------------------------

  private repo(): SimpleGit {
    return simpleGit({
      baseDir: this.config.workdir,
      config: [`user.name=${this.config.authorName}`, `user.email=${this.config.authorEmail}`],
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
   * Makes the working copy exactly the remote tip (local-only: HEAD), dropping what a failed run left. A copy
   * that cannot be synced (corrupt) is cloned again; an unreachable remote fails retryably as it is.
   */
  private async syncToRemote(): Promise<void> {
    const { workdir, remote } = this.config;
    try {
      return await this.resetToRemote(this.repo());
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
        await this.resetToRemote(this.repo());
      } catch (retryError) {
        throw toSyncError(retryError, this.errorDomain);
      }
    }
  }

  private async resetToRemote(repo: SimpleGit): Promise<void> {
    const { workdir, remote, branch } = this.config;
    // A copy missing .git/HEAD is no repository, and git would look for one in the parent directories.
    const gitDir = (await repo.revparse(['--absolute-git-dir'])).trim();
    if (gitDir !== (await realpath(join(workdir, '.git')))) {
      throw new Error(`${workdir} is not a git repository (found ${gitDir})`);
    }
    if (remote) {
      await this.fetch(repo, remote);
      const remoteBranches = await repo.branch(['-r']);
      if (remoteBranches.all.includes(`origin/${branch}`)) {
        await repo.raw(['reset', '--hard', `origin/${branch}`]);
      } else if (await this.head(repo)) {
        // Nothing pushed yet: a commit left by a rejected first push must not make the redo look unchanged.
        await repo.raw(['update-ref', '-d', 'HEAD']);
        await repo.raw(['rm', '-r', '-q', '--cached', '--ignore-unmatch', '.']);
      }
    } else if (await this.head(repo)) await repo.raw(['reset', '--hard', 'HEAD']);
    await repo.raw(['clean', '-fdq']);
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
