import { StepError, retryable } from '@app/platform';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { GitOpsConfig } from './git-working-copy.config';
import { DEFAULT_GIT_COMMAND_TIMEOUT_MS, firstLine, toSyncError } from './git-working-copy.config';
import { ObjectStore } from './git-working-copy.objects';
import { CatFileBatch, GitRunner } from './git-working-copy.process';

/** A branch tip: empty for a branch with no commit yet. */
export interface Tip {
  commit?: string;
  tree?: string;
}

/** One file another writer's commit changed: its new mode and blob, or none when it removed the file. */
export interface DiffEntry {
  path: string;
  mode?: string;
  oid?: string;
}

/** Where a hold that ended well records the commit the working tree shows (inside `.git`: git ignores it). */
const VIEW_MARK = 'gitops-view';
/** The mark of earlier versions, which also vouched for HEAD and the index: removed, never trusted. */
const LEGACY_MARK = 'gitops-clean';
const OBJECT_ID = /^[0-9a-f]{40,64}$/;
const ZERO_ID = /^0+$/;

/**
 * The working copy on disk: its working tree is a view of one commit (the remote's tip when the last group
 * ended), kept so by applying what each new tip changed, not by resetting and cleaning the whole tree. The
 * index and HEAD are git's full-sync tools only: set by `reset --hard` when the copy is repaired, left as they
 * are by the groups in between. A copy whose view is not vouched for (no mark: a group failed or a process was
 * killed in one) is synced in full, and cloned again when even that fails (it is only a cache of the remote).
 */
export class WorkingTree {
  readonly git: GitRunner;
  private batchProcess?: CatFileBatch;
  private objectStore?: ObjectStore;
  private initialised = false;

  constructor(
    private readonly config: GitOpsConfig,
    private readonly errorDomain: string,
    private readonly logger: Logger,
  ) {
    this.git = new GitRunner(
      config.workdir,
      [
        `user.name=${config.authorName}`,
        `user.email=${config.authorEmail}`,
        // Every fetch would otherwise spawn `git maintenance run --auto`; the working copy runs it every few groups.
        'maintenance.auto=false',
        // A full sync's `clean` walks the whole tree: unchanged directories are skipped.
        'core.untrackedCache=true',
      ],
      config.commandTimeoutMs ?? DEFAULT_GIT_COMMAND_TIMEOUT_MS,
    );
  }

  get gitDir(): string {
    return join(this.config.workdir, '.git');
  }

  get remoteRef(): string {
    const { remote, branch } = this.config;
    return remote ? `refs/remotes/origin/${branch}` : `refs/heads/${branch}`;
  }

  get store(): ObjectStore {
    if (!this.objectStore) throw new Error('the working copy is not open');
    return this.objectStore;
  }

  /** Whether the remote's tip was read (fetched, or pushed to) during this hold. */
  fresh = false;

  /** Ends a hold of the lock: its `cat-file --batch`, if one was started, and its fetched tip. */
  endHold(): void {
    this.batchProcess?.close();
    this.batchProcess = undefined;
    this.fresh = false;
  }

  async ensureRepo(): Promise<void> {
    if (this.initialised) return;
    const { workdir, remote, branch } = this.config;
    if (!existsSync(this.gitDir)) {
      await mkdir(dirname(workdir), { recursive: true });
      if (remote) {
        // Quiet: errors keep git's first stderr line, which must be the cause, not "Cloning into '...'...".
        await this.git.run(['clone', '--no-checkout', '--quiet', remote, workdir], { cwd: dirname(workdir) });
        const remoteBranches = await this.git.run(['branch', '-r', '--format=%(refname:short)']);
        if (remoteBranches.split('\n').includes(`origin/${branch}`))
          await this.git.run(['checkout', '-q', '-B', branch, `origin/${branch}`]);
        else await this.git.run(['checkout', '-q', '--orphan', branch]);
      } else {
        await mkdir(workdir, { recursive: true });
        await this.git.run(['init', '-q', '--initial-branch', branch]);
      }
    }
    const gitConfig = await readFile(join(this.gitDir, 'config'), 'utf8').catch(() => '');
    const objectFormat = /^\s*objectformat\s*=\s*sha256\s*$/im.test(gitConfig) ? 'sha256' : 'sha1';
    this.objectStore = new ObjectStore(this.gitDir, () => this.batch(), objectFormat);
    this.initialised = true;
  }

