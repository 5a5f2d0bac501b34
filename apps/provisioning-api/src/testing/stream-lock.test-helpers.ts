import { Client } from 'pg';
import type request from 'supertest';
import type { TestApi } from './test-api.test-helpers';

/** Polls `probe` every 50 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Holds the lock every append to `stream` takes first (libs/event-store migrations.ts: an advisory lock on a
 * bigint key, high half classid, low half objid) while `send` runs twice: the first request waits on it, in
 * flight, when the retry arrives; the retry either answers at once or waits behind the same lock (then it was
 * not told of the first). Both answers once the lock is released.
 */
export async function whileStreamLocked(
  api: TestApi,
  stream: string,
  send: () => request.Test,
): Promise<{ first: request.Response; retry: request.Response }> {
  const holder = new Client({ connectionString: api.databaseUrl });
  await holder.connect();
  const lockName = `${api.eventSchema}_events:${stream}`;
  const waiting = async () => {
    const { rows } = await holder.query<{ count: string }>(
      `SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
          AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`,
      [lockName],
    );
    return Number(rows[0].count);
  };
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [lockName]);
    const first = send().then((r) => r);
    await until(async () => (await waiting()) >= 1, 'the first request waiting on the stream');
    let answered: request.Response | undefined;
    const retry = send().then((r) => (answered = r));
    await until(
      async () => answered !== undefined || (await waiting()) >= 2,
      'the retry answered or waiting',
    );
    await holder.query('COMMIT');
    const [firstAnswer, retryAnswer] = await Promise.all([first, retry]);
    return { first: firstAnswer, retry: retryAnswer };
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    await holder.end();
  }
}
