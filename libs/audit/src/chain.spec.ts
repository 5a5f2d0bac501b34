import { createHash } from 'node:crypto';
import {
  AUDIT_HASH_ALGORITHM,
  chainEntries,
  genesisHash,
  hashEvent,
  parseCheckpoint,
  verifyChain,
  type AuditCheckpointData,
  type HashableEvent,
} from './chain';

const STREAM = 'tenant-acme-0a1b2c';

function events(count: number, stream = STREAM): HashableEvent[] {
  return Array.from({ length: count }, (_, revision) => ({
    streamName: stream,
    revision,
    id: `00000000-0000-4000-8000-${String(revision).padStart(12, '0')}`,
    type: revision === 0 ? 'TenantRequested' : 'StepCompleted',
    data: { step: revision, note: 'é', amount: 0.1 },
    metadata: { schemaVersion: 1, actor: 'test', correlationId: 'c-1' },
  }));
}

/** Checkpoints as the projector writes them, cut every `size` events. */
function checkpointsFor(list: HashableEvent[], size: number, stream = STREAM): AuditCheckpointData[] {
  const entries = chainEntries(genesisHash(stream), list);
  const result: AuditCheckpointData[] = [];
  let prevHash = genesisHash(stream);
  for (let start = 0; start < entries.length; start += size) {
    const slice = entries.slice(start, start + size);
    const last = slice[slice.length - 1];
    result.push({
      algorithm: AUDIT_HASH_ALGORITHM,
      streamName: stream,
      fromRevision: slice[0].revision,
      toRevision: last.revision,
      prevHash,
      entries: slice,
      headHash: last.hash,
    });
    prevHash = last.hash;
  }
  return result;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('hash chain', () => {
  it('starts from sha256("genesis:" + stream) and hashes prev hash + canonical JSON', () => {
    expect(genesisHash(STREAM)).toBe(sha256(`genesis:${STREAM}`));
    const event: HashableEvent = {
      streamName: STREAM,
      revision: 0,
      id: 'a0000000-0000-4000-8000-000000000001',
      type: 'TenantRequested',
      data: { z: [1, 2], a: 'x' },
      metadata: { schemaVersion: 1 },
    };
    const canonical =
      '{"data":{"a":"x","z":[1,2]},"id":"a0000000-0000-4000-8000-000000000001",' +
      `"metadata":{"schemaVersion":1},"revision":0,"streamName":"${STREAM}","type":"TenantRequested"}`;
    expect(hashEvent(genesisHash(STREAM), event)).toBe(sha256(genesisHash(STREAM) + canonical));
  });

  it('is stable: the same history always yields the same, pinned head', () => {
    const head = chainEntries(genesisHash(STREAM), events(3)).at(-1)?.hash;
    expect(head).toBe(chainEntries(genesisHash(STREAM), structuredClone(events(3))).at(-1)?.hash);
    // Pinned so that a change of the algorithm (which would orphan every recorded chain) cannot go unnoticed.
    expect(head).toBe('f008f8bc4f99a1673ea75d7281646d708618a09010b397476d8f4e261d34487a');
  });

  it('ignores member order and position/recordedAt, but not any hashed field', () => {
    const [event] = events(1);
    const prev = genesisHash(STREAM);
    const reordered = { ...event, data: { amount: 0.1, note: 'é', step: 0 } };
    expect(hashEvent(prev, reordered)).toBe(hashEvent(prev, event));
    expect(hashEvent(prev, { ...event, position: 'x', recordedAt: new Date() } as HashableEvent)).toBe(
      hashEvent(prev, event),
    );
    for (const changed of [
      { ...event, data: { ...(event.data as object), amount: 0.2 } },
      { ...event, metadata: { schemaVersion: 2 } },
      { ...event, type: 'Other' },
      { ...event, id: 'b0000000-0000-4000-8000-000000000000' },
      { ...event, revision: 1 },
      { ...event, streamName: 'tenant-other-0a1b2c' },
    ]) {
      expect(hashEvent(prev, changed)).not.toBe(hashEvent(prev, event));
    }
    expect(hashEvent(sha256('other'), event)).not.toBe(hashEvent(prev, event));
  });

  it('refuses a previous hash that is not 64 hex digits', () => {
    expect(() => hashEvent('abc', events(1)[0])).toThrow(/64 lowercase hex/);
  });
});

describe('verifyChain', () => {
  it('accepts an untouched history and reports uncovered events separately', () => {
    const history = events(10);
    const result = verifyChain(STREAM, history, checkpointsFor(history.slice(0, 7), 3));
    expect(result).toEqual({
      ok: true,
      streamName: STREAM,
      checkedEvents: 7,
      coveredUpTo: 6,
      chainHead: chainEntries(genesisHash(STREAM), history)[6].hash,
      uncoveredEvents: 3,
    });
  });

  it('accepts an empty stream with no checkpoints', () => {
    expect(verifyChain(STREAM, [], [])).toMatchObject({ ok: true, checkedEvents: 0, coveredUpTo: -1 });
  });

  it('names exactly the altered event, whichever field was altered', () => {
    const history = events(8);
    const checkpoints = checkpointsFor(history, 3);
    const alterations: Array<(event: HashableEvent) => HashableEvent> = [
      (event) => ({ ...event, data: { ...(event.data as object), amount: 1000 } }),
      (event) => ({ ...event, metadata: { ...(event.metadata as object), actor: 'intruder' } }),
      (event) => ({ ...event, type: 'TenantDeleted' }),
    ];
    for (const alter of alterations) {
      const tampered = history.map((event) => (event.revision === 5 ? alter(event) : event));
      const result = verifyChain(STREAM, tampered, checkpoints);
      expect(result.ok).toBe(false);
      expect(result.checkedEvents).toBe(5);
      expect(result.coveredUpTo).toBe(7);
      expect(result.firstMismatch).toEqual({
        revision: 5,
        eventId: history[5].id,
        type: tampered[5].type,
        reason: 'hash',
        expectedHash: checkpoints[1].entries[2].hash,
        actualHash: hashEvent(checkpoints[1].entries[1].hash, tampered[5]),
      });
    }
  });

  it('reports a deleted event as missing', () => {
    const history = events(6);
    const result = verifyChain(
      STREAM,
      history.filter((event) => event.revision !== 2),
      checkpointsFor(history, 4),
    );
    expect(result.firstMismatch).toMatchObject({
      revision: 2,
      reason: 'missing-event',
      eventId: history[2].id,
    });
  });

  it('reports swapped events at the first swapped revision', () => {
    const history = events(4);
    const swapped = [history[0], { ...history[2], revision: 1 }, { ...history[1], revision: 2 }, history[3]];
    expect(verifyChain(STREAM, swapped, checkpointsFor(history, 2)).firstMismatch).toMatchObject({
      revision: 1,
      reason: 'hash',
      eventId: history[2].id,
    });
  });

  it('detects a tampered or unlinked audit record', () => {
    const history = events(6);
    const checkpoints = checkpointsFor(history, 2);
    const forgedEntry = structuredClone(checkpoints);
    forgedEntry[1].entries[0].hash = sha256('forged');
    // A chain cannot tell whether the event or its recorded hash changed; it names the revision either way.
    expect(verifyChain(STREAM, history, forgedEntry).firstMismatch).toMatchObject({
      revision: 2,
      reason: 'hash',
      expectedHash: sha256('forged'),
    });
    const gap = [checkpoints[0], checkpoints[2]];
    expect(verifyChain(STREAM, history, gap).firstMismatch).toMatchObject({
      revision: 2,
      reason: 'record-invalid',
      eventId: history[2].id,
    });
    const otherStream = checkpointsFor(events(6, 'tenant-other-0a1b2c'), 2, 'tenant-other-0a1b2c');
    expect(verifyChain(STREAM, history, otherStream).firstMismatch).toMatchObject({
      revision: 0,
      reason: 'record-invalid',
    });
    expect(verifyChain(STREAM, history, ['garbage']).firstMismatch).toMatchObject({
      revision: 0,
      reason: 'record-invalid',
    });
  });

  it('rejects a chain recomputed for altered events without the genesis link', () => {
    // An intruder who rewrites both an event and the audit stream must still start from the genesis hash.
    const history = events(3);
    const forged = checkpointsFor(history, 3);
    forged[0].prevHash = sha256('not genesis');
    expect(verifyChain(STREAM, history, forged).ok).toBe(false);
  });
});

describe('parseCheckpoint', () => {
  it('accepts what the projector writes and rejects inconsistent payloads', () => {
    const [checkpoint] = checkpointsFor(events(3), 3);
    expect(parseCheckpoint(JSON.parse(JSON.stringify(checkpoint)))).toEqual(checkpoint);
    expect(() => parseCheckpoint({ ...checkpoint, headHash: sha256('x') })).toThrow(/headHash/);
    expect(() => parseCheckpoint({ ...checkpoint, toRevision: 5 })).toThrow(/entries count/);
    expect(() => parseCheckpoint({ ...checkpoint, algorithm: 'md5' })).toThrow(/algorithm/);
    expect(() => parseCheckpoint(null)).toThrow(/not an object/);
  });
});