  /**
   * Git's lock files in the working copy. Holding our lock, no other git process can be running here, so
   * any is the leftover of a killed one, and would fail every later `reset`, `fetch` or `push`.
   */
  async removeGitLocks(): Promise<void> {
    const topLevel = await readdir(this.gitDir).catch(() => [] as string[]);
    const refs = await readdir(join(this.gitDir, 'refs'), { recursive: true }).catch(() => [] as string[]);
    const locks = [
      ...topLevel.filter((name) => name.endsWith('.lock')).map((name) => join(this.gitDir, name)),
      ...refs.filter((name) => name.endsWith('.lock')).map((name) => join(this.gitDir, 'refs', name)),
    ];
    for (const lock of locks) {
      this.logger.warn({ lock }, 'removing a git lock file left by a killed process');
      await rm(lock, { force: true });
    }
  }

  /**
   * The commit and tree the working tree was left showing, when still vouched for: the mark is removed here,
   * before any change runs, so a group that fails half-way (or a process killed in it) leaves none, whichever
   * process shares the copy. An index written since (a hand-run `git add`) voids it. Undefined: sync in full.
   */
  async takeMark(): Promise<Required<Tip> | undefined> {
    await rm(join(this.gitDir, LEGACY_MARK), { force: true });
    const path = join(this.gitDir, VIEW_MARK);
    const mark = await readFile(path, 'utf8').catch(() => '');
    if (!mark) return undefined;
    await rm(path, { force: true });
    const [commit, tree, ...stamp] = mark.trim().split(' ');
    if (!OBJECT_ID.test(commit ?? '') || !OBJECT_ID.test(tree ?? '')) return undefined;
    if (stamp.join(' ') !== (await this.indexStamp().catch(() => 'none'))) return undefined;
    return { commit, tree };
  }

  /** Records that the working tree is exactly `tip`'s tree. Written last, under the lock. */
  async mark(tip: Tip): Promise<void> {
    if (!tip.commit || !tip.tree) return;
    try {
      const stamp = await this.indexStamp().catch(() => 'none');
      await writeFile(join(this.gitDir, VIEW_MARK), `${tip.commit} ${tip.tree} ${stamp}\n`);
    } catch (error) {
      this.logger.warn({ error: firstLine(error) }, 'cannot record the working copy as clean');
    }
  }

