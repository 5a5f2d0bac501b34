import { permanent } from '@app/platform';
import { lstat, mkdir, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { FileChanges, FileState, ObjectStore } from './git-working-copy.objects';
import { sameState } from './git-working-copy.objects';

/**
 * What a change may touch, handed to its `mutate`: a change that finds, while it runs, that it must read or
 * write a path it did not declare (a migration writing other tenants' files) includes it first.
 */
export interface ChangeScope {
  /** Adds a repository path (file or directory, relative, `/`-separated) to the change; before touching it. */
  include(path: string): Promise<void>;
}

/** Relative, `/`-separated, no empty, `.` or `..` segment, nothing under `.git`, no glob or shell character. */
const SAFE_REPO_PATH = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

export function assertRepoPath(path: string, errorDomain: string): void {
  if (!SAFE_REPO_PATH.test(path)) {
    throw permanent(
      `${errorDomain}.BAD_PATH`,
      `a change declared the path ${JSON.stringify(path.slice(0, 120))}, not a safe repository path`,
    );
  }
}

/** Whether a changed file lies in (or on the way to) a scope root; the root `''` is the whole tree. */
export function inScope(path: string, roots: readonly string[]): boolean {
  return roots.some(
    (root) => root === '' || path === root || path.startsWith(`${root}/`) || root.startsWith(`${path}/`),
  );
}

/** What a capture of the working tree found: each file's state (and content, when asked), each directory. */
interface Capture {
  files: Map<string, FileState>;
  dirs: Set<string>;
}

const READ_CONCURRENCY = 32;

/**
 * One change's view of the working tree under its scope: the files as they were before it ran, hashed as git
 * would. After the change, the files that differ are its changes (their new content written as blobs at
 * once, for the group's commit); if it throws, the same comparison tells what to put back. Nothing outside
 * the scope is read: a change declaring `tenants/<id>` costs what that tenant's directory holds, whatever the
 * size of the fleet. Declaring nothing puts the whole tree in scope (what a one-off migration needs).
 */
export class ScopedChange implements ChangeScope {
  readonly roots: string[] = [];
  private readonly before = new Map<string, FileState>();
  private readonly dirsBefore = new Set<string>();

  private constructor(
    private readonly workdir: string,
    private readonly store: ObjectStore,
    private readonly errorDomain: string,
  ) {}

  static async open(
    workdir: string,
    store: ObjectStore,
    paths: readonly string[] | undefined,
    errorDomain: string,
  ): Promise<ScopedChange> {
    const scope = new ScopedChange(workdir, store, errorDomain);
    for (const path of paths ?? ['']) await scope.include(path);
    return scope;
  }

  async include(path: string): Promise<void> {
    if (path !== '') assertRepoPath(path, this.errorDomain);
    if (this.roots.some((root) => root === '' || path === root || path.startsWith(`${root}/`))) return;
    const captured = await this.capture([path]);
    // What an earlier root holds was captured before the change ran, and may have been written since.
    const earlier = [...this.roots];
    for (const [file, state] of captured.files) if (!inRoots(file, earlier)) this.before.set(file, state);
    for (const dir of captured.dirs) if (!inRoots(dir, earlier)) this.dirsBefore.add(dir);
    this.roots.push(path);
  }

  /** The state of a file before the change ran (undefined: absent). */
  stateBefore(path: string): FileState | undefined {
    return this.before.get(path);
  }

  /** The files the change added, modified or removed; the new contents are written as blobs. */
  async changes(): Promise<FileChanges> {
    const now = await this.capture(this.roots, this.before);
    const changes: FileChanges = new Map();
    for (const [path, state] of now.files)
      if (!sameState(state, this.before.get(path))) changes.set(path, state);
    for (const path of this.before.keys()) if (!now.files.has(path)) changes.set(path, null);
    return changes;
  }

  /** Puts back what the change wrote, removed or created under its scope. */
  async restore(): Promise<void> {
    const now = await this.capture(this.roots);
    for (const path of now.files.keys()) {
      if (!this.before.has(path)) await rm(this.absolute(path), { force: true });
    }
    const created = [...now.dirs].filter((dir) => !this.dirsBefore.has(dir));
    for (const dir of created.sort((a, b) => b.length - a.length)) {
      await rm(this.absolute(dir), { recursive: true, force: true });
    }
    for (const [path, state] of this.before) {
      if (sameState(state, now.files.get(path))) continue;
      const target = this.absolute(path);
      await rm(target, { recursive: true, force: true });
      await mkdir(dirname(target), { recursive: true });
      const content = await this.store.readBlob(state.oid);
      if (state.mode === '120000') await symlink(content.toString('utf8'), target);
      else await writeFile(target, content, { mode: state.mode === '100755' ? 0o755 : 0o644 });
    }
  }

  private absolute(path: string): string {
    return path === '' ? this.workdir : join(this.workdir, ...path.split('/'));
  }

  /**
   * The files and directories under `roots` (never `.git`). With `writeUnlike`, a file whose state differs from
   * the one there is written as a blob on the way: it is a change the group's commit needs.
   */
  private async capture(roots: readonly string[], writeUnlike?: Map<string, FileState>): Promise<Capture> {
    const found: Capture = { files: new Map(), dirs: new Set() };
    const files: string[] = [];
    for (const root of roots) {
      const info = await lstat(this.absolute(root)).catch(() => undefined);
      if (!info) continue;
      if (!info.isDirectory()) {
        files.push(root);
        continue;
      }
      if (root !== '') found.dirs.add(root);
      const entries = await readdir(this.absolute(root), { recursive: true, withFileTypes: true });
      for (const entry of entries) {
        const path = relative(this.workdir, join(entry.parentPath, entry.name)).split(sep).join('/');
        if (path === '.git' || path.startsWith('.git/')) continue;
        if (entry.isDirectory()) found.dirs.add(path);
        else files.push(path);
      }
    }
    for (let at = 0; at < files.length; at += READ_CONCURRENCY) {
      await Promise.all(
        files.slice(at, at + READ_CONCURRENCY).map(async (path) => {
          const state = await this.fileState(path, writeUnlike);
          if (state) found.files.set(path, state);
        }),
      );
    }
    return found;
  }

  private async fileState(
    path: string,
    writeUnlike: Map<string, FileState> | undefined,
  ): Promise<FileState | undefined> {
    const target = this.absolute(path);
    const info = await lstat(target).catch(() => undefined);
    if (!info || info.isDirectory()) return undefined;
    const symbolic = info.isSymbolicLink();
    const content = symbolic ? Buffer.from(await readlink(target), 'utf8') : await readFile(target);
    const mode: FileState['mode'] = symbolic ? '120000' : info.mode & 0o100 ? '100755' : '100644';
    const state = { mode, oid: this.store.blobId(content) };
    if (writeUnlike && !sameState(state, writeUnlike.get(path))) await this.store.writeBlob(content);
    return state;
  }
}

function inRoots(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => root === '' || path === root || path.startsWith(`${root}/`));
}
