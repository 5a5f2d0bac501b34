import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { isTenantId } from '@app/contracts';
import type { AnchorSigningKey } from './anchor-keys';
import { canonicalJson } from './canonical-json';
import { AUDIT_HASH_ALGORITHM, chainEntries, genesisHash, type HashableEvent } from './chain';

/** Version of the signed document below. */
export const AUDIT_ANCHOR_FORMAT = 'audit-anchor-v1';

/** Where anchors live in the archive bucket (tenant ids always end in `-<6 hex>`, so no tenant's backups clash). */
export const AUDIT_ANCHOR_PREFIX = 'audit-anchors/';

/** A tenant's audit chain head as the audit stream records it: the hash of the event at `revision`. */
export interface AnchoredHead {
  revision: number;
  hash: string;
}

/** What is signed: every tenant's chain head at one moment. */
export interface AuditAnchorBody {
  format: typeof AUDIT_ANCHOR_FORMAT;
  chainAlgorithm: typeof AUDIT_HASH_ALGORITHM;
  createdAt: string;
  keyId: string;
  tenants: Record<string, AnchoredHead>;
}

export interface SignedAuditAnchor extends AuditAnchorBody {
  /** Ed25519 over the UTF-8 bytes of canonicalJson(body), base64. */
  signature: string;
}

/** Why an anchor object is not trusted. */
export type AnchorRejection = 'malformed' | 'unknown-key' | 'bad-signature' | 'misplaced';

export type AnchorReading =
  { ok: true; anchor: SignedAuditAnchor } | { ok: false; reason: AnchorRejection; detail: string };

const HASH = /^[0-9a-f]{64}$/;
const KEY_ID = /^ed25519:[0-9a-f]{16}$/;

const bodyBytes = (body: AuditAnchorBody) => Buffer.from(canonicalJson(body), 'utf8');

/** Builds and signs an anchor; the heads are copied in tenant order so equal inputs give equal bytes. */
export function signAnchor(
  heads: ReadonlyMap<string, AnchoredHead>,
  createdAt: Date,
  key: AnchorSigningKey,
): SignedAuditAnchor {
  const tenants: Record<string, AnchoredHead> = {};
  for (const tenantId of [...heads.keys()].sort()) {
    const head = heads.get(tenantId) as AnchoredHead;
    tenants[tenantId] = { revision: head.revision, hash: head.hash };
  }
  const body: AuditAnchorBody = {
    format: AUDIT_ANCHOR_FORMAT,
    chainAlgorithm: AUDIT_HASH_ALGORITHM,
    createdAt: createdAt.toISOString(),
    keyId: key.keyId,
    tenants,
  };
  return { ...body, signature: sign(null, bodyBytes(body), key.privateKey).toString('base64') };
}

/** `audit-anchors/20250115T103000.123Z-<8 hex>.json`: lexical order is time order, two runs never collide. */
export function anchorObjectKey(createdAt: Date, suffix = randomBytes(4).toString('hex')): string {
  return `${AUDIT_ANCHOR_PREFIX}${compactInstant(createdAt)}-${suffix}.json`;
}

function compactInstant(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '');
}

const ANCHOR_KEY = /^audit-anchors\/(\d{8}T\d{6}\.\d{3}Z)-[0-9a-f]{8}\.json$/;

export function isAnchorObjectKey(key: string): boolean {
  return ANCHOR_KEY.test(key);
}

function malformed(detail: string): AnchorReading {
  return { ok: false, reason: 'malformed', detail };
}

