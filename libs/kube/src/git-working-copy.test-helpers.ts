import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { GitOpsConfig } from './git-working-copy';

/** Helpers of the working-copy suites: real git, a bare repository in a test's directory as the remote. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}

export function bareRepo(base: string): string {
  const bare = join(base, `remote-${randomBytes(3).toString('hex')}.git`);
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch', 'main', bare]);
  return bare;
}

export function copyConfig(
  base: string,
  name: string,
  remote: string | undefined,
  overrides: Partial<GitOpsConfig> = {},
): GitOpsConfig {
  return {
    workdir: join(base, name),
    remote,
    branch: 'main',
    authorName: 'provisioning-test',
    authorEmail: 'provisioning@collectverything.com',
    pushAttempts: 3,
    lockTimeoutMs: 30000,
    ...overrides,
  };
}

export function remoteFiles(bare: string): string[] {
  return git(bare, 'ls-tree', '-r', '--name-only', 'main').split('\n').filter(Boolean);
}

export function commitCount(bare: string): number {
  return Number(git(bare, 'rev-list', '--count', 'main').trim());
}

/** The working tree's files and contents (without `.git`). */
export function workingTree(workdir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(workdir, { recursive: true, withFileTypes: true })) {
    const path = relative(workdir, join(entry.parentPath, entry.name));
    if (entry.isFile() && !path.startsWith('.git')) files[path] = readFileSync(join(workdir, path), 'utf8');
  }
  return files;
}

/** The remote branch's files and contents. */
export function committedTree(bare: string): Record<string, string> {
  return Object.fromEntries(remoteFiles(bare).map((path) => [path, git(bare, 'show', `main:${path}`)]));
}

export async function put(workdir: string, path: string, content: string): Promise<void> {
  await mkdir(dirname(join(workdir, path)), { recursive: true });
  await writeFile(join(workdir, path), content);
}

/** Runs `work` with `git` on the PATH logging each of its subcommands (the first argument not an option). */
export async function gitCommands<T>(
  base: string,
  work: () => Promise<T>,
): Promise<{ result: T; commands: string[] }> {
  const bin = join(base, 'bin');
  const log = join(base, 'git-commands.log');
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  await mkdir(bin, { recursive: true });
  writeFileSync(
    join(bin, 'git'),
    `#!/bin/sh\nfor a in "$@"; do case "$a" in -c) skip=1;; -*) ;; *) if [ -n "$skip" ]; then skip=; else echo "$a" >> '${log}'; break; fi;; esac; done\nexec '${realGit}' "$@"\n`,
  );
  chmodSync(join(bin, 'git'), 0o755);
  writeFileSync(log, '');
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path ?? ''}`;
  try {
    const result = await work();
    return { result, commands: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  } finally {
    process.env.PATH = path;
  }
}
