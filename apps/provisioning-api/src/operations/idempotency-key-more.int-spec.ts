import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GUARDRAIL_SNAPSHOT_EVENT,
  purgeGuardrailSnapshotStream,
  purgeGuardrailStream,
  RECONCILIATION_STREAM_CATEGORY,
  type GuardrailEventData,
  type GuardrailSnapshotData,
} from '@app/contracts';
import { readStreamOrEmpty, type RecordedEvent } from '@app/event-store';
import { TenantStreamBuilder } from '@app/tenancy';
import { eventually } from '@app/testing';
import { Client } from 'pg';
import { whileStreamLocked } from '../testing/stream-lock.test-helpers';
import { startTestApi, type TestApi } from '../testing/test-api.test-helpers';

/**
 * The Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) on the operator POSTs outside the tenant
 * actions: the purge breaker's reset, a reconciliation run and its decisions. Over HTTP, on PostgreSQL: a retry
 * after completion gets the first answer (`duplicate: true`) and appends nothing; the same key with another
 * body 422; a key that is not one 400; a retry while the first is still being processed 409. And every
 * operator POST the API registers documents the header.
 */
const ALICE = `op_${randomBytes(12).toString('hex')}`;
const START = Date.parse('2025-02-01T09:00:00.000Z');
const hex = () => randomBytes(3).toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
/** Billing's webhooks carry their own credentials and are no operator action. */
const WEBHOOKS = '/api/v1/provisioning/webhooks/';

let api: TestApi;
let now = START;
let billing: Server;
let billingUrl: string;

const sub = (tenantId: string) => `sub_${tenantId.replace(/-/g, '_')}`;
const agreeing = new TenantStreamBuilder(`agree-${hex()}`, '2025-01-10T10:00:00Z').activeTenant();
const orphan = new TenantStreamBuilder(`orphan-${hex()}`, '2025-01-12T10:00:00Z').activeTenant();
/** Agrees on one tenant, misses the orphan, bills a subscription no tenant holds. */
const BILLING = [
  { subscription_id: sub(agreeing.tenantId), tier: 'premium' },
  { subscription_id: 'sub_gone', tier: 'standard' },
];

function post(path: string, body: unknown, key?: string) {
  const call = api.http.post(path).set(bearer(ALICE));
  return (key === undefined ? call : call.set('Idempotency-Key', key)).send(body as object);
}

const resetBreaker = (reason: string, key?: string) =>
  post('/api/v1/guardrails/purge-breaker/reset', { reason }, key);
const run = (body: unknown, key?: string) => post('/api/v1/reconciliations', body, key);

async function guardrailEvents(): Promise<RecordedEvent[]> {
  return readStreamOrEmpty(api.store, purgeGuardrailStream());
}

/** Appends to the guardrail stream as the orchestrator does (it does not run here). */
async function appendGuardrail(type: 'BreakerTripped', data: GuardrailEventData['BreakerTripped']) {
  const last = (await guardrailEvents()).at(-1);
  await api.store.append(purgeGuardrailStream(), [{ id: randomUUID(), type, data }], {
    expectedRevision: last ? last.revision : 'no_stream',
  });
}

async function trip(): Promise<void> {
  const trippedAt = new Date(now).toISOString();
  await appendGuardrail('BreakerTripped', { cancellations: 21, windowMinutes: 60, threshold: 20, trippedAt });
}

/**
 * A snapshot as the orchestrator's fold writes one, of every guardrail event so far: those events are then
 * folded away (the API reads only what follows a snapshot), and a keyed reset is known from the snapshot alone.
 */
async function snapshot(): Promise<void> {
  const events = await guardrailEvents();
  let breaker: GuardrailSnapshotData['breaker'] = { open: false, trip: null, lastReset: null };
  const keyedResets: GuardrailEventData['BreakerReset'][] = [];
  for (const event of events) {
    if (event.type === 'BreakerTripped' && !breaker.open) {
      breaker = { ...breaker, open: true, trip: event.data as GuardrailEventData['BreakerTripped'] };
    } else if (event.type === 'BreakerReset') {
      const reset = event.data as GuardrailEventData['BreakerReset'];
      breaker = { open: false, trip: null, lastReset: reset };
      if (reset.requestId) keyedResets.push(reset);
    }
  }
  const data: GuardrailSnapshotData = {
    revision: events.length,
    takenAt: new Date(now).toISOString(),
    observed: {},
    permits: {},
    counted: [],
    breaker,
    keyedResets,
  };
  const [latest] = await readStreamOrEmpty(api.store, purgeGuardrailSnapshotStream(), {
    direction: 'backwards',
    from: 'end',
    limit: 1,
  });
  await api.store.append(
    purgeGuardrailSnapshotStream(),
    [{ id: randomUUID(), type: GUARDRAIL_SNAPSHOT_EVENT, data }],
    { expectedRevision: latest ? latest.revision : 'no_stream' },
  );
}

