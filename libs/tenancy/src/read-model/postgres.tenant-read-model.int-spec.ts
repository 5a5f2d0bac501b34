import { randomBytes } from 'node:crypto';
import { buildMetadata, deterministicId, tenantStream, type TenantProfile } from '@app/contracts';
import { createEventStore, type EventStore, type RecordedEvent } from '@app/event-store';
import { readAllWhenVisible } from '@app/testing';
import { Client } from 'pg';
import pino from 'pino';
import { MemoryTenantReadModel } from './memory.tenant-read-model';
import { PostgresTenantReadModel } from './postgres.tenant-read-model';
import type { TenantReadModel } from './tenant-read-model';

const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
if (!new URL(DATABASE_URL).pathname.endsWith('_test'))
  throw new Error('refusing a database not named *_test');

const suffix = randomBytes(4).toString('hex');
const EVENT_SCHEMA = `pa_rmes_${suffix}`;
const READ_SCHEMA = `pa_rmrm_${suffix}`;

const tenant = (tenantId: string, companyName: string): TenantProfile => ({
  tenantId,
  companyName,
  adminEmail: 'a@b.com',
  billingEmail: 'a@b.com',
  tier: 'standard',
  region: 'eu-west',
  domain: `${tenantId.slice(0, -7)}.collectverything.com`,
  subscriptionId: `sub_${tenantId.slice(-6)}`,
  plan: { price: 1, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-01-15T10:00:00.000Z',
});

let store: EventStore;
let events: RecordedEvent[];

beforeAll(async () => {
  store = await createEventStore(DATABASE_URL, { schema: EVENT_SCHEMA, logger: pino({ level: 'silent' }) });
  for (const [id, name] of [
    ['alpha-aaaaaa', 'Alpha 100% Co'],
    ['beta-bbbbbb', 'Beta Co'],
  ] as const) {
    const meta = buildMetadata(
      { tenantId: id, correlationId: 'c', actor: 'test' },
      deterministicId(id),
      new Date(),
    );
    await store.append(
      tenantStream(id),
      [
        {
          id: deterministicId('req', id),
          type: 'TenantRequested',
          data: { tenant: tenant(id, name), source: 'bus' },
          metadata: meta,
        },
      ],
      { expectedRevision: 'no_stream' },
    );
  }
  const meta = buildMetadata(
    { tenantId: 'alpha-aaaaaa', correlationId: 'c', actor: 'test' },
    deterministicId('a'),
    new Date(),
  );
  await store.append(
    tenantStream('alpha-aaaaaa'),
    [
      {
        id: deterministicId('act', 'alpha'),
        type: 'TenantActivated',
        data: { activatedAt: meta.occurredAt },
        metadata: meta,
      },
    ],
    { expectedRevision: 0 },
  );
  events = await readAllWhenVisible(store, { category: 'tenant' }, 3);
});

afterAll(async () => {
  await store?.close();
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${EVENT_SCHEMA}" CASCADE`);
  await client.query(`DROP SCHEMA IF EXISTS "${READ_SCHEMA}" CASCADE`);
  await client.end();
});

describe.each([
  ['postgres', () => new PostgresTenantReadModel(DATABASE_URL, READ_SCHEMA)],
  ['memory', () => new MemoryTenantReadModel()],
] as const)('%s tenant read model', (_name, make: () => TenantReadModel) => {
  let model: TenantReadModel;
  beforeAll(async () => {
    model = make();
    await model.migrate();
    await model.reset();
  });
  afterAll(async () => model.close());

  it('applies each event once, with its checkpoint; a replay has no effect', async () => {
    for (const event of events) expect(await model.apply(event)).toBeDefined();
    expect(await model.checkpoint()).toBe(events[events.length - 1].position);
    for (const event of events) expect(await model.apply(event)).toBeUndefined();
    expect(await model.get('alpha-aaaaaa')).toMatchObject({ status: 'active', revision: 1 });
    expect(await model.countByStatus()).toMatchObject({ active: 1, requested: 1, failed: 0 });
  });

  it('filters by state, tier and a literal substring (LIKE metacharacters escaped)', async () => {
    expect((await model.list({ q: '100%', limit: 10, offset: 0 })).items.map((t) => t.tenantId)).toEqual([
      'alpha-aaaaaa',
    ]);
    expect((await model.list({ q: '%', limit: 10, offset: 0 })).total).toBe(1);
    expect(
      (await model.list({ status: 'requested', limit: 10, offset: 0 })).items.map((t) => t.tenantId),
    ).toEqual(['beta-bbbbbb']);
    expect((await model.list({ tier: 'business', limit: 10, offset: 0 })).total).toBe(0);
    expect(await model.list({ limit: 1, offset: 5 })).toEqual({ items: [], total: 2 });
  });

  it('resets to empty with no checkpoint', async () => {
    await model.reset();
    expect(await model.checkpoint()).toBeUndefined();
    expect((await model.list({ limit: 10, offset: 0 })).total).toBe(0);
  });
});

it('two PostgreSQL projectors applying the same events concurrently produce each effect once', async () => {
  const a = new PostgresTenantReadModel(DATABASE_URL, READ_SCHEMA);
  const b = new PostgresTenantReadModel(DATABASE_URL, READ_SCHEMA);
  try {
    await a.migrate();
    await a.reset();
    // Each projector delivers in commit order (as a subscription does); the two race each other.
    const run = async (model: PostgresTenantReadModel) => {
      const changes = [];
      for (const event of events) changes.push(await model.apply(event));
      return changes;
    };
    const [fromA, fromB] = await Promise.all([run(a), run(b)]);
    const effects = [...fromA, ...fromB].filter((change) => change !== undefined);
    expect(effects).toHaveLength(events.length);
    expect(await a.get('alpha-aaaaaa')).toMatchObject({ status: 'active' });
  } finally {
    await a.close();
    await b.close();
  }
});
