import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type GitOpsConfig, GitWorkingCopy } from './git-working-copy';
import {
  bareRepo as newBareRepo,
  committedTree,
  copyConfig,
  git,
  gitCommands as logGitCommands,
  put,
  remoteFiles,
  workingTree,
} from './git-working-copy.test-helpers';

/** Against a real Git: a bare repository as the remote, working copies cloned from it. */
const logger = pino({ level: 'silent' });
let base: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'kube-git-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const bareRepo = () => newBareRepo(base);
const config = (name: string, remote: string | undefined, overrides: Partial<GitOpsConfig> = {}) =>
  copyConfig(base, name, remote, overrides);
const request = { reason: 'ProvisionNamespace', tenantId: 'test-co-abc123', correlationId: 'corr-1' };

describe('GitWorkingCopy', () => {
  it('commits a change once, with the trailers, and makes no commit when re-run', async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    const mutate = () => put(working.workdir, 'tenants/t/a.yaml', 'a: 1\n').then(() => 'result');
    const first = await working.commit(request, mutate);
    expect(first).toMatchObject({ changed: true, result: 'result' });
    expect(first.revision).toBe(git(bare, 'rev-parse', 'main').trim());
    expect(git(bare, 'log', '-1', '--format=%an <%ae>%n%B', 'main')).toBe(
      'provisioning-test <provisioning@collectverything.com>\n' +
        'ProvisionNamespace tenant test-co-abc123\n\nCorrelation-Id: corr-1\nTenant: test-co-abc123\n\n',
    );
    const second = await working.commit(request, mutate);
    expect(second).toEqual({ changed: false, revision: first.revision, result: 'result' });
    expect(git(bare, 'rev-list', '--count', 'main').trim()).toBe('1');
  });

  it('commits locally when there is no remote', async () => {
    const working = new GitWorkingCopy(config('local', undefined), 'TEST', logger);
    const outcome = await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    expect(outcome.changed).toBe(true);
    expect(git(working.workdir, 'rev-parse', 'HEAD').trim()).toBe(outcome.revision);
  });

  it('redoes the change on the new tip when another writer wins the push race', async () => {
    const bare = bareRepo();
    const other = new GitWorkingCopy(config('other', bare), 'TEST', logger);
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    let runs = 0;
    const outcome = await working.commit(request, async () => {
      runs++;
      // The other writer pushes while this change is being made, so the first push is rejected.
      if (runs === 1) await other.commit(request, () => put(other.workdir, 'other.yaml', 'o\n'));
      await put(working.workdir, 'mine.yaml', 'm\n');
    });
    expect(runs).toBe(2);
    expect(outcome.changed).toBe(true);
    expect(remoteFiles(bare)).toEqual(['mine.yaml', 'other.yaml']);
  });

  it('gives up after pushAttempts with a retryable <domain>.GITOPS_PUSH_FAILED', async () => {
    const bare = bareRepo();
    const hook = join(bare, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho refused by policy >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const working = new GitWorkingCopy(config('wc', bare, { pushAttempts: 2 }), 'TEST', logger);
    let runs = 0;
    await expect(
      working.commit(request, async () => {
        runs++;
        await put(working.workdir, 'a.yaml', 'a\n');
      }),
    ).rejects.toMatchObject({ code: 'TEST.GITOPS_PUSH_FAILED', retryable: true });
    expect(runs).toBe(2);
    // The redelivered command, once the remote accepts pushes, still commits and pushes (not "unchanged").
    rmSync(hook);
    const retried = await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    expect(retried.changed).toBe(true);
    expect(remoteFiles(bare)).toEqual(['a.yaml']);
  });

  it('drops what a failed operation left in the working copy, also before the first push', async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    expect(await working.health()).toBe(true);
    await put(working.workdir, 'leftover.yaml', 'half-written\n');
    await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    expect(remoteFiles(bare)).toEqual(['a.yaml']);
  });

  it('refuses a bad configuration and a bad correlation id with <domain> codes', async () => {
    expect(
      () => new GitWorkingCopy(config('wc', undefined, { workdir: 'relative/wc' }), 'TEST', logger),
    ).toThrow(expect.objectContaining({ code: 'TEST.BAD_CONFIG' }));
    expect(() => new GitWorkingCopy(config('wc', undefined, { branch: 'main;rm' }), 'TEST', logger)).toThrow(
      expect.objectContaining({ code: 'TEST.BAD_CONFIG' }),
    );
    expect(() => new GitWorkingCopy(config('wc', undefined, { branch: 'a/../b' }), 'TEST', logger)).toThrow(
      expect.objectContaining({ code: 'TEST.BAD_CONFIG' }),
    );
    const working = new GitWorkingCopy(config('wc', undefined), 'TEST', logger);
    await expect(
      working.commit({ ...request, correlationId: 'corr\nInjected: trailer' }, async () => undefined),
    ).rejects.toMatchObject({ code: 'TEST.BAD_CORRELATION_ID', retryable: false });
  });

  it('removes a .git/index.lock left by a killed git process, without cloning again', async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    writeFileSync(join(working.workdir, '.git', 'index.lock'), '');
    // Survives only if the working copy is repaired in place rather than cloned again.
    writeFileSync(join(working.workdir, '.git', 'marker'), '');
    const outcome = await working.commit(request, () => put(working.workdir, 'b.yaml', 'b\n'));
    expect(outcome.changed).toBe(true);
    expect(remoteFiles(bare)).toEqual(['a.yaml', 'b.yaml']);
    expect(existsSync(join(working.workdir, '.git', 'index.lock'))).toBe(false);
    expect(existsSync(join(working.workdir, '.git', 'marker'))).toBe(true);
  });

  it('fetches past a leftover refs/remotes/origin/main.lock and commits on the remote tip', async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    const other = new GitWorkingCopy(config('other', bare), 'TEST', logger);
    const stale = await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    const moved = await other.commit(request, () => put(other.workdir, 'other.yaml', 'o\n'));
    writeFileSync(
      join(working.workdir, '.git', 'refs', 'remotes', 'origin', 'main.lock'),
      `${stale.revision}\n`,
    );
    const outcome = await working.commit(request, () => put(working.workdir, 'b.yaml', 'b\n'));
    expect(outcome.changed).toBe(true);
    expect(git(bare, 'rev-parse', 'main~1').trim()).toBe(moved.revision);
    expect(remoteFiles(bare)).toEqual(['a.yaml', 'b.yaml', 'other.yaml']);
  });

  it('fails a commit with a retryable GITOPS_FETCH_FAILED when the remote cannot be fetched', async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    renameSync(bare, `${bare}.away`);
    let runs = 0;
    await expect(
      working.commit(request, async () => {
        runs++;
        await put(working.workdir, 'b.yaml', 'b\n');
      }),
    ).rejects.toMatchObject({ code: 'TEST.GITOPS_FETCH_FAILED', retryable: true });
    // Never run (and committed) on the stale tip.
    expect(runs).toBe(0);
    renameSync(`${bare}.away`, bare);
    const retried = await working.commit(request, () => put(working.workdir, 'b.yaml', 'b\n'));
    expect(retried.changed).toBe(true);
    expect(remoteFiles(bare)).toEqual(['a.yaml', 'b.yaml']);
  });

  it.each([
    ['a deleted .git/HEAD', (gitDir: string) => rmSync(join(gitDir, 'HEAD'))],
    ['a truncated .git/index', (gitDir: string) => truncateSync(join(gitDir, 'index'), 10)],
  ])('clones a corrupt working copy (%s) again', async (_corruption, corrupt) => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    corrupt(join(working.workdir, '.git'));
    const outcome = await working.commit(request, () => put(working.workdir, 'b.yaml', 'b\n'));
    expect(outcome.changed).toBe(true);
    expect(outcome.revision).toBe(git(bare, 'rev-parse', 'main').trim());
    expect(remoteFiles(bare)).toEqual(['a.yaml', 'b.yaml']);
  });

  it('fails a first commit with a retryable GITOPS_SYNC_FAILED naming the cause when the remote cannot be cloned', async () => {
    // A URL, not a path: git says "Cloning into" before it finds the remote missing.
    const working = new GitWorkingCopy(config('wc', `file://${join(base, 'missing.git')}`), 'TEST', logger);
    const failure = await working.commit(request, async () => undefined).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'TEST.GITOPS_SYNC_FAILED', retryable: true });
    const message = (failure as Error).message;
    expect(message).not.toContain('Cloning into');
    expect(message).toContain('missing.git');
  });

  it('health() is false when the remote cannot be cloned', async () => {
    const working = new GitWorkingCopy(config('wc', join(base, 'missing.git')), 'TEST', logger);
    expect(await working.health()).toBe(false);
  });
});

