import { tenantStream } from '@app/contracts';
import { MemoryEventStore, type EventStore } from '@app/event-store';
import { appendTenantEvents, silentLogger, uniqueTenantId, waitUntil } from './audit.test-helpers';
import { AUDIT_CHECKPOINT_EVENT_TYPE, parseCheckpoint, type AuditCheckpointData } from './chain';
import { AuditChainProjector } from './projector';
import type { ProjectorCursor } from './projector-cursor';
import { auditStream, readWholeStream } from './streams';
import { verifyTenant } from './verify';

async function checkpoints(store: EventStore, tenantId: string): Promise<AuditCheckpointData[]> {
  const events = await readWholeStream(store, auditStream(tenantId));
  return events.map((event) => {
    expect(event.type).toBe(AUDIT_CHECKPOINT_EVENT_TYPE);
    return parseCheckpoint(event.data);
  });
}

async function lastRevision(store: EventStore, tenantId: string): Promise<number> {
  const [last] = await store.readStream(tenantStream(tenantId), { direction: 'backwards', limit: 1 });
  return last.revision;
}

function coveredRevisions(list: AuditCheckpointData[]): number[] {
  return list.flatMap((checkpoint) => checkpoint.entries.map((entry) => entry.revision));
}

function memoryCursor(): ProjectorCursor & { value?: string } {
  const cursor: ProjectorCursor & { value?: string } = {
    load: async () => cursor.value,
    save: async (checkpoint) => {
      cursor.value = checkpoint;
    },
  };
  return cursor;
}

describe('auditStream', () => {
  it('names the companion stream and refuses an invalid tenant id', () => {
    expect(auditStream('acme-0a1b2c')).toBe('audit-acme-0a1b2c');
    expect(() => auditStream('ACME; drop')).toThrow(/invalid tenant id/);
  });
});

