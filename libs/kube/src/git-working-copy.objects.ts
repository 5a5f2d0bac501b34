import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import type { CatFileBatch } from './git-working-copy.process';

const deflateAsync = promisify(deflate);

/** A file as git stores it: its mode and its blob. */
export interface FileState {
  mode: '100644' | '100755' | '120000';
  oid: string;
}

/** A change set: repository path → the file's new state, or null for a file removed. */
export type FileChanges = Map<string, FileState | null>;

interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

const TREE_MODE = '40000';
/** Trees kept parsed, by object id (content-addressed, so never stale): the big `tenants` tree among them. */
const TREE_CACHE_SIZE = 128;

export function sameState(a: FileState | null | undefined, b: FileState | null | undefined): boolean {
  return (a ?? undefined)?.oid === (b ?? undefined)?.oid && (a ?? undefined)?.mode === (b ?? undefined)?.mode;
}

/**
 * The repository's objects, read and written in-process: blobs, trees and commits are hashed and written as
 * loose objects (what `git hash-object -w`, `mktree` and `commit-tree` write), trees are read through the
 * group's one `cat-file --batch`. A new commit's tree is the base tree with only the directories on the
 * changed paths rebuilt, so building it costs what changed, not the size of the repository: no index to
 * read, refresh and rewrite, no working tree to walk.
 */
export class ObjectStore {
  private readonly trees = new Map<string, TreeEntry[]>();
  private readonly algorithm: 'sha1' | 'sha256';

  constructor(
    private readonly gitDir: string,
    private readonly batch: () => CatFileBatch,
    objectFormat: string,
  ) {
    this.algorithm = objectFormat === 'sha256' ? 'sha256' : 'sha1';
  }

  /** A blob's id, without writing it. */
  blobId(content: Buffer): string {
    return this.hash('blob', content);
  }

  async writeBlob(content: Buffer): Promise<string> {
    return this.write('blob', content);
  }

  /** A blob's content (a file another writer's commit changed, or one to restore). */
  async readBlob(oid: string): Promise<Buffer> {
    return (await this.read(oid, 'blob')).content;
  }

  /** The tree a commit points at. */
  async commitTree(commit: string): Promise<string> {
    const { content } = await this.read(commit, 'commit');
    const match = /^tree ([0-9a-f]{40,64})\n/.exec(content.toString('utf8'));
    if (!match) throw new Error(`commit ${commit} has no tree`);
    return match[1];
  }