describe('GitWorkingCopy group commit', () => {
  const change = (tenantId: string) => ({
    reason: 'ProvisionNamespace',
    tenantId,
    correlationId: `corr-${tenantId}`,
  });
  const commits = (bare: string) => Number(git(bare, 'rev-list', '--count', 'main').trim());

  it('commits changes issued together once, with every trailer, and gives every waiter that commit', async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    await working.commit(change('seed'), () => put(working.workdir, 'seed.yaml', 's\n'));
    const outcomes = await Promise.all([
      ...['t1', 't2', 't3'].map((id) =>
        working.commit(change(id), () => put(working.workdir, `${id}.yaml`, `${id}\n`).then(() => id)),
      ),
      // Leaves the tree as it was: not changed, but told the commit its group made.
      working.commit(change('noop'), () => put(working.workdir, 'seed.yaml', 's\n').then(() => 'noop')),
    ]);
    const tip = git(bare, 'rev-parse', 'main').trim();
    expect(outcomes).toEqual([
      { changed: true, revision: tip, result: 't1' },
      { changed: true, revision: tip, result: 't2' },
      { changed: true, revision: tip, result: 't3' },
      { changed: false, revision: tip, result: 'noop' },
    ]);
    expect(commits(bare)).toBe(2);
    expect(remoteFiles(bare)).toEqual(['seed.yaml', 't1.yaml', 't2.yaml', 't3.yaml']);
    const message = git(bare, 'log', '-1', '--format=%B', 'main');
    expect(message.split('\n')[0]).toBe('3 changes: ProvisionNamespace tenant t1 and others');
    expect(
      git(bare, 'log', '-1', '--format=%(trailers:key=Correlation-Id,valueonly,separator=%x2C)', 'main'),
    ).toBe('corr-t1,corr-t2,corr-t3\n');
    expect(message).not.toContain('corr-noop');
  });

  it('redoes the whole group on the new tip when the push is refused, and resolves all with the new commit', async () => {
    const bare = bareRepo();
    const other = new GitWorkingCopy(config('other', bare), 'TEST', logger);
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    const runs: Record<string, number> = { a: 0, b: 0 };
    const outcomes = await Promise.all(
      ['a', 'b'].map((id) =>
        working.commit(change(id), async () => {
          runs[id]++;
          // Another replica pushes while the group is being made: the group's first push is refused.
          if (id === 'b' && runs[id] === 1) {
            await other.commit(change('o'), () => put(other.workdir, 'other.yaml', 'o\n'));
          }
          await put(working.workdir, `${id}.yaml`, `${id}\n`);
        }),
      ),
    );
    expect(runs).toEqual({ a: 2, b: 2 });
    const tip = git(bare, 'rev-parse', 'main').trim();
    expect(outcomes.map((outcome) => outcome.revision)).toEqual([tip, tip]);
    // One commit for the other replica, one for the group, on top of it.
    expect(commits(bare)).toBe(2);
    expect(remoteFiles(bare)).toEqual(['a.yaml', 'b.yaml', 'other.yaml']);
  });

  it('fails a throwing change alone, undoing what it wrote, and commits the others', async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    await working.commit(change('seed'), () => put(working.workdir, 'seed.yaml', 's\n'));
    const results = await Promise.allSettled([
      working.commit(change('a'), () => put(working.workdir, 'tenants/a/a.yaml', 'a\n')),
      working.commit(change('bad'), async () => {
        // Half-written: a new directory, an edit of the change before, a committed file deleted.
        await put(working.workdir, 'tenants/bad/x.yaml', 'x\n');
        await put(working.workdir, 'tenants/a/a.yaml', 'overwritten\n');
        rmSync(join(working.workdir, 'seed.yaml'));
        throw new Error('rendering failed');
      }),
      working.commit(change('c'), () => put(working.workdir, 'tenants/c/c.yaml', 'c\n')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('rendering failed'));
    const tip = git(bare, 'rev-parse', 'main').trim();
    const [a, , c] = results as PromiseFulfilledResult<{ revision?: string }>[];
    expect([a.value.revision, c.value.revision]).toEqual([tip, tip]);
    expect(commits(bare)).toBe(2);
    expect(remoteFiles(bare)).toEqual(['seed.yaml', 'tenants/a/a.yaml', 'tenants/c/c.yaml']);
    expect(git(bare, 'show', 'main:tenants/a/a.yaml')).toBe('a\n');
    expect(git(bare, 'log', '-1', '--format=%B', 'main')).not.toContain('corr-bad');
    // Nothing of it left behind either: the working tree is the pushed tree, file for file.
    expect(workingTree(working.workdir)).toEqual(committedTree(bare));
    expect(existsSync(join(working.workdir, 'tenants', 'bad'))).toBe(false);
  });

  it('keeps its guarantees with two processes sharing a working copy and a replica with its own', async () => {
    const bare = bareRepo();
    // Two instances on one working copy stand for two processes: only the lock file serialises them.
    const first = new GitWorkingCopy(config('shared', bare), 'TEST', logger);
    const second = new GitWorkingCopy(config('shared', bare), 'TEST', logger);
    const replica = new GitWorkingCopy(config('replica', bare), 'TEST', logger);
    const issue = (working: GitWorkingCopy, prefix: string) =>
      Promise.all(
        [1, 2, 3, 4].map((n) =>
          working.commit(change(`${prefix}${n}`), () => put(working.workdir, `${prefix}${n}.yaml`, `${n}\n`)),
        ),
      );
    const [ofFirst, ofSecond, ofReplica] = await Promise.all([
      issue(first, 'f'),
      issue(second, 's'),
      issue(replica, 'r'),
    ]);
    for (const group of [ofFirst, ofSecond, ofReplica]) {
      expect(group.every((outcome) => outcome.changed)).toBe(true);
      expect(new Set(group.map((outcome) => outcome.revision)).size).toBe(1);
      // The group's commit is on the branch, and holds its files.
      const revision = group[0].revision as string;
      execFileSync('git', ['merge-base', '--is-ancestor', revision, 'main'], { cwd: bare });
    }
    const expected = ['f', 's', 'r'].flatMap((p) => [1, 2, 3, 4].map((n) => `${p}${n}.yaml`)).sort();
    expect(remoteFiles(bare)).toEqual(expected);
    expect(commits(bare)).toBe(3);
    // Re-running every change is idempotent: no commit.
    const again = await issue(first, 'f');
    expect(again.every((outcome) => !outcome.changed)).toBe(true);
    expect(commits(bare)).toBe(3);
  }, 60_000);
});