/**
 * How many reconciliation events the store holds, counted in its table: `readAll` delivers only what lies below
 * the oldest transaction still open on the server, so with other suites writing at the same time a count read
 * through it can lag an append that has already answered.
 */
async function reconciliationEvents(): Promise<number> {
  const pg = new Client({ connectionString: api.databaseUrl });
  await pg.connect();
  try {
    const { rows } = await pg.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${api.eventSchema}".events WHERE category = $1`,
      [RECONCILIATION_STREAM_CATEGORY],
    );
    return rows[0].n;
  } finally {
    await pg.end();
  }
}

interface ExpressLayer {
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
}

/** Every POST path Express's router holds (as route-auth.int-spec.ts enumerates them), in OpenAPI's form. */
function operatorPosts(): string[] {
  const express = api.app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } };
  return express.router.stack
    .flatMap((layer) => (layer.route?.methods['post'] ? [String(layer.route.path)] : []))
    .filter((path) => path.startsWith('/api/v1/') && !path.startsWith(WEBHOOKS))
    .map((path) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'));
}

beforeAll(async () => {
  api = await startTestApi({
    schemaPrefix: 'idem2',
    env: { OPERATOR_TOKENS: `alice:${ALICE}` },
    overrides: { clock: () => new Date(now) },
    seed: async (store) => {
      for (const builder of [agreeing, orphan]) await builder.appendTo(store);
    },
  });
  await eventually(async () => {
    const response = await api.http.get('/api/v1/tenants').set(bearer(api.secrets.auditor));
    return response.body.total === 2 ? true : undefined;
  }, 'the read model to hold the two tenants');
  billing = createServer((incoming, response) => {
    const list = incoming.url?.includes('other') ? BILLING.slice(0, 1) : BILLING;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ subscriptions: list }));
  });
  await new Promise<void>((resolve) => billing.listen(0, '127.0.0.1', resolve));
  billingUrl = `http://127.0.0.1:${(billing.address() as AddressInfo).port}/active`;
});

afterEach(() => {
  now = START;
});

afterAll(async () => {
  await api?.close();
  billing?.closeAllConnections();
  await new Promise((resolve) => billing?.close(resolve));
});

describe('Idempotency-Key on every operator POST', () => {
  it('is documented on each operator POST route the API registered', async () => {
    const routes = operatorPosts();
    // Anchors: an enumeration that found nothing would pass vacuously.
    expect(routes).toEqual(
      expect.arrayContaining([
        '/api/v1/tenants/{id}/cancel',
        '/api/v1/guardrails/purge-breaker/reset',
        '/api/v1/reconciliations',
      ]),
    );
    const docs = await api.http.get('/api/docs-json').expect(200);
    const undocumented = routes.filter((path) => {
      const parameters = (docs.body.paths[path]?.post?.parameters ?? []) as { in: string; name: string }[];
      return !parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key');
    });
    expect({ 'operator POSTs without the Idempotency-Key header': undocumented }).toEqual({
      'operator POSTs without the Idempotency-Key header': [],
    });
  });
});

