/**
 * Event store benchmark (not a test): this project's PostgreSQL adapter against @event-driven-io/emmett-postgresql
 * on the same local server, each in its own throw-away database, measured in the same run.
 *
 *   npx ts-node --transpile-only -r tsconfig-paths/register bench/event-store.bench.ts
 *
 * Env: BENCH_PG_URL (admin connection, default postgres://postgres@127.0.0.1:5432/postgres), BENCH_SCALE (default 1).
 * Last line: RESULT event-store append_eps=<n> read_eps=<n> peer_append_eps=<n> peer_read_eps=<n>
 *   append_eps: events/s appending single events with 16 concurrent writers (expected revision checked);
 *   read_eps:   events/s reading every stream in full, 16 concurrent readers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { admin, databaseUrl } from './postgres-admin';
import { getPostgreSQLEventStore, postgreSQLEventStoreConsumer } from '@event-driven-io/emmett-postgresql';
import { createEventStore, type EventStore } from '@app/event-store';

const SCALE = Number(process.env['BENCH_SCALE'] ?? '1');

interface Scenario {
  name: string;
  writers: number;
  batch: number;
  appendsPerWriter: number;
}

const SCENARIOS: Scenario[] = [
  { name: 'single x1', writers: 1, batch: 1, appendsPerWriter: Math.round(600 * SCALE) },
  { name: 'single x16', writers: 16, batch: 1, appendsPerWriter: Math.round(100 * SCALE) },
  { name: 'batch10 x1', writers: 1, batch: 10, appendsPerWriter: Math.round(200 * SCALE) },
  { name: 'batch10 x16', writers: 16, batch: 10, appendsPerWriter: Math.round(40 * SCALE) },
];
const STREAMS_PER_WRITER = 10;
const ROUNDS = 2;

/** The two stores behind one small interface so both run the exact same workload. */
interface Subject {
  name: string;
  append(stream: string, count: number, expected: number): Promise<void>;
  readStream(stream: string): Promise<number>;
  readAll?(): Promise<number>;
  catchUp?(expectedTotal: number): Promise<number>;
  close(): Promise<void>;
}

const payload = (i: number) => ({ tenantId: `t-${i}`, plan: 'pro', quota: { cpu: '2', memory: '4Gi' }, i });

function ourSubject(store: EventStore): Subject {
  return {
    name: 'this adapter',
    async append(stream, count, expected) {
      const events = Array.from({ length: count }, (_, i) => ({
        id: randomUUID(),
        type: 'BenchEvent',
        data: payload(i),
        metadata: { schemaVersion: 1, correlationId: 'bench', actor: 'bench' },
      }));
      await store.append(stream, events, { expectedRevision: expected < 0 ? 'no_stream' : expected });
    },
    async readStream(stream) {
      return (await store.readStream(stream)).length;
    },
    async readAll() {
      let total = 0;
      let after: string | undefined;
      for (;;) {
        const page = await store.readAll({ after, limit: 1000 });
        if (page.length === 0) return total;
        total += page.length;
        after = page[page.length - 1].position;
      }
    },
    async catchUp(expectedTotal) {
      let seen = 0;
      let done: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const subscription = store.subscribe(
        { all: true },
        {
          handler: () => {
            seen += 1;
            if (seen === expectedTotal) done();
          },
        },
      );
      await finished;
      await subscription.stop();
      return seen;
    },
    close: () => store.close(),
  };
}

function peerSubject(url: string): Subject {
  const store = getPostgreSQLEventStore(url);
  return {
    name: 'emmett-postgresql',
    async append(stream, count, expected) {
      const events = Array.from({ length: count }, (_, i) => ({
        type: 'BenchEvent',
        data: payload(i),
        metadata: { correlationId: 'bench', actor: 'bench' },
      }));
      // Emmett counts stream versions from 1 (0 = no stream); ours counts revisions from 0 (-1 = no stream).
      await store.appendToStream(stream, events, { expectedStreamVersion: BigInt(expected + 1) });
    },
    async readStream(stream) {
      return (await store.readStream(stream)).events.length;
    },
    async catchUp(expectedTotal) {
      let seen = 0;
      const consumer = postgreSQLEventStoreConsumer({
        connectionString: url,
        stopWhen: { noMessagesLeft: true },
        pulling: { batchSize: 500 },
      });
      consumer.reactor({
        processorId: `bench-${randomBytes(3).toString('hex')}`,
        startFrom: 'BEGINNING',
        eachMessage: async () => {
          seen += 1;
        },
      });
      await consumer.start();
      await consumer.close();
      if (seen !== expectedTotal) console.log(`  (peer consumer saw ${seen} of ${expectedTotal})`);
      return seen;
    },
    close: () => store.close(),
  };
}