  /**
   * Fetches the remote, never carrying on from a stale tip: the commit would be rejected at every push.
   * All branches (`--prune`), not just ours: fetching a branch the remote does not have yet (before the
   * first push) fails. A failure with the remote reachable is the working copy's, left to the re-clone.
   */
  async fetch(): Promise<void> {
    const { remote } = this.config;
    if (!remote) return;
    try {
      await this.git.run(['fetch', '--quiet', '--prune', 'origin']);
      this.fresh = true;
    } catch (error) {
      const reachable = await this.git
        .run(['ls-remote', '--heads', remote], { cwd: dirname(this.config.workdir) })
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

  /** The commit the remote (local-only: the branch) points at, read from its loose ref when it has one. */
  async tipCommit(): Promise<string | undefined> {
    const loose = (await readFile(join(this.gitDir, this.remoteRef), 'utf8').catch(() => '')).trim();
    if (OBJECT_ID.test(loose)) return loose;
    const packed = (
      await this.git.run(['for-each-ref', '--count=1', '--format=%(objectname)', this.remoteRef])
    ).trim();
    return packed || undefined;
  }

  async tip(): Promise<Tip> {
    const commit = await this.tipCommit();
    return commit ? { commit, tree: await this.store.commitTree(commit) } : {};
  }

  /**
   * Makes the working tree the remote's tip (fetched first unless `fetched`) and returns that tip. From a view
   * `known` to be exact, only what changed between the two is written; otherwise, or when that fails, the copy
   * is synced in full.
   */
  async sync(known: Required<Tip> | undefined, fetched: boolean): Promise<Tip> {
    try {
      if (!fetched) await this.fetch();
      if (known) {
        const commit = await this.tipCommit();
        if (commit === known.commit) return known;
        if (commit) {
          try {
            await this.applyDiff(await this.diff(known.tree, commit));
            return { commit, tree: await this.store.commitTree(commit) };
          } catch (error) {
            this.logger.warn(
              { error: firstLine(error) },
              'working tree cannot follow the new tip, syncing in full',
            );
          }
        }
      }
      return await this.resetToTip();
    } catch (error) {
      if (
        !this.config.remote ||
        (error instanceof StepError && error.code === `${this.errorDomain}.GITOPS_FETCH_FAILED`)
      ) {
        throw toSyncError(error, this.errorDomain);
      }
      return this.cloneAgain(error);
    }
  }

  /** The files that differ between two commits or trees. */
  async diff(from: string, to: string): Promise<DiffEntry[]> {
    const raw = await this.git.run(['diff-tree', '-r', '-z', '--no-renames', '--no-abbrev', from, to]);
    const fields = raw.split('\0');
    const entries: DiffEntry[] = [];
    for (let at = 0; at + 1 < fields.length; at += 2) {
      // `:<old mode> <new mode> <old id> <new id> <status>`, then the path.
      const [, newMode, , newOid] = fields[at].split(' ');
      const path = fields[at + 1];
      entries.push(ZERO_ID.test(newOid ?? '') ? { path } : { path, mode: newMode, oid: newOid });
    }
    return entries;
  }

  /** Writes what another writer's commit changed into the working tree: removals first, then files. */
  async applyDiff(entries: readonly DiffEntry[]): Promise<void> {
    for (const entry of entries.filter((candidate) => !candidate.oid)) {
      await rm(this.absolute(entry.path), { force: true });
      await this.pruneEmptyParents(entry.path);
    }
    for (const entry of entries) {
      if (!entry.oid) continue;
      if (!['100644', '100755', '120000'].includes(entry.mode ?? '')) {
        throw new Error(`${entry.path} has mode ${entry.mode}, which the working copy does not follow`);
      }
      const target = this.absolute(entry.path);
      const content = await this.store.readBlob(entry.oid);
      await rm(target, { recursive: true, force: true });
      await mkdir(dirname(target), { recursive: true });
      if (entry.mode === '120000') await symlink(content.toString('utf8'), target);
      else await writeFile(target, content, { mode: entry.mode === '100755' ? 0o755 : 0o644 });
    }
  }

  async push(revision: string): Promise<void> {
    await this.git.run(['push', '--quiet', 'origin', `${revision}:refs/heads/${this.config.branch}`]);
    this.fresh = true;
  }

  /** Without a remote the branch is the result: moved from `previous` only (the lock makes that the case). */
  async moveBranch(revision: string, previous: string | undefined): Promise<void> {
    const { branch } = this.config;
    await this.git.run(['update-ref', `refs/heads/${branch}`, revision, previous ?? '']);
  }

  /** A copy that cannot be synced (corrupt) is cloned again: it is only a cache of the remote. */
  private async cloneAgain(cause: unknown): Promise<Tip> {
    this.logger.warn({ error: firstLine(cause) }, 'working copy cannot be synced, cloning it again');
    this.endHold();
    await rm(this.config.workdir, { recursive: true, force: true });
    this.initialised = false;
    try {
      await this.ensureRepo();
      return await this.resetToTip();
    } catch (retryError) {
      throw toSyncError(retryError, this.errorDomain);
    }
  }

  /**
   * Makes the working copy exactly the remote tip (local-only: the branch), index and HEAD included, dropping
   * what a failed run left. Walks the whole tree: only for a copy whose view is not vouched for.
   */
  private async resetToTip(): Promise<Tip> {
    await this.assertRepository();
    const line = (
      await this.git.run(['for-each-ref', '--count=1', '--format=%(objectname) %(tree)', this.remoteRef])
    ).trim();
    const [commit, tree] = line ? line.split(' ') : [];
    if (commit) await this.git.run(['reset', '-q', '--hard', commit]);
    else if (this.config.remote) {
      // Nothing pushed yet: what a rejected first push left must not make the redo look unchanged.
      if (await this.git.run(['rev-parse', '-q', '--verify', 'HEAD']).catch(() => ''))
        await this.git.run(['update-ref', '-d', 'HEAD']);
      await this.git.run(['read-tree', '--empty']);
    }
    await this.git.run(['clean', '-fdq']);
    return commit ? { commit, tree } : {};
  }

  /**
   * What git needs to take `.git` for a repository (HEAD naming a ref or a commit, objects/, refs/), checked
   * without spawning git: a copy missing one is no repository, and git would look for one in the parent
   * directories, then reset and clean that one.
   */
  private async assertRepository(): Promise<void> {
    const head = await readFile(join(this.gitDir, 'HEAD'), 'utf8').catch(() => '');
    const valid =
      /^(ref: refs\/\S+|[0-9a-f]{40,64})\s*$/.test(head) &&
      existsSync(join(this.gitDir, 'objects')) &&
      existsSync(join(this.gitDir, 'refs'));
    if (!valid) throw new Error(`${this.config.workdir} is not a git repository`);
  }

  /** The index file's size and modification time: any write to it changes them. */
  private async indexStamp(): Promise<string> {
    const info = await stat(join(this.gitDir, 'index'), { bigint: true });
    return `${info.size} ${info.mtimeNs}`;
  }

  private batch(): CatFileBatch {
    this.batchProcess ??= new CatFileBatch(this.git);
    return this.batchProcess;
  }

  private absolute(path: string): string {
    return join(this.config.workdir, ...path.split('/'));
  }

  /** Directories a removal left empty go too, as git's checkout does. */
  private async pruneEmptyParents(path: string): Promise<void> {
    const segments = path.split('/').slice(0, -1);
    while (segments.length > 0) {
      const removed = await rmdir(this.absolute(segments.join('/'))).then(
        () => true,
        () => false,
      );
      if (!removed) return;
      segments.pop();
    }
  }
}