describe('POST /api/v1/guardrails/purge-breaker/reset with an Idempotency-Key', () => {
  it('answers a retry with the first reset, 422 to another reason, 400 to a key that is not one', async () => {
    await trip();
    const notAKey = await resetBreaker('genuine churn', '"not a key"');
    expect(notAKey.status).toBe(400);
    expect(notAKey.body.violations.map((v: { field: string }) => v.field)).toEqual(['idempotency_key']);
    const key = `"reset-${hex()}"`;
    const first = await resetBreaker('genuine churn', key);
    expect({ status: first.status, duplicate: first.body.duplicate, open: first.body.open }).toEqual({
      status: 202,
      duplicate: false,
      open: false,
    });
    const before = await guardrailEvents();
    now += 60_000;
    // Without a key the same retry would be refused: the breaker is no longer open.
    const retry = await resetBreaker('genuine churn', key);
    // The first reset again; the breaker's status as it is now (still closed, reset by this key).
    expect({ status: retry.status, body: retry.body }).toMatchObject({
      status: 202,
      body: {
        event_id: first.body.event_id,
        duplicate: true,
        open: false,
        last_reset: { ...first.body.last_reset, requestId: first.body.event_id },
      },
    });
    const other = await resetBreaker('another reason', key);
    expect({ status: other.status, error: other.body.error }).toEqual({
      status: 422,
      error: 'OPERATION.IDEMPOTENCY_KEY_REUSED',
    });
    expect(await guardrailEvents()).toHaveLength(before.length);
  });

  it('never lets a stale retry reset a breaker that tripped again, after snapshots too', async () => {
    await trip();
    const k1 = `k1-${hex()}`;
    const first = await resetBreaker('confirmed with billing', k1);
    expect(first.status).toBe(202);
    await snapshot();
    now += 60_000;
    await trip();
    // The snapshot folded K1's reset away: the retry is known from the snapshot alone.
    const stale = await resetBreaker('confirmed with billing', k1);
    expect({ status: stale.status, eventId: stale.body.event_id, duplicate: stale.body.duplicate }).toEqual({
      status: 202,
      eventId: first.body.event_id,
      duplicate: true,
    });
    expect(stale.body.open).toBe(true);
    const k2 = `k2-${hex()}`;
    const second = await resetBreaker('second wave confirmed', k2);
    expect({ status: second.status, duplicate: second.body.duplicate }).toEqual({
      status: 202,
      duplicate: false,
    });
    expect(second.body.event_id).not.toBe(first.body.event_id);
    now += 60_000;
    await trip();
    await snapshot();
    const before = await guardrailEvents();
    for (const [key, reason, eventId] of [
      [k1, 'confirmed with billing', first.body.event_id],
      [k2, 'second wave confirmed', second.body.event_id],
    ]) {
      const again = await resetBreaker(reason, key);
      expect({ status: again.status, eventId: again.body.event_id, open: again.body.open }).toEqual({
        status: 202,
        eventId,
        open: true,
      });
    }
    expect((await resetBreaker('something else', k1)).status).toBe(422);
    expect(await guardrailEvents()).toHaveLength(before.length);
    // The breaker is still open, for a reset with a new key.
    expect((await resetBreaker('third wave confirmed', `k3-${hex()}`)).body).toMatchObject({
      open: false,
      duplicate: false,
    });
  });

  it('answers 409 to a retry while the first reset is still being processed', async () => {
    await trip();
    const key = `inflight-${hex()}`;
    const outcome = await whileStreamLocked(api, purgeGuardrailStream(), () =>
      resetBreaker('genuine churn', key),
    );
    expect(outcome.first.status).toBe(202);
    expect({ status: outcome.retry.status, error: outcome.retry.body.error }).toEqual({
      status: 409,
      error: 'OPERATION.IDEMPOTENCY_KEY_IN_FLIGHT',
    });
  });
});