describe('GitWorkingCopy on a copy its last group left clean', () => {
  const gitCommands = <T>(work: () => Promise<T>) => logGitCommands(base, work);

  it('fetches but neither resets nor cleans when its last push is still the remote tip', async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    const { result, commands } = await gitCommands(() =>
      working.commit(request, () => put(working.workdir, 'b.yaml', 'b\n')),
    );
    expect(result.changed).toBe(true);
    expect(result.revision).toBe(git(bare, 'rev-parse', 'main').trim());
    expect(remoteFiles(bare)).toEqual(['a.yaml', 'b.yaml']);
    // The remote tip is still read before the change runs; only the work of repairing a copy is skipped.
    expect(commands).toContain('fetch');
    expect(commands).not.toContain('reset');
    expect(commands).not.toContain('clean');
    expect(commands).not.toContain('for-each-ref');
  });

  it("moves to another writer's newer tip before the change runs, with no refused push", async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    const other = new GitWorkingCopy(config('other', bare), 'TEST', logger);
    await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    await other.commit(request, async () => {
      await put(other.workdir, 'o.yaml', 'o\n');
      await rm(join(other.workdir, 'a.yaml'));
    });
    let runs = 0;
    const { result, commands } = await gitCommands(() =>
      working.commit(request, async () => {
        runs++;
        await put(working.workdir, 'b.yaml', 'b\n');
      }),
    );
    expect(runs).toBe(1);
    expect(commands.filter((command) => command === 'push')).toHaveLength(1);
    expect(result.revision).toBe(git(bare, 'rev-parse', 'main').trim());
    expect(remoteFiles(bare)).toEqual(['b.yaml', 'o.yaml']);
    expect(existsSync(join(working.workdir, 'a.yaml'))).toBe(false);
  });

  it('syncs in full when the copy was touched since: a file left in it is dropped', async () => {
    const bare = bareRepo();
    const working = new GitWorkingCopy(config('wc', bare), 'TEST', logger);
    await working.commit(request, () => put(working.workdir, 'a.yaml', 'a\n'));
    // What a run killed half-way leaves: a stray file and a rewritten index.
    await put(working.workdir, 'leftover.yaml', 'half-written\n');
    git(working.workdir, 'add', 'leftover.yaml');
    const outcome = await working.commit(request, () => put(working.workdir, 'b.yaml', 'b\n'));
    expect(outcome.changed).toBe(true);
    expect(remoteFiles(bare)).toEqual(['a.yaml', 'b.yaml']);
  });
});