  async writeCommit(commit: {
    tree: string;
    parent?: string;
    author: string;
    message: string;
  }): Promise<string> {
    const now = new Date();
    const offset = -now.getTimezoneOffset();
    const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}${String(Math.abs(offset) % 60).padStart(2, '0')}`;
    const stamp = `${commit.author} ${Math.floor(now.getTime() / 1000)} ${zone}`;
    const text =
      `tree ${commit.tree}\n${commit.parent ? `parent ${commit.parent}\n` : ''}` +
      `author ${stamp}\ncommitter ${stamp}\n\n${commit.message.replace(/\n*$/, '\n')}`;
    return this.write('commit', Buffer.from(text, 'utf8'));
  }

  /**
   * The tree of `base` (undefined: empty) with `changes` applied; directories left empty disappear, as in git.
   * Only the trees on the changed paths are read (cached) and written.
   */
  async buildTree(base: string | undefined, changes: FileChanges): Promise<string> {
    return (await this.rebuild(base, changes)) ?? this.write('tree', Buffer.alloc(0));
  }

  /** The files under `dir` in `tree`, relative to `dir`. */
  async listFiles(tree: string, dir: string): Promise<string[]> {
    let current: string | undefined = tree;
    for (const segment of dir.split('/').filter(Boolean)) {
      const entry: TreeEntry | undefined = (await this.readTree(current)).find(
        (candidate) => candidate.name === segment,
      );
      current = entry?.mode === TREE_MODE ? entry.oid : undefined;
      if (!current) return [];
    }
    const found: string[] = [];
    const walk = async (oid: string, prefix: string) => {
      for (const entry of await this.readTree(oid)) {
        if (entry.mode === TREE_MODE) await walk(entry.oid, `${prefix}${entry.name}/`);
        else found.push(`${prefix}${entry.name}`);
      }
    };
    await walk(current, '');
    return found;
  }

  private async rebuild(base: string | undefined, changes: FileChanges): Promise<string | undefined> {
    const entries = new Map((base ? await this.readTree(base) : []).map((entry) => [entry.name, entry]));
    const direct = new Map<string, FileState | null>();
    const nested = new Map<string, FileChanges>();
    for (const [path, state] of changes) {
      const slash = path.indexOf('/');
      if (slash < 0) {
        direct.set(path, state);
        continue;
      }
      const head = path.slice(0, slash);
      const below = nested.get(head) ?? new Map<string, FileState | null>();
      below.set(path.slice(slash + 1), state);
      nested.set(head, below);
    }
    // Removals first, then subtrees, then files: a file replaced by a directory (or the reverse) ends right.
    for (const [name, state] of direct) if (!state) entries.delete(name);
    for (const [name, below] of nested) {
      const existing = entries.get(name);
      const subtree = await this.rebuild(existing?.mode === TREE_MODE ? existing.oid : undefined, below);
      if (subtree) entries.set(name, { mode: TREE_MODE, name, oid: subtree });
      else if (existing?.mode === TREE_MODE) entries.delete(name);
    }
    for (const [name, state] of direct)
      if (state) entries.set(name, { mode: state.mode, name, oid: state.oid });
    if (entries.size === 0) return undefined;
    const sorted = sortEntries([...entries.values()]);
    const body = Buffer.concat(
      sorted.flatMap((entry) => [
        Buffer.from(`${entry.mode} ${entry.name}\0`, 'utf8'),
        Buffer.from(entry.oid, 'hex'),
      ]),
    );
    const oid = await this.write('tree', body);
    this.remember(oid, sorted);
    return oid;
  }

  private async readTree(oid: string): Promise<TreeEntry[]> {
    const cached = this.trees.get(oid);
    if (cached) return cached;
    const { content } = await this.read(oid, 'tree');
    const width = this.algorithm === 'sha256' ? 32 : 20;
    const entries: TreeEntry[] = [];
    for (let at = 0; at < content.length;) {
      const space = content.indexOf(32, at);
      const nul = content.indexOf(0, space);
      if (space < 0 || nul < 0 || nul + 1 + width > content.length) throw new Error(`tree ${oid} is corrupt`);
      entries.push({
        mode: content.toString('utf8', at, space),
        name: content.toString('utf8', space + 1, nul),
        oid: content.toString('hex', nul + 1, nul + 1 + width),
      });
      at = nul + 1 + width;
    }
    this.remember(oid, entries);
    return entries;
  }

  private remember(oid: string, entries: TreeEntry[]): void {
    this.trees.delete(oid);
    this.trees.set(oid, entries);
    if (this.trees.size > TREE_CACHE_SIZE) this.trees.delete(this.trees.keys().next().value as string);
  }

  private async read(oid: string, type: string): Promise<{ content: Buffer }> {
    const object = await this.batch().read(oid);
    if (object.type !== type) throw new Error(`object ${oid} is a ${object.type}, not a ${type}`);
    return object;
  }

  private hash(type: string, content: Buffer): string {
    return createHash(this.algorithm).update(`${type} ${content.length}\0`).update(content).digest('hex');
  }

  /** A loose object, written once (temporary file, then rename: a reader never sees half of it). */
  private async write(type: string, content: Buffer): Promise<string> {
    const oid = this.hash(type, content);
    const dir = join(this.gitDir, 'objects', oid.slice(0, 2));
    const path = join(dir, oid.slice(2));
    if (existsSync(path)) return oid;
    await mkdir(dir, { recursive: true });
    const compressed = await deflateAsync(
      Buffer.concat([Buffer.from(`${type} ${content.length}\0`), content]),
    );
    const temporary = join(dir, `tmp_obj_${randomBytes(6).toString('hex')}`);
    await writeFile(temporary, compressed, { mode: 0o444 });
    try {
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    return oid;
  }
}

/** Git's tree order: names as bytes, a directory's name compared as if it ended with `/`. */
function sortEntries(entries: TreeEntry[]): TreeEntry[] {
  return entries
    .map((entry) => ({ entry, key: Buffer.from(entry.mode === TREE_MODE ? `${entry.name}/` : entry.name) }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ entry }) => entry);
}
