import { randomBytes } from 'node:crypto';
import { tenantStream } from '@app/contracts';
import type { RecordedEvent } from '@app/event-store';
import { TenantStreamBuilder } from '@app/tenancy';
import { whileStreamLocked } from '../testing/stream-lock.test-helpers';
import { startTestApi, type TestApi } from '../testing/test-api.test-helpers';

/**
 * The operator actions' `Idempotency-Key` against draft-ietf-httpapi-idempotency-key-header, on the running API
 * (HTTP) over the real PostgreSQL event store: the key is an RFC 8941 sf-string; a retry after completion gets
 * the result of the first request; the same key with another payload 422; a retry while the first is still
 * being processed 409; keys are scoped to the operator; the expiry policy is published.
 */
const ALICE = `op_${randomBytes(12).toString('hex')}`;
const BOB = `op_${randomBytes(12).toString('hex')}`;
const START = Date.parse('2025-02-01T09:00:00.000Z');
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

let api: TestApi;
let now = START;

async function seedActive(): Promise<string> {
  const builder = new TenantStreamBuilder(`idem-${hex()}`, '2025-01-15T10:00:00Z').activeTenant();
  await builder.appendTo(api.store);
  return builder.tenantId;
}

async function streamOf(tenantId: string): Promise<RecordedEvent[]> {
  return api.store.readStream(tenantStream(tenantId));
}

function cancel(tenantId: string, reason: string, key?: string, token = ALICE) {
  const call = api.http.post(`/api/v1/tenants/${tenantId}/cancel`).set(bearer(token));
  return (key === undefined ? call : call.set('Idempotency-Key', key)).send({ reason });
}

/** A fresh key as the draft writes it: an RFC 8941 sf-string (quoted). */
const sfKey = () => `"${randomBytes(16).toString('hex')}"`;

beforeAll(async () => {
  api = await startTestApi({
    schemaPrefix: 'idem',
    env: { OPERATOR_TOKENS: `alice:${ALICE},bob:${BOB}` },
    overrides: { clock: () => new Date(now) },
  });
});

afterEach(() => {
  now = START;
});

afterAll(async () => {
  await api?.close();
});

describe('Idempotency-Key on the operator actions (draft-ietf-httpapi-idempotency-key-header)', () => {
  it('takes the key as the draft writes it, an sf-string, and refuses one that is not a key', async () => {
    const tenantId = await seedActive();
    const key = sfKey();
    const first = await cancel(tenantId, 'contract ended', key);
    expect({ status: first.status, body: first.body }).toMatchObject({
      status: 202,
      body: { duplicate: false },
    });
    const again = await cancel(tenantId, 'contract ended', key);
    expect({ status: again.status, eventId: again.body.event_id }).toEqual({
      status: 202,
      eventId: first.body.event_id,
    });
    const notAKey = await cancel(tenantId, 'contract ended', '"spaces are not allowed"');
    expect(notAKey.status).toBe(400);
    expect(notAKey.body.violations.map((v: { field: string }) => v.field)).toEqual(['idempotency_key']);
  });

  it('answers a retry after completion with the result of the first request, and appends nothing', async () => {
    const tenantId = await seedActive();
    const key = `ticket-${hex()}`;
    const first = await cancel(tenantId, 'chargeback fraud', key);
    expect(first.status).toBe(202);
    const before = await streamOf(tenantId);
    now += 60_000;
    const retry = await cancel(tenantId, 'chargeback fraud', key);
    // The same answer; `duplicate` (documented) tells the client this one was a replay.
    expect({ status: retry.status, body: retry.body }).toEqual({
      status: 202,
      body: { ...first.body, duplicate: true },
    });
    expect(await streamOf(tenantId)).toHaveLength(before.length);
    // An error is the result too: the purge of an active tenant is refused the same way twice.
    const active = await seedActive();
    const refusedKey = `purge-${hex()}`;
    const purge = () =>
      api.http
        .post(`/api/v1/tenants/${active}/purge`)
        .set(bearer(ALICE))
        .set('Idempotency-Key', refusedKey)
        .send({ reason: 'erasure' });
    const refused = await purge();
    const refusedAgain = await purge();
    expect(refused.status).toBe(409);
    expect({ status: refusedAgain.status, body: refusedAgain.body }).toEqual({
      status: refused.status,
      body: refused.body,
    });
  });

  it('answers 422 to the same key with another payload, and appends nothing', async () => {
    const tenantId = await seedActive();
    const key = `ticket-${hex()}`;
    expect((await cancel(tenantId, 'contract ended', key)).status).toBe(202);
    const before = await streamOf(tenantId);
    const other = await cancel(tenantId, 'another reason', key);
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ statusCode: 422, error: 'OPERATION.IDEMPOTENCY_KEY_REUSED' });
    expect(await streamOf(tenantId)).toHaveLength(before.length);
  });

  it("scopes keys to the operator: another operator's same key is a request of its own", async () => {
    const tenantId = await seedActive();
    const key = `ticket-${hex()}`;
    const alice = await cancel(tenantId, 'contract ended', key, ALICE);
    expect(alice.status).toBe(202);
    // Bob's key is not Alice's: his request is judged on its own (the tenant is already deprovisioning), neither
    // answered with Alice's result nor refused as a reuse of a key he never used.
    const bob = await cancel(tenantId, 'contract ended', key, BOB);
    expect({ status: bob.status, error: bob.body.error }).toEqual({
      status: 409,
      error: 'OPERATION.NOT_CANCELLABLE',
    });
    expect(JSON.stringify(bob.body)).not.toContain(alice.body.event_id);
  });

  it('answers 409 to a retry while the first request is still being processed', async () => {
    const tenantId = await seedActive();
    const key = `ticket-${hex()}`;
    // The first request stays in flight, held behind its stream's lock, while the retry arrives.
    const { first, retry } = await whileStreamLocked(api, tenantStream(tenantId), () =>
      cancel(tenantId, 'contract ended', key),
    );
    expect(first.status).toBe(202);
    expect({ status: retry.status, error: retry.body.error }).toEqual({
      status: 409,
      error: 'OPERATION.IDEMPOTENCY_KEY_IN_FLIGHT',
    });
    expect((await streamOf(tenantId)).filter((e) => e.type === 'CancellationRequested')).toHaveLength(1);
  });

  it('publishes its expiry policy, and keeps a key for as long as the tenant stream lives', async () => {
    const docs = await api.http.get('/api/docs-json').expect(200);
    const cancelHeader = (
      docs.body.paths['/api/v1/tenants/{id}/cancel'].post.parameters as { in: string; name: string }[]
    ).find((p) => p.in === 'header' && p.name === 'Idempotency-Key') as { description?: string } | undefined;
    expect(cancelHeader?.description).toMatch(/expir/i);

    const tenantId = await seedActive();
    const key = `ticket-${hex()}`;
    const first = await cancel(tenantId, 'contract ended', key);
    now += 400 * 24 * 60 * 60 * 1000;
    const yearLater = await cancel(tenantId, 'contract ended', key);
    expect({ status: yearLater.status, eventId: yearLater.body.event_id }).toEqual({
      status: 202,
      eventId: first.body.event_id,
    });
  });
});