describe('POST /api/v1/reconciliations/:id/actions/:actionId/(accept|dismiss) with an Idempotency-Key', () => {
  async function proposed(): Promise<{ id: string; actionOf: (kind: string) => string }> {
    const response = await run({ subscriptions: BILLING, propose: true }).expect(200);
    const findings = response.body.findings as { kind: string; action_id: string }[];
    return {
      id: response.body.reconciliation_id,
      actionOf: (kind) => findings.find((f) => f.kind === kind)!.action_id,
    };
  }

  it('answers a retry with the first decision, 422 to another reason or decision, 400 to a bad key', async () => {
    const { id, actionOf } = await proposed();
    const path = (verb: string) => `/api/v1/reconciliations/${id}/actions/${actionOf('orphan')}/${verb}`;
    const notAKey = await post(path('dismiss'), { reason: 'billing to fix' }, 'no spaces');
    expect(notAKey.status).toBe(400);
    expect(notAKey.body.violations.map((v: { field: string }) => v.field)).toEqual(['idempotency_key']);
    const key = `decide-${hex()}`;
    const first = await post(path('dismiss'), { reason: 'billing to fix' }, key);
    expect({ status: first.status, duplicate: first.body.duplicate }).toEqual({
      status: 200,
      duplicate: false,
    });
    const before = await reconciliationEvents();
    const retry = await post(path('dismiss'), { reason: 'billing to fix' }, key);
    expect({ status: retry.status, body: retry.body }).toEqual({
      status: 200,
      body: { ...first.body, duplicate: true },
    });
    // Another reason, or the contrary decision, under the same key: a reuse, not a duplicate nor a 409.
    for (const [verb, reason] of [
      ['dismiss', 'another reason'],
      ['accept', 'billing to fix'],
    ]) {
      const reused = await post(path(verb), { reason }, key);
      expect({ verb, status: reused.status, error: reused.body.error }).toEqual({
        verb,
        status: 422,
        error: 'OPERATION.IDEMPOTENCY_KEY_REUSED',
      });
    }
    // Without a key (or with another one) the decision's own rules answer, as before.
    expect((await post(path('dismiss'), { reason: 'other' })).body.duplicate).toBe(true);
    expect((await post(path('dismiss'), { reason: 'other' }, `k-${hex()}`)).body.duplicate).toBe(true);
    const contrary = await post(path('accept'), { reason: 'other' });
    expect({ status: contrary.status, error: contrary.body.error }).toEqual({
      status: 409,
      error: 'RECONCILIATION.ACTION_ALREADY_DECIDED',
    });
    expect(await reconciliationEvents()).toBe(before);

    const accept = `/api/v1/reconciliations/${id}/actions/${actionOf('missing')}/accept`;
    const acceptKey = `accept-${hex()}`;
    const accepted = await post(accept, { reason: 'billing closes it' }, acceptKey).expect(200);
    const afterAccept = await reconciliationEvents();
    expect((await post(accept, { reason: 'billing closes it' }, acceptKey)).body).toEqual({
      ...accepted.body,
      duplicate: true,
    });
    expect((await post(accept, { reason: 'not the same' }, acceptKey)).status).toBe(422);
    expect(await reconciliationEvents()).toBe(afterAccept);
  });

  it('answers 409 to a retry while the first decision is still being processed', async () => {
    const { id, actionOf } = await proposed();
    const path = `/api/v1/reconciliations/${id}/actions/${actionOf('missing')}/dismiss`;
    const key = `inflight-${hex()}`;
    const outcome = await whileStreamLocked(api, `reconciliation-${id}`, () =>
      post(path, { reason: 'billing to fix' }, key),
    );
    expect(outcome.first.status).toBe(200);
    expect({ status: outcome.retry.status, error: outcome.retry.body.error }).toEqual({
      status: 409,
      error: 'OPERATION.IDEMPOTENCY_KEY_IN_FLIGHT',
    });
  });
});

describe('POST /api/v1/reconciliations with an Idempotency-Key', () => {
  it('answers a proposing run again from what it recorded, and 422 to another list or propose', async () => {
    const key = `run-${hex()}`;
    const first = await run({ subscriptions: BILLING, propose: true }, key);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ duplicate: false, reconciliation_id: expect.any(String) });
    const before = await reconciliationEvents();
    now += 60_000;
    // The same list in another order and form is the same request.
    const retry = await run({ subscriptions: [...BILLING].reverse(), propose: true }, key);
    expect({ status: retry.status, body: retry.body }).toEqual({
      status: 200,
      body: { ...first.body, duplicate: true },
    });
    for (const other of [
      { subscriptions: BILLING.slice(0, 1), propose: true },
      { subscriptions: BILLING, propose: false },
      { subscriptions: BILLING },
      { source: billingUrl, propose: true },
    ]) {
      const reused = await run(other, key);
      expect({ other, status: reused.status, error: reused.body.error }).toEqual({
        other,
        status: 422,
        error: 'OPERATION.IDEMPOTENCY_KEY_REUSED',
      });
    }
    expect(await reconciliationEvents()).toBe(before);
    const notAKey = await run({ subscriptions: BILLING, propose: true }, '"a b"');
    expect(notAKey.status).toBe(400);
    expect(notAKey.body.violations.map((v: { field: string }) => v.field)).toEqual(['idempotency_key']);
  });

  it('keys a run from a source URL by the URL, and takes a key without propose to no effect', async () => {
    const key = `source-${hex()}`;
    const first = await run({ source: `${billingUrl}?token=t1`, propose: true }, key).expect(200);
    const retry = await run({ source: `${billingUrl}?token=t1`, propose: true }, key).expect(200);
    expect(retry.body).toEqual({ ...first.body, duplicate: true });
    expect((await run({ source: `${billingUrl}/other`, propose: true }, key)).status).toBe(422);

    const before = await reconciliationEvents();
    const plain = `plain-${hex()}`;
    for (let i = 0; i < 2; i++) {
      const report = await run({ subscriptions: BILLING }, plain).expect(200);
      expect(report.body).toMatchObject({ reconciliation_id: null, duplicate: false });
    }
    expect(await reconciliationEvents()).toBe(before);
    // Nothing was recorded under that key: a proposing run may still use it.
    expect((await run({ subscriptions: BILLING, propose: true }, plain)).body.duplicate).toBe(false);
  });
});
