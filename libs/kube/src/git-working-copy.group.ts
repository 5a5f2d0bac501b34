import { retryable } from '@app/platform';
import type { Logger } from 'pino';
import {
  type CommitOutcome,
  type CommitRequest,
  type GitOpsConfig,
  commitMessage,
  firstLine,
  toSyncError,
} from './git-working-copy.config';
import { type FileChanges, type FileState, sameState } from './git-working-copy.objects';
import { type ChangeScope, ScopedChange, inScope } from './git-working-copy.scope';
import type { Tip, WorkingTree } from './git-working-copy.sync';
import type { GroupTimings } from './git-working-copy.timings';

/** A change waiting for its group's commit. */
export interface Waiter<T> {
  request: CommitRequest;
  mutate: (scope: ChangeScope) => Promise<T>;
  /** When the change was queued (ms, `performance.now()`), for the group's timings. */
  queuedAt: number;
  resolve: (outcome: CommitOutcome<T>) => void;
  reject: (error: unknown) => void;
  /** How the group ended for this change, applied once the lock is released. */
  settled?: { outcome: CommitOutcome<T> } | { error: unknown };
}

/** The group's commit in the making: on which tip, what it changes, the tree that makes. */
interface Draft {
  base: Tip;
  delta: FileChanges;
  tree: string;
  outcomes: Map<Waiter<unknown>, { changed: boolean; result: unknown }>;
  scopes: Map<Waiter<unknown>, ScopedChange>;
  /** The files each change changed, as it ran. */
  changes: Map<Waiter<unknown>, FileChanges>;
}

/**
 * Runs one group of changes under the working-copy lock: sync to the remote tip, every change in arrival
 * order (each sees the files the ones before it wrote), one commit, one push. A change that throws fails alone,
 * its files put back. A push the remote refuses (another writer pushed first) is settled by what that writer's
 * commits changed: the changes whose paths they touched run again on the new tip (with any change whose paths
 * meet theirs), the others are kept as they were made, since they would read and write the same (rebased);
 * a group with a change of undeclared paths runs again whole (redone). A sync or push that fails for good
 * fails every waiter with the same error.
 */
export class GroupRunner {
  constructor(
    private readonly tree: WorkingTree,
    private readonly config: GitOpsConfig,
    private readonly errorDomain: string,
    private readonly logger: Logger,
  ) {}

  async run(group: Waiter<unknown>[], timings: GroupTimings): Promise<void> {
    let live = group;
    try {
      await this.tree.ensureRepo();
      await this.tree.removeGitLocks();
      // The view the last group left, when vouched for: the sync then only applies what changed since.
      let known = await this.tree.takeMark();
      let fetched = false;
      let rebased: Draft | undefined;
      for (let attempt = 1; ; attempt++) {
        timings.attempts = attempt;
        let draft = rebased;
        rebased = undefined;
        if (!draft) {
          const base = await timings.time('syncMs', () => this.tree.sync(known, fetched));
          const made = await this.runChanges(live, base, timings);
          live = [...made.outcomes.keys()];
          if (!made.tree || made.tree === base.tree) return await this.unchanged(base, made.outcomes);
          draft = { ...made, tree: made.tree };
        }
        const { base, tree } = draft;
        const requests = live.filter((waiter) => draft.outcomes.get(waiter)?.changed).map((w) => w.request);
        const revision = await timings.time('commitMs', () =>
          this.tree.store.writeCommit({
            tree,
            parent: base.commit,
            author: `${this.config.authorName} <${this.config.authorEmail}>`,
            message: commitMessage(requests),
          }),
        );
        if (!this.config.remote) {
          await timings.time('commitMs', () => this.tree.moveBranch(revision, base.commit));
          return await this.committed(draft, revision);
        }
        try {
          await timings.time('pushMs', () => this.tree.push(revision));
          return await this.committed(draft, revision);
        } catch (error) {
          timings.refused += 1;
          if (attempt >= this.config.pushAttempts) {
            throw retryable(
              `${this.errorDomain}.GITOPS_PUSH_FAILED`,
              `push failed after ${attempt} attempts: ${firstLine(error)}`,
              error,
            );
          }
          await timings.time('fetchMs', () => this.tree.fetch());
          fetched = true;
          const next = await timings.time('rebaseMs', () => this.rebase(draft, timings));
          rebased = next.draft;
          if (rebased) {
            timings.rebased += 1;
            live = [...rebased.outcomes.keys()];
            if (rebased.tree === rebased.base.tree)
              return await this.unchanged(rebased.base, rebased.outcomes);
          } else {
            timings.redone += 1;
            live = live.filter((waiter) => !waiter.settled);
            // The redo's sync moves the working tree from the tree it shows to the new tip.
            known = { commit: revision, tree: next.view };
            this.logger.warn(
              { tenantIds: live.map((waiter) => waiter.request.tenantId), attempt },
              'push rejected, redoing the group of changes on the new tip',
            );
          }
        }
      }
    } catch (error) {
      const failure = toSyncError(error, this.errorDomain);
      for (const waiter of live) waiter.settled ??= { error: failure };
    }
  }

