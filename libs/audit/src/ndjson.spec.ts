import { tenantStream } from '@app/contracts';
import { MemoryEventStore, type EventStore } from '@app/event-store';
import { appendTenantEvents, silentLogger, uniqueTenantId } from './audit.test-helpers';
import { genesisHash, hashEvent } from './chain';
import { exportNdjson, verifyNdjson, type NdjsonEventLine } from './ndjson';
import { AuditChainProjector } from './projector';
import { auditStream, readWholeStream } from './streams';
import { verifyTenant } from './verify';

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const result: string[] = [];
  for await (const line of lines) result.push(line);
  return result;
}

/**
 * The memory store offers no way to edit a stored event, so the "edited database" is a second store holding
 * the same history with one event altered, plus a verbatim copy of the audit stream.
 */
async function copyWithAlteredEvent(
  source: EventStore,
  tenantId: string,
  alter: { revision: number; data: unknown } | { drop: number },
): Promise<MemoryEventStore> {
  const copy = new MemoryEventStore({ logger: silentLogger });
  for (const stream of [tenantStream(tenantId), auditStream(tenantId)]) {
    for (const event of await readWholeStream(source, stream)) {
      if ('drop' in alter && stream === tenantStream(tenantId) && event.revision === alter.drop) continue;
      const data =
        'revision' in alter && stream === tenantStream(tenantId) && event.revision === alter.revision
          ? alter.data
          : event.data;
      await copy.append(stream, [{ id: event.id, type: event.type, data, metadata: event.metadata }], {
        expectedRevision: 'any',
      });
    }
  }
  return copy;
}

