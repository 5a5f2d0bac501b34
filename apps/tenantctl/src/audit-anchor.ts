import { readFileSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  archiveS3Env,
  createS3Client,
  ensureRetainingBucket,
  listObjectKeys,
  putRetainedObject,
  readSmallObject,
  s3EndpointFrom,
  type BucketProtection,
  type RetentionMode,
} from '@app/archive';
import {
  ANCHOR_ERROR_CODES,
  AnchorError,
  AUDIT_ANCHOR_PREFIX,
  anchorObjectKey,
  collectChainHeads,
  holdAnchoredHeads,
  isAnchorObjectKey,
  parseAnchorPrivateKey,
  parseAnchorPublicKeys,
  readAnchor,
  signAnchor,
  type AnchorSigningKey,
  type HeldHead,
  type LatestAnchor,
  type SignedAuditAnchor,
} from '@app/audit';
import type { EventStore } from '@app/event-store';
import { envBoolean, loadConfig } from '@app/platform';
import type * as Minio from 'minio';
import { z } from 'zod';
import { CliFailure, EXIT } from './cli-io';

const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const optionalText = z.preprocess(unsetIfEmpty, z.string().optional());

/**
 * The anchor's variables, read only by `audit anchor` and by `verify` when it checks anchors: the archive
 * bucket's S3 variables (as the services that write backups have them) and the keys. Key variables are
 * checked for presence here and parsed elsewhere, so no schema message can ever echo a key.
 */
export function anchorConfigSchema(env: NodeJS.ProcessEnv) {
  return z.object({
    ...archiveS3Env(env),
    /** A PKCS#8 PEM Ed25519 private key, in a file (a mounted Secret) or, second choice, the variable itself. */
    AUDIT_ANCHOR_PRIVATE_KEY_FILE: optionalText,
    AUDIT_ANCHOR_PRIVATE_KEY: optionalText,
    /** One or more SPKI PEM Ed25519 public keys (several while a key is being replaced). */
    AUDIT_ANCHOR_PUBLIC_KEY_FILE: optionalText,
    AUDIT_ANCHOR_PUBLIC_KEY: optionalText,
    /** S3 Object Lock mode of each anchor: COMPLIANCE cannot be lifted by anyone before the date. */
    AUDIT_ANCHOR_LOCK_MODE: z.enum(['COMPLIANCE', 'GOVERNANCE']).default('COMPLIANCE'),
    /** Days each anchor is locked for; 0 writes no retention (versioning only). */
    AUDIT_ANCHOR_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
    /** Refuse to write an anchor the bucket cannot lock (instead of relying on versioning alone). */
    AUDIT_ANCHOR_REQUIRE_OBJECT_LOCK: envBoolean(false),
  });
}

export type AnchorConfig = z.infer<ReturnType<typeof anchorConfigSchema>>;

export function loadAnchorConfig(env: NodeJS.ProcessEnv): AnchorConfig {
  return loadConfig(anchorConfigSchema(env), env);
}

function keyText(file: string | undefined, value: string | undefined, name: string): [string, string] | null {
  if (file !== undefined && value !== undefined)
    throw new AnchorError(ANCHOR_ERROR_CODES.KEY_INVALID, `set ${name}_FILE or ${name}, not both`);
  if (value !== undefined) return [value, name];
  if (file === undefined) return null;
  try {
    return [readFileSync(file, 'utf8'), `${name}_FILE (${file})`];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new AnchorError(ANCHOR_ERROR_CODES.KEY_INVALID, `${name}_FILE (${file}): ${code}`);
  }
}

export function signingKeyFrom(config: AnchorConfig): AnchorSigningKey {
  const text = keyText(
    config.AUDIT_ANCHOR_PRIVATE_KEY_FILE,
    config.AUDIT_ANCHOR_PRIVATE_KEY,
    'AUDIT_ANCHOR_PRIVATE_KEY',
  );
  if (text === null) {
    throw new AnchorError(
      ANCHOR_ERROR_CODES.KEY_INVALID,
      'no signing key: set AUDIT_ANCHOR_PRIVATE_KEY_FILE (or AUDIT_ANCHOR_PRIVATE_KEY)',
    );
  }
  return parseAnchorPrivateKey(...text);
}

/** The verification keys, or null when none is configured (anchors are then not checked). */
export function publicKeysFrom(config: AnchorConfig): Map<string, KeyObject> | null {
  const text = keyText(
    config.AUDIT_ANCHOR_PUBLIC_KEY_FILE,
    config.AUDIT_ANCHOR_PUBLIC_KEY,
    'AUDIT_ANCHOR_PUBLIC_KEY',
  );
  return text === null ? null : parseAnchorPublicKeys(...text);
}

export interface AnchorWritten {
  location: string;
  keyId: string;
  createdAt: string;
  tenants: number;
  /** Checkpoint events of the audit category that did not parse (left out). */
  invalidCheckpoints: number;
  /** The previous valid anchor the heads were checked against (null: none, this is the first). */
  previous: string | null;
  /** Tenants whose chain no longer records the previously anchored head: their old head is signed again. */
  held: HeldHead[];
  versionId: string | null;
  objectLock: { mode: RetentionMode; retainUntil: string } | null;
  bucketCreated: boolean;
}

