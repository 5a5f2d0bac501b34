import { generateKeyPairSync } from 'node:crypto';
import { tenantStream } from '@app/contracts';
import {
  anchorObjectKey,
  compareWithAnchor,
  isAnchorObjectKey,
  readAnchor,
  signAnchor,
  type AnchoredHead,
} from './anchor';
import { ANCHOR_ERROR_CODES } from './anchor-errors';
import { holdAnchoredHeads } from './anchor-heads';
import { parseAnchorPrivateKey, parseAnchorPublicKeys } from './anchor-keys';
import { chainEntries, genesisHash, type HashableEvent } from './chain';

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privatePem, publicPem };
}

const tenantId = 'acme-0a1b2c';
const stream = tenantStream(tenantId);
const events: HashableEvent[] = [0, 1, 2, 3].map((revision) => ({
  streamName: stream,
  revision,
  id: `00000000-0000-4000-8000-00000000000${revision}`,
  type: 'StepCompleted',
  data: { revision },
  metadata: { schemaVersion: 1 },
}));
const entries = chainEntries(genesisHash(stream), events);
const at = new Date('2025-01-15T10:30:00.123Z');

describe('signed anchors', () => {
  const { privatePem, publicPem } = keyPair();
  const key = parseAnchorPrivateKey(privatePem, 'AUDIT_ANCHOR_PRIVATE_KEY');
  const publicKeys = parseAnchorPublicKeys(publicPem, 'AUDIT_ANCHOR_PUBLIC_KEY');
  const heads = new Map<string, AnchoredHead>([[tenantId, { revision: 3, hash: entries[3].hash }]]);
  const anchor = signAnchor(heads, at, key);
  const objectKey = anchorObjectKey(at, '0123abcd');
  const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('names the key by its public half, the same from either side', () => {
    expect(key.keyId).toMatch(/^ed25519:[0-9a-f]{16}$/);
    expect([...publicKeys.keys()]).toEqual([key.keyId]);
  });

  it('stores an anchor under a name its signed time orders', () => {
    expect(objectKey).toBe('audit-anchors/20250115T103000.123Z-0123abcd.json');
    expect(isAnchorObjectKey(objectKey)).toBe(true);
    expect(isAnchorObjectKey('audit-anchors/latest.json')).toBe(false);
    expect(anchorObjectKey(new Date('2025-01-15T10:30:01Z')) > objectKey).toBe(true);
  });

  it('reads back what it signed', () => {
    expect(readAnchor(objectKey, bytes(anchor), publicKeys)).toEqual({ ok: true, anchor });
  });

  it('refuses an anchor whose signed content changed', () => {
    const forged = { ...anchor, tenants: { [tenantId]: { revision: 3, hash: entries[2].hash } } };
    expect(readAnchor(objectKey, bytes(forged), publicKeys)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses an anchor signed by a key it does not trust', () => {
    const other = parseAnchorPrivateKey(keyPair().privatePem, 'other');
    expect(readAnchor(objectKey, bytes(signAnchor(heads, at, other)), publicKeys)).toMatchObject({
      ok: false,
      reason: 'unknown-key',
    });
  });

  it('refuses a signed anchor copied under another time', () => {
    const later = anchorObjectKey(new Date('2026-01-01T00:00:00Z'), 'ffffffff');
    expect(readAnchor(later, bytes(anchor), publicKeys)).toMatchObject({ ok: false, reason: 'misplaced' });
  });

  it('refuses malformed content', () => {
    expect(readAnchor(objectKey, Buffer.from('{'), publicKeys)).toMatchObject({ reason: 'malformed' });
    const badTenant = { ...anchor, tenants: { '../x': { revision: 0, hash: entries[0].hash } } };
    expect(readAnchor(objectKey, bytes(badTenant), publicKeys)).toMatchObject({ reason: 'malformed' });
  });
});

describe('anchor keys', () => {
  it('refuses a key that is not Ed25519, without quoting it', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parseAnchorPrivateKey(pem, 'AUDIT_ANCHOR_PRIVATE_KEY_FILE')).toThrow(
      expect.objectContaining({
        code: ANCHOR_ERROR_CODES.KEY_INVALID,
        message: expect.stringContaining('ec'),
      }),
    );
    const garbage = 'not-a-key-SECRETVALUE';
    try {
      parseAnchorPrivateKey(garbage, 'AUDIT_ANCHOR_PRIVATE_KEY');
      throw new Error('accepted');
    } catch (error) {
      expect((error as Error).message).toBe('AUDIT_ANCHOR_PRIVATE_KEY: not a PEM private key');
    }
  });

  it('takes several public keys (rotation) and refuses a private key among them', () => {
    const a = keyPair();
    const b = keyPair();
    const keys = parseAnchorPublicKeys(`${a.publicPem}\n${b.publicPem}`, 'keys');
    expect(keys.size).toBe(2);
    expect(keys.has(parseAnchorPrivateKey(b.privatePem, 'b').keyId)).toBe(true);
    expect(() => parseAnchorPublicKeys(a.privatePem, 'keys')).toThrow(/PRIVATE KEY block/);
    expect(() => parseAnchorPublicKeys('', 'keys')).toThrow(/no PUBLIC KEY block/);
  });
});