const rate = (count: number, ms: number) => Math.round((count * 1000) / ms);

async function runAppends(
  subject: Subject,
  scenario: Scenario,
  prefix: string,
): Promise<{ eps: number; streams: string[] }> {
  const streams: string[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: scenario.writers }, async (_, w) => {
      const mine = Array.from({ length: STREAMS_PER_WRITER }, (_, s) => `${prefix}-w${w}s${s}`);
      streams.push(...mine);
      const revisions = mine.map(() => -1);
      for (let i = 0; i < scenario.appendsPerWriter; i += 1) {
        const s = i % mine.length;
        await subject.append(mine[s], scenario.batch, revisions[s]);
        revisions[s] += scenario.batch;
      }
    }),
  );
  const elapsed = performance.now() - started;
  return { eps: rate(scenario.writers * scenario.appendsPerWriter * scenario.batch, elapsed), streams };
}

async function runReads(subject: Subject, streams: string[]): Promise<number> {
  const queue = [...streams];
  let total = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let stream = queue.pop(); stream !== undefined; stream = queue.pop())
        total += await subject.readStream(stream);
    }),
  );
  return rate(total, performance.now() - started);
}

type Report = Record<string, Record<string, number>>;

function record(report: Report, subject: Subject, key: string, value: number): void {
  const row = (report[subject.name] ??= {});
  // Best of the rounds: the machine is shared, so the best run is the least disturbed one.
  row[key] = Math.max(row[key] ?? 0, value);
}

/**
 * Both subjects run each step back to back, alternating who goes first, for ROUNDS rounds; noise from other
 * processes on the machine then hits both alike.
 */
async function benchmark(subjects: Subject[]): Promise<Report> {
  const report: Report = {};
  const streams = new Map<Subject, string[]>(subjects.map((subject) => [subject, []]));
  const totals = new Map<Subject, number>(subjects.map((subject) => [subject, 1]));
  for (const subject of subjects) await subject.append(`warm-${randomBytes(3).toString('hex')}`, 1, -1);
  for (let round = 0; round < ROUNDS; round += 1) {
    const ordered = round % 2 === 0 ? subjects : [...subjects].reverse();
    for (const [index, scenario] of SCENARIOS.entries()) {
      for (const subject of ordered) {
        const result = await runAppends(subject, scenario, `bench${round}x${index}`);
        streams.get(subject)?.push(...result.streams);
        totals.set(
          subject,
          (totals.get(subject) ?? 0) + scenario.writers * scenario.appendsPerWriter * scenario.batch,
        );
        record(report, subject, `append ${scenario.name} (events/s)`, result.eps);
      }
    }
    for (const subject of ordered) {
      record(
        report,
        subject,
        'read streams x16 (events/s)',
        await runReads(subject, streams.get(subject) ?? []),
      );
      if (subject.readAll) {
        const started = performance.now();
        const count = await subject.readAll();
        record(report, subject, 'readAll global order (events/s)', rate(count, performance.now() - started));
      }
    }
  }
  for (const subject of subjects) {
    if (!subject.catchUp) continue;
    try {
      const started = performance.now();
      const count = await subject.catchUp(totals.get(subject) ?? 0);
      record(report, subject, 'catch-up subscription (events/s)', rate(count, performance.now() - started));
    } catch (error) {
      console.log(
        `  catch-up failed for ${subject.name}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return report;
}

async function main(): Promise<void> {
  const suffix = randomBytes(4).toString('hex');
  const ours = `es_bench_${suffix}`;
  const peer = `es_bench_peer_${suffix}`;
  await admin(async (client) => {
    await client.query(`CREATE DATABASE ${ours}`);
    await client.query(`CREATE DATABASE ${peer}`);
  });
  let report: Report = {};
  try {
    const store = await createEventStore(databaseUrl(ours), {
      schema: 'event_store',
      applicationName: 'es-bench',
    });
    const subjects = [ourSubject(store), peerSubject(databaseUrl(peer))];
    try {
      console.log(
        `benchmarking ${subjects.map((subject) => subject.name).join(' vs ')}, ${ROUNDS} rounds ...`,
      );
      report = await benchmark(subjects);
    } finally {
      await Promise.all(subjects.map((subject) => subject.close()));
    }
  } finally {
    await admin(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${ours} WITH (FORCE)`);
      await client.query(`DROP DATABASE IF EXISTS ${peer} WITH (FORCE)`);
    });
  }
  console.table(report);
  const mine = report['this adapter'];
  const theirs = report['emmett-postgresql'];
  console.log(
    `RESULT event-store append_eps=${mine['append single x16 (events/s)']} read_eps=${mine['read streams x16 (events/s)']} ` +
      `peer_append_eps=${theirs['append single x16 (events/s)']} peer_read_eps=${theirs['read streams x16 (events/s)']}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