/** The anchors in the archive bucket. */
export class AnchorArchive {
  private readonly client: Minio.Client;
  readonly bucket: string;

  constructor(private readonly config: AnchorConfig) {
    this.client = createS3Client(s3EndpointFrom(config));
    this.bucket = config.STORAGE_ARCHIVE_BUCKET;
  }

  location(key = AUDIT_ANCHOR_PREFIX): string {
    return `s3://${this.bucket}/${key}`;
  }

  /**
   * Signs every tenant's recorded chain head and writes it as a new, locked object. Heads are checked against
   * the previous valid anchor (signed by this key or one of `trusted`) first: see holdAnchoredHeads.
   */
  async anchor(
    store: EventStore,
    key: AnchorSigningKey,
    now: Date,
    trusted: ReadonlyMap<string, KeyObject> = new Map(),
  ): Promise<AnchorWritten> {
    const protection = await this.protection();
    const keys = new Map([...trusted, [key.keyId, createPublicKey(key.privateKey)]]);
    const previous = await this.latestValid(keys);
    const watch = new Map(
      Object.entries(previous?.anchor.tenants ?? {}).map(([tenantId, head]) => [tenantId, head.revision]),
    );
    const chain = await collectChainHeads(store, watch);
    const { heads, held } = holdAnchoredHeads(chain, previous?.anchor ?? null);
    const anchor = signAnchor(heads, now, key);
    const objectKey = anchorObjectKey(now);
    const days = this.config.AUDIT_ANCHOR_RETENTION_DAYS;
    const retention =
      protection.objectLock && days > 0
        ? { mode: this.config.AUDIT_ANCHOR_LOCK_MODE, until: new Date(now.getTime() + days * 86_400_000) }
        : undefined;
    const versionId = await putRetainedObject(
      this.client,
      this.bucket,
      objectKey,
      Buffer.from(`${JSON.stringify(anchor, null, 2)}\n`, 'utf8'),
      { contentType: 'application/json', ...(retention ? { retention } : {}) },
    );
    return {
      location: this.location(objectKey),
      keyId: key.keyId,
      createdAt: anchor.createdAt,
      tenants: heads.size,
      invalidCheckpoints: chain.invalid,
      previous: previous ? this.location(previous.key) : null,
      held,
      versionId,
      objectLock: retention ? { mode: retention.mode, retainUntil: retention.until.toISOString() } : null,
      bucketCreated: protection.created,
    };
  }

  private async protection(): Promise<BucketProtection> {
    const protection = await ensureRetainingBucket(this.client, this.bucket, this.config.S3_REGION);
    if (!protection.objectLock && this.config.AUDIT_ANCHOR_REQUIRE_OBJECT_LOCK) {
      throw new AnchorError(
        ANCHOR_ERROR_CODES.BUCKET_UNPROTECTED,
        `bucket ${this.bucket} has no Object Lock (it can only be enabled when a bucket is created) and ` +
          'AUDIT_ANCHOR_REQUIRE_OBJECT_LOCK is set',
      );
    }
    return protection;
  }

  private async anchorKeys(): Promise<string[]> {
    return (await listObjectKeys(this.client, this.bucket, AUDIT_ANCHOR_PREFIX)).filter(isAnchorObjectKey);
  }

  private async read(key: string, publicKeys: ReadonlyMap<string, KeyObject>): Promise<LatestAnchor> {
    const bytes = await readSmallObject(this.client, this.bucket, key);
    if (bytes === null) return { found: false, location: this.location() };
    return { found: true, location: this.location(key), reading: readAnchor(key, bytes, publicKeys) };
  }

  /** The newest anchor object, read and checked against `publicKeys`. */
  async latest(publicKeys: ReadonlyMap<string, KeyObject>): Promise<LatestAnchor> {
    const key = (await this.anchorKeys()).pop();
    return key === undefined ? { found: false, location: this.location() } : this.read(key, publicKeys);
  }

  /**
   * The newest anchor that verifies, looking past forged or unreadable ones (which `verify` reports), so an
   * object planted in the bucket cannot make the next run forget the heads signed before it.
   */
  private async latestValid(
    publicKeys: ReadonlyMap<string, KeyObject>,
  ): Promise<{ key: string; anchor: SignedAuditAnchor } | null> {
    for (const key of (await this.anchorKeys()).reverse()) {
      const latest = await this.read(key, publicKeys);
      if (latest.found && latest.reading.ok) return { key, anchor: latest.reading.anchor };
    }
    return null;
  }
}

/** An anchor refusal as tenantctl reports it: a key problem is a configuration (usage) error. */
export async function asCliFailure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof AnchorError)) throw error;
    const code = error.code === ANCHOR_ERROR_CODES.KEY_INVALID ? EXIT.USAGE : EXIT.ERROR;
    throw new CliFailure(code, `${error.code}: ${error.message}`);
  }
}