describe('AuditChainProjector (memory store)', () => {
  let store: MemoryEventStore;
  const projectors: AuditChainProjector[] = [];
  const start = async (options: ConstructorParameters<typeof AuditChainProjector>[1] = {}) => {
    const projector = new AuditChainProjector(store, { logger: silentLogger, flushDelayMs: 10, ...options });
    projectors.push(projector);
    await projector.start();
    return projector;
  };

  beforeEach(() => {
    store = new MemoryEventStore({ logger: silentLogger });
  });

  afterEach(async () => {
    await Promise.all(projectors.splice(0).map((projector) => projector.stop()));
    await store.close();
  });

  it('covers every tenant stream while writers append concurrently, batching several events per checkpoint', async () => {
    const tenants = [uniqueTenantId('alpha'), uniqueTenantId('beta')];
    await appendTenantEvents(store, tenants[0], 3);
    await start();
    await Promise.all(
      tenants.flatMap((tenantId) => [1, 2, 3].map((w) => appendTenantEvents(store, tenantId, 15, `w${w}`))),
    );
    for (const tenantId of tenants) {
      const last = await lastRevision(store, tenantId);
      const result = await waitUntil(
        () => verifyTenant(store, tenantId),
        (value) => value.coveredUpTo === last,
      );
      expect(result).toMatchObject({ ok: true, checkedEvents: last + 1, uncoveredEvents: 0 });
      const written = await checkpoints(store, tenantId);
      expect(coveredRevisions(written)).toEqual(Array.from({ length: last + 1 }, (_, i) => i));
      expect(written.length).toBeLessThan(last + 1);
    }
  });

  it('splits a large backlog into checkpoints of at most maxEntriesPerCheckpoint', async () => {
    const tenantId = uniqueTenantId();
    await appendTenantEvents(store, tenantId, 23);
    const projector = new AuditChainProjector(store, {
      logger: silentLogger,
      maxEntriesPerCheckpoint: 5,
      cursor: false,
    });
    expect(await projector.catchUpTenant(tenantId)).toBe(22);
    const written = await checkpoints(store, tenantId);
    expect(written.map((checkpoint) => checkpoint.entries.length)).toEqual([5, 5, 5, 5, 3]);
    expect(await verifyTenant(store, tenantId)).toMatchObject({ ok: true, checkedEvents: 23 });
  });

  it('resumes after a restart from its cursor and its audit stream, without duplicate checkpoints', async () => {
    const tenantId = uniqueTenantId();
    const cursor = memoryCursor();
    await appendTenantEvents(store, tenantId, 5);
    const first = await start({ cursor });
    await waitUntil(
      () => verifyTenant(store, tenantId),
      (value) => value.coveredUpTo === 4,
    );
    await first.stop();
    expect(cursor.value).toBeDefined();
    const before = (await checkpoints(store, tenantId)).length;

    await appendTenantEvents(store, tenantId, 4);
    const second = await start({ cursor });
    await waitUntil(
      () => verifyTenant(store, tenantId),
      (value) => value.coveredUpTo === 8,
    );
    await second.stop();
    const written = await checkpoints(store, tenantId);
    expect(coveredRevisions(written)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(written.length).toBeGreaterThan(before);
    expect(second.stats().eventsCovered).toBe(4);
  });

  it('replays from the start without a cursor and writes nothing for events already covered', async () => {
    const tenantId = uniqueTenantId();
    await appendTenantEvents(store, tenantId, 6);
    const first = new AuditChainProjector(store, { logger: silentLogger, cursor: false });
    await first.catchUpTenant(tenantId);
    const auditBefore = await readWholeStream(store, auditStream(tenantId));

    const again = await start({ cursor: false });
    await waitUntil(
      async () => again.stats(),
      () => store.getSubscriptionLag().every((lag) => lag.caughtUp),
    );
    await again.flush();
    expect(again.stats()).toMatchObject({ checkpointsWritten: 0, pendingTenants: 0 });
    expect(await readWholeStream(store, auditStream(tenantId))).toHaveLength(auditBefore.length);
  });

  it('lets several instances run at once: conflicts resolve by reloading, chains stay single', async () => {
    const tenantId = uniqueTenantId();
    const instances = await Promise.all([
      start({ cursor: false }),
      start({ cursor: false }),
      start({ cursor: false }),
    ]);
    await Promise.all([1, 2, 3, 4].map((w) => appendTenantEvents(store, tenantId, 10, `w${w}`)));
    await waitUntil(
      () => verifyTenant(store, tenantId),
      (value) => value.coveredUpTo === 39,
    );
    await Promise.all(instances.map((instance) => instance.flush()));
    expect(coveredRevisions(await checkpoints(store, tenantId))).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
    expect(await verifyTenant(store, tenantId)).toMatchObject({ ok: true, checkedEvents: 40 });
  });

  it('covers the events of two racing catch-ups once: the same range gets the same checkpoint id', async () => {
    const tenantId = uniqueTenantId();
    await appendTenantEvents(store, tenantId, 7);
    const a = new AuditChainProjector(store, { logger: silentLogger, cursor: false });
    const b = new AuditChainProjector(store, { logger: silentLogger, cursor: false });
    await Promise.all([a.catchUpTenant(tenantId), b.catchUpTenant(tenantId)]);
    expect(coveredRevisions(await checkpoints(store, tenantId))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('skips streams of the tenant category whose id is not a tenant id, and keeps going', async () => {
    const tenantId = uniqueTenantId();
    await store.append('tenant-NOT_A_TENANT', [{ id: crypto.randomUUID(), type: 'X', data: {} }], {
      expectedRevision: 'any',
    });
    await appendTenantEvents(store, tenantId, 2);
    await start({ cursor: false });
    const result = await waitUntil(
      () => verifyTenant(store, tenantId),
      (value) => value.coveredUpTo === 1,
    );
    expect(result.ok).toBe(true);
  });

  it('refuses nonsensical options', () => {
    expect(() => new AuditChainProjector(store, { maxEntriesPerCheckpoint: 0 })).toThrow(/positive integer/);
    expect(() => new AuditChainProjector(store, { name: 'Bad Name' })).toThrow(/invalid projector name/);
  });
});