describe('compareWithAnchor', () => {
  const recorded = (revision: number) => entries[revision]?.hash ?? null;

  it('matches the head recomputed from genesis, whatever came after the anchored revision', () => {
    const later = [...events, { ...events[3], revision: 4, id: 'later' }];
    expect(compareWithAnchor(stream, later, { revision: 2, hash: entries[2].hash }, recorded)).toEqual({
      status: 'match',
      revision: 2,
      hash: entries[2].hash,
    });
  });

  it('reports an event changed at or before the anchored revision, with what the chain records', () => {
    const changed = events.map((event) =>
      event.revision === 1 ? { ...event, data: { forged: true } } : event,
    );
    const rewrittenChain = chainEntries(genesisHash(stream), changed);
    const result = compareWithAnchor(
      stream,
      changed,
      { revision: 3, hash: entries[3].hash },
      (revision) => rewrittenChain[revision].hash,
    );
    expect(result).toEqual({
      status: 'rewritten',
      revision: 3,
      anchoredHash: entries[3].hash,
      recomputedHash: rewrittenChain[3].hash,
      recordedHash: rewrittenChain[3].hash,
    });
  });

  it('reports an event deleted before the anchored revision', () => {
    const withoutOne = events.filter((event) => event.revision !== 2);
    expect(compareWithAnchor(stream, withoutOne, { revision: 3, hash: entries[3].hash }, recorded)).toEqual(
      expect.objectContaining({ status: 'rewritten', recomputedHash: null, missingRevision: 2 }),
    );
    expect(
      compareWithAnchor(stream, events.slice(0, 2), { revision: 3, hash: entries[3].hash }, recorded),
    ).toEqual(expect.objectContaining({ status: 'rewritten', missingRevision: 2 }));
  });
});

describe('holdAnchoredHeads', () => {
  const key = parseAnchorPrivateKey(keyPair().privatePem, 'key');
  const other = 'other-0d0e0f';
  const previous = signAnchor(
    new Map([
      [tenantId, { revision: 1, hash: entries[1].hash }],
      [other, { revision: 0, hash: entries[0].hash }],
    ]),
    at,
    key,
  );
  const chain = (recordedAt: Map<string, string>) => ({
    heads: new Map([[tenantId, { revision: 3, hash: entries[3].hash }]]),
    checkpoints: 2,
    invalid: 0,
    recordedAt,
  });

  it('moves a head forward when the chain still records the anchored hash', () => {
    const result = holdAnchoredHeads(
      chain(
        new Map([
          [tenantId, entries[1].hash],
          [other, entries[0].hash],
        ]),
      ),
      previous,
    );
    expect(result.held).toEqual([]);
    expect(result.heads.get(tenantId)).toEqual({ revision: 3, hash: entries[3].hash });
  });

  it('signs the previous head again for a chain rewritten or gone', () => {
    const result = holdAnchoredHeads(chain(new Map([[tenantId, entries[2].hash]])), previous);
    expect(result.held).toEqual([
      { tenantId, revision: 1, reason: 'chain-rewritten' },
      { tenantId: other, revision: 0, reason: 'chain-missing' },
    ]);
    expect(result.heads.get(tenantId)).toEqual({ revision: 1, hash: entries[1].hash });
    expect(result.heads.get(other)).toEqual({ revision: 0, hash: entries[0].hash });
  });

  it('has nothing to hold on the first run', () => {
    expect(holdAnchoredHeads(chain(new Map()), null).held).toEqual([]);
  });
});
