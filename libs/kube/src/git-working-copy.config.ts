import { StepError, retryable } from '@app/platform';

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
  /**
   * The repository paths (files or directories, relative, `/`-separated) the change reads and writes. Only
   * these are looked at, before and after the change, so its cost does not grow with the repository; another
   * writer's commit that touches none of them does not make the change run again (it would read and write the
   * same). Undefined: the whole tree, read in full around the change.
   */
  paths?: readonly string[];
}

export interface CommitOutcome<T> {
  /** Whether a commit was made (false when the change left the tree as it was). */
  changed: boolean;
  /** The commit the branch points at after the change. */
  revision?: string;
  /** What the last run of the change returned. */
  result: T;
}

/**
 * One change: `<reason> tenant <id>` and its trailers, as before grouping. Several: a subject counting them,
 * one line per change, and the trailers of every change in the same order, so `git log --grep` and
 * `%(trailers)` lead an auditor from any correlation id to the commit.
 */
export function commitMessage(requests: readonly CommitRequest[]): string {
  const trailers = requests
    .map((request) => `Correlation-Id: ${request.correlationId}\nTenant: ${request.tenantId}\n`)
    .join('');
  const [first] = requests;
  if (requests.length === 1) return `${first.reason} tenant ${first.tenantId}\n\n${trailers}`;
  const lines = requests.map(
    (request) => `- ${request.reason} tenant ${request.tenantId} (${request.correlationId})\n`,
  );
  return `${requests.length} changes: ${first.reason} tenant ${first.tenantId} and others\n\n${lines.join('')}\n${trailers}`;
}

export function toSyncError(error: unknown, errorDomain: string): StepError {
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
