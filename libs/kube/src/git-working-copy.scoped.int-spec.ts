import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type CommitRequest, GitWorkingCopy } from './git-working-copy';
import {
  bareRepo,
  commitCount,
  committedTree,
  copyConfig,
  git,
  gitCommands,
  put,
  remoteFiles,
  workingTree,
} from './git-working-copy.test-helpers';

/**
 * Changes that declare their paths (`CommitRequest.paths`), against a real Git and a bare remote: what a
 * group looks at, what it spawns, and how a lost push race ends.
 */
const silent = pino({ level: 'silent' });
let base: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'kube-git-scoped-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const change = (tenantId: string, paths: string[] = [`tenants/${tenantId}`]): CommitRequest => ({
  reason: 'ProvisionNamespace',
  tenantId,
  correlationId: `corr-${tenantId}`,
  paths,
});

/** A logger keeping the working copy's per-group timings (`gitopsGroup`). */
function recordingLogger() {
  const groups: Record<string, number>[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { gitopsGroup?: Record<string, number> };
        if (entry.gitopsGroup) groups.push(entry.gitopsGroup);
      },
    },
  );
  return { logger, groups };
}

describe('GitWorkingCopy with declared paths', () => {
  it('commits what changed under the declared paths; on a copy its last group left, a group costs a fetch and a push', async () => {
    const bare = bareRepo(base);
    const working = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', silent);
    await working.commit(change('seed'), () => put(working.workdir, 'tenants/seed/a.yaml', 's\n'));
    const { result: outcomes, commands } = await gitCommands(base, () =>
      Promise.all([
        ...['t1', 't2', 't3'].map((id) =>
          working.commit(change(id), () => put(working.workdir, `tenants/${id}/ns.yaml`, `${id}\n`)),
        ),
        // Rewrites a file with the content it has: not a change.
        working.commit(change('seed'), () => put(working.workdir, 'tenants/seed/a.yaml', 's\n')),
      ]),
    );
    const tip = git(bare, 'rev-parse', 'main').trim();
    expect(outcomes.map((outcome) => [outcome.changed, outcome.revision])).toEqual([
      [true, tip],
      [true, tip],
      [true, tip],
      [false, tip],
    ]);
    expect(commands).toEqual(['fetch', 'push']);
    expect(commitCount(bare)).toBe(2);
    expect(git(bare, 'log', '-1', '--format=%an <%ae>', 'main').trim()).toBe(
      'provisioning-test <provisioning@collectverything.com>',
    );
    expect(workingTree(working.workdir)).toEqual(committedTree(bare));
    // The commit git reads back is whole: fsck finds nothing wrong with the objects written in-process.
    git(bare, 'fsck', '--strict', '--no-dangling');
    const again = await working.commit(change('t1'), () =>
      put(working.workdir, 'tenants/t1/ns.yaml', 't1\n'),
    );
    expect(again).toMatchObject({ changed: false, revision: tip });
    expect(commitCount(bare)).toBe(2);
  });

  it("follows another writer's commits into the working tree, files added, changed and removed, without a full sync", async () => {
    const bare = bareRepo(base);
    const working = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', silent);
    const other = new GitWorkingCopy(copyConfig(base, 'other', bare), 'TEST', silent);
    await working.commit(change('a', ['tenants']), async () => {
      await put(working.workdir, 'tenants/a/ns.yaml', 'a\n');
      await put(working.workdir, 'tenants/gone/sub/x.yaml', 'x\n');
      await put(working.workdir, 'tenants/b/ns.yaml', 'b\n');
    });
    await other.commit(change('b', ['tenants']), async () => {
      await rm(join(other.workdir, 'tenants', 'gone'), { recursive: true });
      await put(other.workdir, 'tenants/b/ns.yaml', 'b2\n');
      await put(other.workdir, 'tenants/c/deep/ns.yaml', 'c\n');
    });
    const { commands } = await gitCommands(base, () =>
      working.commit(change('d'), () => put(working.workdir, 'tenants/d/ns.yaml', 'd\n')),
    );
    expect(remoteFiles(bare)).toEqual([
      'tenants/a/ns.yaml',
      'tenants/b/ns.yaml',
      'tenants/c/deep/ns.yaml',
      'tenants/d/ns.yaml',
    ]);
    expect(workingTree(working.workdir)).toEqual(committedTree(bare));
    expect(existsSync(join(working.workdir, 'tenants', 'gone'))).toBe(false);
    for (const command of ['reset', 'clean', 'checkout', 'status', 'add'])
      expect(commands).not.toContain(command);
  });

  it('makes a refused push again on the new tip, without running the changes again, when the other writer touched none of their paths', async () => {
    const bare = bareRepo(base);
    const { logger, groups } = recordingLogger();
    const working = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', logger);
    const other = new GitWorkingCopy(copyConfig(base, 'other', bare), 'TEST', silent);
    await working.commit(change('a'), () => put(working.workdir, 'tenants/a/ns.yaml', 'a\n'));
    let runs = 0;
    const outcome = await working.commit(change('a'), async () => {
      runs++;
      // The monitoring-service, say, pushes another tenant's files while this change is being made.
      if (runs === 1)
        await other.commit(change('b'), () => put(other.workdir, 'tenants/b/monitoring/x.yaml', 'm\n'));
      await put(working.workdir, 'tenants/a/deploy.yaml', 'd\n');
    });
    expect(runs).toBe(1);
    expect(outcome.revision).toBe(git(bare, 'rev-parse', 'main').trim());
    expect(git(bare, 'rev-parse', 'main~1').trim()).toBe(
      git(other.workdir, 'rev-parse', 'origin/main').trim(),
    );
    expect(remoteFiles(bare)).toEqual([
      'tenants/a/deploy.yaml',
      'tenants/a/ns.yaml',
      'tenants/b/monitoring/x.yaml',
    ]);
    expect(workingTree(working.workdir)).toEqual(committedTree(bare));
    expect(groups.at(-1)).toMatchObject({ attempts: 2, refused: 1, rebased: 1, redone: 0 });
  });

  it("runs the changes again on the new tip when the other writer's commit touched their paths", async () => {
    const bare = bareRepo(base);
    const { logger, groups } = recordingLogger();
    const working = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', logger);
    const other = new GitWorkingCopy(copyConfig(base, 'other', bare), 'TEST', silent);
    await working.commit(change('a'), () => put(working.workdir, 'tenants/a/kustomization.yaml', 'k\n'));
    let runs = 0;
    const seen: string[] = [];
    await working.commit(change('a'), async () => {
      runs++;
      if (runs === 1)
        await other.commit(change('a', ['tenants/a/kustomization.yaml']), () =>
          put(other.workdir, 'tenants/a/kustomization.yaml', 'k+monitoring\n'),
        );
      // What it writes depends on what it reads: the run on the new tip must see the other writer's file.
      seen.push(readFileSync(join(working.workdir, 'tenants/a/kustomization.yaml'), 'utf8'));
      await put(working.workdir, 'tenants/a/deploy.yaml', 'd\n');
    });
    expect(runs).toBe(2);
    expect(seen).toEqual(['k\n', 'k+monitoring\n']);
    expect(committedTree(bare)).toEqual({
      'tenants/a/deploy.yaml': 'd\n',
      'tenants/a/kustomization.yaml': 'k+monitoring\n',
    });
    expect(workingTree(working.workdir)).toEqual(committedTree(bare));
    expect(groups.at(-1)).toMatchObject({ attempts: 2, refused: 1, rebased: 0, redone: 1 });
  });

  it("runs again only the changes whose paths the other writer's commit touched, keeping the others", async () => {
    const bare = bareRepo(base);
    const { logger, groups } = recordingLogger();
    const working = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', logger);
    const other = new GitWorkingCopy(copyConfig(base, 'other', bare), 'TEST', silent);
    await working.commit(change('b'), () => put(working.workdir, 'tenants/b/kustomization.yaml', 'k\n'));
    const runs = { a: 0, b: 0, c: 0 };
    const seen: string[] = [];
    const outcomes = await Promise.all([
      working.commit(change('a'), async () => {
        // The other writer lists b's monitoring while this group is being made: its push is refused.
        if (runs.a++ === 0)
          await other.commit(change('b', ['tenants/b/kustomization.yaml']), () =>
            put(other.workdir, 'tenants/b/kustomization.yaml', 'k+monitoring\n'),
          );
        await put(working.workdir, 'tenants/a/ns.yaml', 'a\n');
      }),
      working.commit(change('b'), async () => {
        runs.b++;
        seen.push(readFileSync(join(working.workdir, 'tenants/b/kustomization.yaml'), 'utf8'));
        await put(working.workdir, 'tenants/b/deploy.yaml', 'd\n');
      }),
      working.commit(change('c'), async () => {
        runs.c++;
        await put(working.workdir, 'tenants/c/ns.yaml', 'c\n');
      }),
    ]);
    expect(runs).toEqual({ a: 1, b: 2, c: 1 });
    expect(seen).toEqual(['k\n', 'k+monitoring\n']);
    const tip = git(bare, 'rev-parse', 'main').trim();
    expect(outcomes.map((outcome) => [outcome.changed, outcome.revision])).toEqual([
      [true, tip],
      [true, tip],
      [true, tip],
    ]);
    expect(committedTree(bare)).toEqual({
      'tenants/a/ns.yaml': 'a\n',
      'tenants/b/deploy.yaml': 'd\n',
      'tenants/b/kustomization.yaml': 'k+monitoring\n',
      'tenants/c/ns.yaml': 'c\n',
    });
    expect(workingTree(working.workdir)).toEqual(committedTree(bare));
    expect(groups.at(-1)).toMatchObject({ attempts: 2, refused: 1, rebased: 1, rerun: 1, redone: 0 });
    expect(git(bare, 'log', '-1', '--format=%(trailers:key=Tenant,valueonly,separator=%x2C)', 'main')).toBe(
      'a,b,c\n',
    );
  });

  it('undoes a throwing change under its own paths only, and commits the others', async () => {
    const bare = bareRepo(base);
    const working = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', silent);
    await working.commit(change('bad'), async () => {
      await put(working.workdir, 'tenants/bad/keep.yaml', 'k\n');
      await put(working.workdir, 'tenants/bad/gone.yaml', 'g\n');
    });
    const results = await Promise.allSettled([
      working.commit(change('a'), () => put(working.workdir, 'tenants/a/a.yaml', 'a\n')),
      working.commit(change('bad'), async () => {
        await put(working.workdir, 'tenants/bad/new/dir/x.yaml', 'x\n');
        await put(working.workdir, 'tenants/bad/keep.yaml', 'overwritten\n');
        await rm(join(working.workdir, 'tenants/bad/gone.yaml'));
        throw new Error('rendering failed');
      }),
      working.commit(change('c'), () => put(working.workdir, 'tenants/c/c.yaml', 'c\n')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committedTree(bare)).toEqual({
      'tenants/a/a.yaml': 'a\n',
      'tenants/bad/gone.yaml': 'g\n',
      'tenants/bad/keep.yaml': 'k\n',
      'tenants/c/c.yaml': 'c\n',
    });
    expect(workingTree(working.workdir)).toEqual(committedTree(bare));
    expect(existsSync(join(working.workdir, 'tenants/bad/new'))).toBe(false);
  });

  it('commits a path a change includes while it runs; a write outside its paths is not part of its commit', async () => {
    const bare = bareRepo(base);
    const working = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', silent);
    await working.commit(change('a'), async (scope) => {
      await put(working.workdir, 'tenants/a/ns.yaml', 'a\n');
      await scope.include('tenants/b/config.json');
      await put(working.workdir, 'tenants/b/config.json', '{}\n');
      await put(working.workdir, 'tenants/undeclared/x.yaml', 'x\n');
    });
    expect(remoteFiles(bare)).toEqual(['tenants/a/ns.yaml', 'tenants/b/config.json']);
  });

  it('refuses a declared path that is not a safe repository path with <domain>.BAD_PATH', async () => {
    const working = new GitWorkingCopy(copyConfig(base, 'wc', undefined), 'TEST', silent);
    for (const path of ['../x', '.git/config', 'a//b', '/etc', 'a/./b', 'tenants/*', '']) {
      await expect(working.commit(change('a', [path]), async () => undefined)).rejects.toMatchObject({
        code: 'TEST.BAD_PATH',
        retryable: false,
      });
    }
    await expect(
      working.commit(change('a'), (scope) => scope.include('tenants/../../etc')),
    ).rejects.toMatchObject({ code: 'TEST.BAD_PATH' });
  });

  it('answers reads issued with a group from the same fetch, after its push', async () => {
    const bare = bareRepo(base);
    const working = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', silent);
    await working.commit(change('a'), () => put(working.workdir, 'tenants/a/ns.yaml', 'a\n'));
    const { result, commands } = await gitCommands(base, () =>
      Promise.all([
        working.commit(change('a'), () => put(working.workdir, 'tenants/a/deploy.yaml', 'd\n')),
        working.committedFiles('tenants/a'),
        working.committedFiles('tenants/none'),
      ]),
    );
    expect(result[1]).toEqual(new Set(['deploy.yaml', 'ns.yaml']));
    expect(result[2]).toEqual(new Set());
    expect(commands.filter((command) => command === 'fetch')).toHaveLength(1);
  });

  it('drops what a process killed in a group left: without its mark the next group syncs in full', async () => {
    const bare = bareRepo(base);
    const working = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', silent);
    await working.commit(change('a'), () => put(working.workdir, 'tenants/a/ns.yaml', 'a\n'));
    // A killed group: its mark taken, a file half-written under a path a later change declares.
    rmSync(join(working.workdir, '.git', 'gitops-view'));
    await put(working.workdir, 'tenants/a/half.yaml', 'half-written\n');
    const replay = new GitWorkingCopy(copyConfig(base, 'wc', bare), 'TEST', silent);
    const outcome = await replay.commit(change('a'), () => put(replay.workdir, 'tenants/a/ns.yaml', 'a\n'));
    expect(outcome.changed).toBe(false);
    expect(existsSync(join(working.workdir, 'tenants/a/half.yaml'))).toBe(false);
    expect(remoteFiles(bare)).toEqual(['tenants/a/ns.yaml']);
  });

  it('commits locally without a remote, moving the branch, and makes no commit when re-run', async () => {
    const working = new GitWorkingCopy(copyConfig(base, 'local', undefined), 'TEST', silent);
    const first = await working.commit(change('a'), () => put(working.workdir, 'tenants/a/ns.yaml', 'a\n'));
    const second = await working.commit(change('b'), () => put(working.workdir, 'tenants/b/ns.yaml', 'b\n'));
    expect(git(working.workdir, 'rev-parse', 'main~1').trim()).toBe(first.revision);
    expect(git(working.workdir, 'rev-parse', 'main').trim()).toBe(second.revision);
    expect(git(working.workdir, 'ls-tree', '-r', '--name-only', 'main').split('\n').filter(Boolean)).toEqual([
      'tenants/a/ns.yaml',
      'tenants/b/ns.yaml',
    ]);
    const again = await working.commit(change('b'), () => put(working.workdir, 'tenants/b/ns.yaml', 'b\n'));
    expect(again).toMatchObject({ changed: false, revision: second.revision });
  });
});
