import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/** Serialises work inside one process (a promise chain), in front of the cross-process file lock. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * How old an empty (or garbled) lock file must be to count as left behind: its owner writes its identity
 * right after creating it, so a younger one may belong to a process that is about to.
 */
const EMPTY_LOCK_GRACE_MS = 5000;

/**
 * This life of this process, unique across restarts: a process restarted with the same pid (PID 1 in a
 * container) gets a new token, so its previous life's lock is told apart from one it holds now.
 */
const TOKEN = randomBytes(8).toString('hex');

/** Lock files this process holds now. */
const held = new Set<string>();

/** What we write into a lock file: `host:pid:token`. The host tells replicas in separate containers apart. */
function ourIdentity(): string {
  return `${hostname()}:${process.pid}:${TOKEN}`;
}

interface Owner {
  /** Undefined in the old format (a bare pid), which is read as written on this host. */
  host?: string;
  pid: number;
  /** Undefined in the old format. */
  token?: string;
}

/** `host:pid:token` (the host may itself hold colons), or the old bare pid; undefined for anything else. */
function parseOwner(content: string): Owner | undefined {
  const match = /^(\d+)$/.exec(content) ?? /^(.+):(\d+):([0-9a-f]+)$/.exec(content);
  if (!match) return undefined;
  const [host, pidText, token] = match.length === 2 ? [undefined, match[1], undefined] : match.slice(1);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { host, pid, token };
}

/** The owner as named in the timeout error. */
function describeOwner(content: string): string {
  const owner = parseOwner(content);
  if (!owner) return `an unknown owner (${JSON.stringify(content)})`;
  return owner.host === undefined ? `pid ${owner.pid}` : `pid ${owner.pid} on host ${owner.host}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a lock file we do not hold was left by an owner that is gone. Only a lock written on this host
 * (same hostname) can be judged by its pid: there a dead pid is gone, and our own pid with another token is
 * a previous life of this process (in a container node is PID 1 before and after a restart). A lock from
 * another host is never stale by its pid: replicas in separate containers commonly all run as PID 1, and
 * another host's pid says nothing about our process table; it is waited for like any live lock.
 * The old format (a bare pid, no host or token) is read as written on this host, and our own pid in it as
 * a previous life, as before. No owner at all is one killed between creating the file and writing its
 * identity, once the file is not recent.
 */
async function isStale(path: string, content: string): Promise<boolean> {
  const owner = parseOwner(content);
  if (owner) {
    if (owner.host !== undefined && owner.host !== hostname()) return false;
    if (owner.pid === process.pid) return owner.token !== TOKEN;
    return !processAlive(owner.pid);
  }
  const modified = await stat(path).then(
    (stats) => stats.mtimeMs,
    () => undefined,
  );
  return modified !== undefined && Date.now() - modified > EMPTY_LOCK_GRACE_MS;
}

/**
 * An exclusive lock file (O_EXCL) holding the owner's identity (`host:pid:token`), so two service replicas
 * sharing a working copy never interleave. A lock left by a dead owner on this host (see `isStale`) is
 * taken over; one from another host is waited for until it is released or `timeoutMs` runs out.
 */
export async function withFileLock<T>(path: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const key = resolve(path);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!held.has(key) && (await tryAcquire(path, key))) break;
    const owner = held.has(key) ? ourIdentity() : await readOwner(path);
    // A takeover that did not happen (another waiter's is under way) waits like a live lock.
    if (!held.has(key) && (await isStale(path, owner)) && (await takeOver(path, owner))) continue;
    if (Date.now() > deadline) {
      const guard = existsSync(`${path}.takeover`) ? ` (a takeover guard ${path}.takeover is in place)` : '';
      throw new Error(`lock ${path} held by ${describeOwner(owner)} for over ${timeoutMs} ms${guard}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    return await work();
  } finally {
    held.delete(key);
    await unlink(path).catch(() => undefined);
  }
}

/**
 * Removes a lock judged left behind (its content `judged`), unless it changed since it was read; true when it
 * is gone. Waiters that all saw the same dead owner would otherwise each remove "the" stale lock, the later
 * ones removing the lock the first had just taken, and several would hold it at once (the int spec shows it
 * with eight processes). Takeovers are therefore serialised by a guard file, held for the few system calls of
 * one takeover, under which the lock is read and judged again before it goes. What remains: a guard whose
 * owner dies inside those calls while two others wait can, in turn, be removed twice.
 */
async function takeOver(path: string, judged: string): Promise<boolean> {
  const guard = `${path}.takeover`;
  if (!(await createWithIdentity(guard))) {
    // Another waiter is taking over (the caller retries). A guard whose owner died mid-takeover is removed,
    // by an atomic rename that proves it was still that guard.
    const owner = await readOwner(guard);
    if (await isStaleGuard(guard, owner)) await removeIfStill(guard, owner, isStaleGuard);
    return false;
  }
  try {
    const current = await readOwner(path);
    if (current !== judged || !(await isStale(path, current))) return false;
    await unlink(path).catch(() => undefined);
    return true;
  } finally {
    // Ours unless it was judged left behind meanwhile (this process stalled for seconds) and taken over.
    if ((await readOwner(guard)) === ourIdentity()) await unlink(guard).catch(() => undefined);
  }
}

/**
 * A guard is held for a few system calls: one left by a dead owner on this host, or older than the grace
 * period whatever its host (a guard from another host would otherwise block every takeover here for ever).
 */
async function isStaleGuard(guard: string, content: string): Promise<boolean> {
  if (await isStale(guard, content)) return true;
  const modified = await stat(guard).then(
    (stats) => stats.mtimeMs,
    () => undefined,
  );
  return modified !== undefined && Date.now() - modified > EMPTY_LOCK_GRACE_MS;
}

/**
 * Removes `path` only if it still holds `content`: moved aside atomically first, and put back (hard link, which
 * fails rather than replace) when what was moved is another, newer file.
 */
async function removeIfStill(
  path: string,
  content: string,
  stale: (path: string, content: string) => Promise<boolean>,
): Promise<void> {
  const aside = `${path}.stale-${TOKEN}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if ((await readOwner(aside)) === content && (await stale(aside, content))) return;
    await link(aside, path).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/**
 * Creates `path` exclusively with our identity; false when it exists already. `onCreated` runs between the
 * creation and the identity's write; a failed write leaves no empty file behind for the next owner to wait out.
 */
async function createWithIdentity(
  path: string,
  onCreated?: () => void,
  onFailed?: () => void,
): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  onCreated?.();
  try {
    await handle.writeFile(ourIdentity());
    await handle.close();
    return true;
  } catch (error) {
    onFailed?.();
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
}

/** Creates the lock file with our identity; false when it exists already. */
function tryAcquire(path: string, key: string): Promise<boolean> {
  // Marked held before the identity is written: a caller of this process must not take it for a leftover.
  return createWithIdentity(
    path,
    () => held.add(key),
    () => held.delete(key),
  );
}

async function readOwner(path: string): Promise<string> {
  return (await readFile(path, 'utf8').catch(() => '')).trim();
}