describe('NDJSON export', () => {
  let store: MemoryEventStore;
  let tenantId: string;
  const stores: MemoryEventStore[] = [];

  beforeEach(async () => {
    store = new MemoryEventStore({ logger: silentLogger });
    stores.push(store);
    tenantId = uniqueTenantId();
    await appendTenantEvents(store, tenantId, 6);
    await new AuditChainProjector(store, {
      logger: silentLogger,
      cursor: false,
      maxEntriesPerCheckpoint: 4,
    }).catchUpTenant(tenantId);
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('round-trips: every event with its hashes, then a trailer, verified offline', async () => {
    await appendTenantEvents(store, tenantId, 2);
    const lines = await collect(exportNdjson(store, tenantId));
    expect(lines).toHaveLength(9);
    const events = lines.slice(0, 8).map((line) => JSON.parse(line) as NdjsonEventLine);
    expect(events.map((event) => event.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(events.map((event) => event.covered)).toEqual([true, true, true, true, true, true, false, false]);
    expect(events[0].prevHash).toBe(genesisHash(tenantStream(tenantId)));
    expect(events[1].prevHash).toBe(events[0].hash);
    const online = await verifyTenant(store, tenantId);
    expect(JSON.parse(lines[8])).toEqual({
      algorithm: 'sha256-jcs-v1',
      streamName: tenantStream(tenantId),
      chainHead: online.chainHead,
      coveredUpTo: 5,
    });
    expect(verifyNdjson(lines.join('\n') + '\n')).toEqual({
      ok: true,
      streamName: tenantStream(tenantId),
      checkedEvents: 8,
      coveredUpTo: 5,
      chainHead: online.chainHead,
      uncoveredEvents: 2,
    });
    expect(verifyNdjson(lines, { anchors: [{ revision: 5, hash: online.chainHead }] }).ok).toBe(true);
  });

  it('exports an empty tenant as a trailer that verifies', async () => {
    const empty = uniqueTenantId('empty');
    const lines = await collect(exportNdjson(store, empty));
    expect(lines).toHaveLength(1);
    expect(verifyNdjson(lines)).toMatchObject({ ok: true, checkedEvents: 0, coveredUpTo: -1 });
  });

  it('names the line of an event edited in the export file', async () => {
    const edited = await collect(exportNdjson(store, tenantId));
    const line = JSON.parse(edited[3]) as NdjsonEventLine;
    edited[3] = JSON.stringify({ ...line, data: { ...(line.data as object), amount: 1e6 } });
    expect(verifyNdjson(edited)).toMatchObject({
      ok: false,
      checkedEvents: 3,
      firstError: { line: 4, revision: 3, eventId: line.id, reason: 'hash', expectedHash: line.hash },
    });
  });

  it('detects an edit that recomputes the edited line and all later lines, through the trailer or an anchor', async () => {
    const lines = await collect(exportNdjson(store, tenantId));
    const parsed = lines.slice(0, -1).map((line) => JSON.parse(line) as NdjsonEventLine);
    parsed[2] = { ...parsed[2], data: { forged: true } };
    // A forger recomputes every hash after the edit, leaving the recorded trailer as it was.
    let prev = genesisHash(tenantStream(tenantId));
    const forged = parsed.map((event) => {
      const hash = hashEvent(prev, event);
      const line = JSON.stringify({ ...event, prevHash: prev, hash });
      prev = hash;
      return line;
    });
    expect(verifyNdjson([...forged, lines[lines.length - 1]]).firstError).toMatchObject({
      reason: 'head',
      line: 7,
      revision: 5,
    });
    const trailer = JSON.parse(lines[lines.length - 1]) as { chainHead: string };
    const forgedTrailer = JSON.stringify({ ...trailer, chainHead: prev });
    expect(verifyNdjson([...forged, forgedTrailer]).ok).toBe(true);
    expect(
      verifyNdjson([...forged, forgedTrailer], { anchors: [{ revision: 5, hash: trailer.chainHead }] })
        .firstError,
    ).toMatchObject({ reason: 'anchor', revision: 5 });
  });

  it('names a removed, reordered or truncated line', async () => {
    const lines = await collect(exportNdjson(store, tenantId));
    expect(verifyNdjson([...lines.slice(0, 2), ...lines.slice(3)]).firstError).toMatchObject({
      line: 3,
      revision: 3,
      reason: 'sequence',
    });
    expect(verifyNdjson([lines[1], lines[0], ...lines.slice(2)]).firstError).toMatchObject({
      line: 1,
      reason: 'sequence',
    });
    expect(verifyNdjson(lines.slice(0, -1)).firstError).toMatchObject({ reason: 'trailer' });
    expect(verifyNdjson([...lines, lines[0]]).firstError).toMatchObject({ line: 8, reason: 'trailer' });
    expect(verifyNdjson(['{not json', ...lines]).firstError).toMatchObject({ line: 1, reason: 'malformed' });
  });

  it('exports the recorded hashes, so an event altered in the store fails offline at its line', async () => {
    const altered = await copyWithAlteredEvent(store, tenantId, { revision: 4, data: { amount: 999 } });
    stores.push(altered);
    const online = await verifyTenant(altered, tenantId);
    const original = await readWholeStream(store, tenantStream(tenantId));
    expect(online).toMatchObject({
      ok: false,
      checkedEvents: 4,
      coveredUpTo: 5,
      firstMismatch: { revision: 4, eventId: original[4].id, reason: 'hash' },
    });
    const offline = verifyNdjson(await collect(exportNdjson(altered, tenantId)));
    expect(offline).toMatchObject({
      ok: false,
      firstError: { line: 5, revision: 4, eventId: original[4].id, reason: 'hash' },
    });
  });

  it('fails online and offline when a covered event was deleted from the store', async () => {
    const pruned = await copyWithAlteredEvent(store, tenantId, { drop: 5 });
    stores.push(pruned);
    // Re-appending shifted nothing (revision 5 was the last), so the stream now ends at 4.
    expect(await verifyTenant(pruned, tenantId)).toMatchObject({
      ok: false,
      firstMismatch: { revision: 5, reason: 'missing-event' },
    });
    expect(verifyNdjson(await collect(exportNdjson(pruned, tenantId))).firstError).toMatchObject({
      reason: 'head',
      revision: 5,
    });
  });
});