  /** Each change on the synced tip; what they changed together, and the tree that makes. */
  private async runChanges(
    live: readonly Waiter<unknown>[],
    base: Tip,
    timings: GroupTimings,
  ): Promise<Omit<Draft, 'tree'> & { tree?: string }> {
    const outcomes: Draft['outcomes'] = new Map();
    const scopes: Draft['scopes'] = new Map();
    const changed: Draft['changes'] = new Map();
    const latest: FileChanges = new Map();
    const atStart = new Map<string, FileState | null>();
    const { workdir } = this.config;
    for (const waiter of live) {
      let scope: ScopedChange;
      try {
        scope = await ScopedChange.open(workdir, this.tree.store, waiter.request.paths, this.errorDomain);
      } catch (error) {
        waiter.settled = { error };
        continue;
      }
      let result: unknown;
      try {
        result = await timings.time('mutateMs', () => waiter.mutate(scope));
      } catch (error) {
        waiter.settled = { error };
        await timings.time('restoreMs', () => scope.restore());
        continue;
      }
      const changes = await timings.time('stageMs', () => scope.changes());
      for (const [path, state] of changes) {
        if (!atStart.has(path)) atStart.set(path, scope.stateBefore(path) ?? null);
        latest.set(path, state);
      }
      outcomes.set(waiter, { result, changed: changes.size > 0 });
      scopes.set(waiter, scope);
      changed.set(waiter, changes);
    }
    // Changes that undo each other leave the tree as it was: no commit then either.
    const delta: FileChanges = new Map(
      [...latest].filter(([path, state]) => !sameState(state, atStart.get(path))),
    );
    const tree =
      delta.size > 0
        ? await timings.time('commitMs', () => this.tree.store.buildTree(base.tree, delta))
        : undefined;
    return { base, delta, tree, outcomes, scopes, changes: changed };
  }

  /**
   * The group's commit made again on the new tip. The changes whose paths the other writer's commits touched run
   * again there, with every change whose input they wrote or which wrote theirs after them (in arrival order);
   * the others are kept as they were made: they would read the same files and write the same. No draft (the
   * whole group is redone, from the tree the working tree then shows) when every change must run again, when one
   * declared no paths, or when a change run again wrote where a kept one reads.
   */
  private async rebase(draft: Draft, timings: GroupTimings): Promise<{ draft?: Draft; view: string }> {
    const tip = await this.tree.tip();
    const waiters = [...draft.outcomes.keys()];
    const roots = (waiter: Waiter<unknown>) => draft.scopes.get(waiter)?.roots ?? [''];
    if (!draft.base.commit || !tip.commit || !tip.tree || waiters.some((w) => roots(w).includes('')))
      return { view: draft.tree };
    const theirs = await this.tree.diff(draft.base.commit, tip.commit);
    const touches = (paths: Iterable<string>, waiter: Waiter<unknown>) =>
      [...paths].some((path) => inScope(path, roots(waiter)));
    const wrote = (waiter: Waiter<unknown>) => draft.changes.get(waiter)?.keys() ?? [];
    const theirPaths = theirs.map((entry) => entry.path);
    const again = new Set(waiters.filter((waiter) => touches(theirPaths, waiter)));
    let grown = again.size > 0;
    while (grown) {
      grown = false;
      waiters.forEach((waiter, at) => {
        const joins = [...again].some(
          (other) =>
            touches(wrote(other), waiter) || (waiters.indexOf(other) < at && touches(wrote(waiter), other)),
        );
        if (again.has(waiter) || !joins) return;
        again.add(waiter);
        grown = true;
      });
    }
    if (again.size === waiters.length) return { view: draft.tree };
    const kept = waiters.filter((waiter) => !again.has(waiter));
    const delta = new Map(
      [...draft.delta].filter(([path]) => kept.some((w) => draft.changes.get(w)?.has(path))),
    );
    const keptTree = await this.tree.store.buildTree(tip.tree, delta);
    // The working tree moves from the refused tree to the new tip with the kept changes.
    await this.tree.applyDiff(again.size === 0 ? theirs : await this.tree.diff(draft.tree, keptTree));
    if (again.size === 0) return { draft: { ...draft, base: tip, tree: keptTree }, view: keptTree };
    timings.rerun += again.size;
    const rerun = await this.runChanges(
      waiters.filter((waiter) => again.has(waiter)),
      { commit: tip.commit, tree: keptTree },
      timings,
    );
    const tree = rerun.tree ?? keptTree;
    if (kept.some((waiter) => [...rerun.changes.values()].some((changes) => touches(changes.keys(), waiter))))
      return { view: tree };
    const merged: Draft = {
      base: tip,
      delta,
      tree,
      outcomes: new Map(),
      scopes: new Map(),
      changes: new Map(),
    };
    for (const [path, state] of rerun.delta) merged.delta.set(path, state);
    for (const waiter of waiters) {
      const from = again.has(waiter) ? rerun : draft;
      const outcome = from.outcomes.get(waiter);
      if (!outcome) continue;
      merged.outcomes.set(waiter, outcome);
      merged.scopes.set(waiter, from.scopes.get(waiter) as ScopedChange);
      merged.changes.set(waiter, from.changes.get(waiter) as FileChanges);
    }
    return { draft: merged, view: tree };
  }

  private async unchanged(base: Tip, outcomes: Draft['outcomes']): Promise<void> {
    await this.tree.mark(base);
    for (const [waiter, outcome] of outcomes) {
      waiter.settled = { outcome: { changed: false, revision: base.commit, result: outcome.result } };
    }
  }

  private async committed(draft: Draft, revision: string): Promise<void> {
    await this.tree.mark({ commit: revision, tree: draft.tree });
    for (const [waiter, outcome] of draft.outcomes) {
      waiter.settled = { outcome: { changed: outcome.changed, revision, result: outcome.result } };
    }
  }
}
