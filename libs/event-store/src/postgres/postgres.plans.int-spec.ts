import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createEventStore } from '../factory';
import type { EventStore } from '../types';
import { EventStatements } from './postgres-statements';
import {
  dropSchema,
  ensureTestDatabase,
  TEST_DATABASE_URL,
  uniqueSchema,
} from './test-database.test-helpers';

/**
 * What an idle subscription runs on every poll must cost the same with a thousand tenants as with one: an index
 * probe, never a scan of the whole events table. The table is filled and never analyzed (as a store that grows
 * between two autovacuum runs is), which is when the planner trusts its defaults. A sequential scan here made
 * every poll of every subscription read the whole store: measured in bench:fleet as 12,000 scans reading
 * 58 million rows in 80 seconds at 200 tenants, the cost of a tenant growing with the fleet.
 */
const schema = uniqueSchema('es_plans');
let store: EventStore;
let pool: Pool;
const statements = new EventStatements(schema);

beforeAll(async () => {
  await ensureTestDatabase();
  store = await createEventStore(TEST_DATABASE_URL, { schema });
  pool = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  for (let tenant = 0; tenant < 150; tenant += 1) {
    await store.append(
      `tenant-plan${tenant}`,
      Array.from({ length: 20 }, (_, n) => ({ id: randomUUID(), type: 'StepSucceeded', data: { n } })),
      { expectedRevision: 'no_stream' },
    );
  }
});

afterAll(async () => {
  await store?.close();
  await pool?.end();
  await dropSchema(TEST_DATABASE_URL, schema);
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function scannedTables(node: PlanNode): string[] {
  const own = node['Node Type'] === 'Seq Scan' && node['Relation Name'] ? [node['Relation Name']] : [];
  return [...own, ...(node.Plans ?? []).flatMap(scannedTables)];
}

/** The plan PostgreSQL keeps for a prepared statement (a generic plan: what every later execution runs). */
async function genericPlan(text: string, types: string[] = [], values: unknown[] = []): Promise<PlanNode> {
  const client = await pool.connect();
  const name = `plan_${randomUUID().replace(/-/g, '')}`;
  try {
    await client.query('SET plan_cache_mode = force_generic_plan');
    await client.query(`PREPARE ${name}${types.length > 0 ? ` (${types.join(', ')})` : ''} AS ${text}`);
    const literals = values.map((value) => (value === null ? 'NULL' : client.escapeLiteral(String(value))));
    const result = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) EXECUTE ${name}${literals.length > 0 ? ` (${literals.join(', ')})` : ''}`,
    );
    return result.rows[0]['QUERY PLAN'][0].Plan;
  } finally {
    await client.query(`DEALLOCATE ALL`);
    await client.query('RESET plan_cache_mode');
    client.release();
  }
}

describe('PostgreSQL event store: what a poll runs stays an index probe as the store grows', () => {
  it('has 3,000 events and no statistics yet (the state the planner is weakest in)', async () => {
    const { rows } = await pool.query<{ reltuples: number }>(
      `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`,
      [`"${schema}".events`],
    );
    expect(rows[0].reltuples).toBeLessThan(0);
  });

  it('checks for events held back by an open transaction without scanning the table', async () => {
    expect(scannedTables(await genericPlan(statements.pending().text))).toEqual([]);
  });

  it('finds the last visible event without scanning the table', async () => {
    expect(scannedTables(await genericPlan(statements.lastVisible().text))).toEqual([]);
  });

  it('reads after a checkpoint (a category, a prefix, everything) without scanning the table', async () => {
    for (const filter of [{ category: 'tenant' }, { streamPrefix: 'tenant-plan1' }, undefined]) {
      const query = statements.readAll(10n, 10n, 100, filter);
      const types = ['xid8', 'bigint', 'bigint', ...(filter ? ['text'] : [])];
      const scanned = scannedTables(await genericPlan(query.text, types, query.values ?? []));
      expect({ filter, scanned }).toEqual({ filter, scanned: [] });
    }
  });
});