describe('GitWorkingCopy committed-files reads', () => {
  it('answers reads issued together from the remote tip, each with its own directory, and never the working tree', async () => {
    const bare = bareRepo();
    const writer = new GitWorkingCopy(config('writer', bare), 'TEST', logger);
    const reader = new GitWorkingCopy(config('reader', bare), 'TEST', logger);
    await writer.commit(request, async () => {
      await put(writer.workdir, 'tenants/a/ns.yaml', 'a\n');
      await put(writer.workdir, 'tenants/a/sub/deploy.yaml', 'a\n');
      await put(writer.workdir, 'tenants/b/ns.yaml', 'b\n');
      await put(writer.workdir, 'tenants/ab/ns.yaml', 'ab\n');
    });
    expect(await reader.committedFiles('tenants/a')).toEqual(new Set(['ns.yaml', 'sub/deploy.yaml']));
    // Another replica pushes; a leftover in the reader's working tree must not show.
    await writer.commit({ ...request, correlationId: 'corr-2' }, () =>
      put(writer.workdir, 'tenants/c/ns.yaml', 'c\n'),
    );
    await put(reader.workdir, 'tenants/b/uncommitted.yaml', 'x\n');
    const [a, b, c, ab, none] = await Promise.all(
      ['tenants/a', 'tenants/b', 'tenants/c', 'tenants/ab', 'tenants/none'].map((dir) =>
        reader.committedFiles(dir),
      ),
    );
    expect(a).toEqual(new Set(['ns.yaml', 'sub/deploy.yaml']));
    expect(b).toEqual(new Set(['ns.yaml']));
    expect(c).toEqual(new Set(['ns.yaml']));
    expect(ab).toEqual(new Set(['ns.yaml']));
    expect(none).toEqual(new Set());
  }, 60_000);
});