function parseBody(value: unknown): { body: AuditAnchorBody; signature: string } | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const raw = value as Record<string, unknown>;
  if (raw['format'] !== AUDIT_ANCHOR_FORMAT) return `unknown format ${JSON.stringify(raw['format'])}`;
  if (raw['chainAlgorithm'] !== AUDIT_HASH_ALGORITHM) return 'unknown chain algorithm';
  const { createdAt, keyId, tenants, signature } = raw;
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) return 'createdAt invalid';
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) return 'keyId invalid';
  if (typeof signature !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(signature)) return 'signature invalid';
  if (tenants === null || typeof tenants !== 'object' || Array.isArray(tenants)) return 'tenants invalid';
  const heads: Record<string, AnchoredHead> = {};
  for (const [tenantId, head] of Object.entries(tenants as Record<string, unknown>)) {
    const { revision, hash } = (head ?? {}) as Record<string, unknown>;
    if (!isTenantId(tenantId)) return 'a tenant id is invalid';
    if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0)
      return `revision of ${tenantId} invalid`;
    if (typeof hash !== 'string' || !HASH.test(hash)) return `hash of ${tenantId} invalid`;
    heads[tenantId] = { revision, hash };
  }
  const body: AuditAnchorBody = {
    format: AUDIT_ANCHOR_FORMAT,
    chainAlgorithm: AUDIT_HASH_ALGORITHM,
    createdAt,
    keyId,
    tenants: heads,
  };
  return { body, signature };
}

/**
 * Reads an anchor object: well-formed, signed by one of `publicKeys` (by key id), and stored under the name
 * its signed time gives (a signed old anchor copied under a newer name would otherwise pass for the latest).
 */
export function readAnchor(
  objectKey: string,
  bytes: Buffer,
  publicKeys: ReadonlyMap<string, KeyObject>,
): AnchorReading {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return malformed('not JSON');
  }
  const parsed = parseBody(value);
  if (typeof parsed === 'string') return malformed(parsed);
  const { body, signature } = parsed;
  const key = publicKeys.get(body.keyId);
  if (!key) {
    return {
      ok: false,
      reason: 'unknown-key',
      detail: `signed by ${body.keyId}, which is not among the configured public keys`,
    };
  }
  if (!verify(null, bodyBytes(body), key, Buffer.from(signature, 'base64'))) {
    return { ok: false, reason: 'bad-signature', detail: `the signature does not verify with ${body.keyId}` };
  }
  const named = ANCHOR_KEY.exec(objectKey)?.[1];
  if (named !== compactInstant(new Date(body.createdAt))) {
    return {
      ok: false,
      reason: 'misplaced',
      detail: `signed at ${body.createdAt} but stored as ${objectKey}`,
    };
  }
  return { ok: true, anchor: { ...body, signature } };
}

/** How a tenant's stored events compare with its anchored head. */
export type AnchorComparison =
  | { status: 'match'; revision: number; hash: string }
  | {
      /** The events up to the anchored revision no longer hash to the anchored head. */
      status: 'rewritten';
      revision: number;
      anchoredHash: string;
      /** Recomputed from genesis over the stored events; null when an event up to the revision is gone. */
      recomputedHash: string | null;
      /** What the audit stream records for that revision now (null: not recorded any more). */
      recordedHash: string | null;
      /** The first revision up to the anchored one that the stream no longer holds. */
      missingRevision?: number;
    };

/**
 * Recomputes the chain from genesis over the stored events up to the anchored revision (pure). Independent of
 * the audit stream, so a rewrite of both the events and their chain entries still shows.
 */
export function compareWithAnchor(
  streamName: string,
  events: readonly HashableEvent[],
  anchored: AnchoredHead,
  recordedHashAt: (revision: number) => string | null,
): AnchorComparison {
  const covered = events
    .filter((event) => event.revision <= anchored.revision)
    .sort((a, b) => a.revision - b.revision);
  const recordedHash = recordedHashAt(anchored.revision);
  const missing = covered.findIndex((event, index) => event.revision !== index);
  if (missing !== -1 || covered.length !== anchored.revision + 1) {
    return {
      status: 'rewritten',
      revision: anchored.revision,
      anchoredHash: anchored.hash,
      recomputedHash: null,
      recordedHash,
      missingRevision: missing === -1 ? covered.length : missing,
    };
  }
  // covered holds revisions 0..anchored.revision, so at least one entry.
  const recomputed = chainEntries(genesisHash(streamName), covered)[anchored.revision].hash;
  if (recomputed === anchored.hash) return { status: 'match', revision: anchored.revision, hash: recomputed };
  return {
    status: 'rewritten',
    revision: anchored.revision,
    anchoredHash: anchored.hash,
    recomputedHash: recomputed,
    recordedHash,
  };
}
