import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveS3Env, collectStream, createS3Client, readSmallObject, s3EndpointFrom } from '@app/archive';
import {
  anchorObjectKey,
  AuditChainProjector,
  auditStream,
  AUDIT_CHECKPOINT_EVENT_TYPE,
  chainEntries,
  genesisHash,
  parseCheckpoint,
  verifyTenant,
} from '@app/audit';
import { tenantStream } from '@app/contracts';
import { createEventStore, type EventStore } from '@app/event-store';
import { loadConfig } from '@app/platform';
import { TenantStreamBuilder } from '@app/tenancy';
import { Client } from 'pg';
import pino from 'pino';
import { z } from 'zod';
import { EXIT, run } from './tenantctl';

/**
 * `tenantctl audit anchor` and `tenantctl verify` on the real PostgreSQL and the real Ceph RGW: an anchor is
 * written locked, an untouched tenant verifies against it, and a rewrite of an event together with its audit
 * chain entries (which the chain alone cannot see) is reported, as are a forged anchor and a missing one.
 */
const DATABASE_URL =
  process.env['PROVISIONING_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/provisioning_test';
// The suite rewrites stored events by hand: never against a database not named as a test database.
if (!/_test$/.test(new URL(DATABASE_URL).pathname)) {
  throw new Error(`refusing to run against ${new URL(DATABASE_URL).pathname}: not a test database`);
}

const suffix = randomBytes(4).toString('hex');
const EVENT_SCHEMA = `anchor_es_${suffix}`;
const BUCKET = `test-anchors-${suffix}`;
const EMPTY_BUCKET = `test-anchors-empty-${suffix}`;
const silent = pino({ level: 'silent' });
const hex = () => randomBytes(3).toString('hex');
const s3Config = loadConfig(z.object(archiveS3Env()), process.env);
const s3 = createS3Client(s3EndpointFrom(s3Config));

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
/** The base64 body of the private key: it must never show in any output. */
const PRIVATE_BODY = PRIVATE_PEM.split('\n')[1];

let tmp: string;
let env: NodeJS.ProcessEnv;

async function tenantctl(
  argv: string[],
  extra: NodeJS.ProcessEnv = {},
  onOutput: (stdout: string) => void = () => undefined,
  signal?: AbortSignal,
) {
  const outcome = { code: -1, stdout: '', stderr: '' };
  outcome.code = await run(argv, {
    stdout: {
      write: (text: string) => {
        outcome.stdout += text;
        onOutput(outcome.stdout);
      },
    },
    stderr: { write: (text: string) => (outcome.stderr += text) },
    env: { ...env, ...extra },
    ...(signal ? { signal } : {}),
  });
  expect(outcome.stdout + outcome.stderr).not.toContain(PRIVATE_BODY);
  return outcome;
}

async function sql(text: string, values: unknown[] = []): Promise<number> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, values)).rowCount ?? 0;
  } finally {
    await client.end();
  }
}

async function removeBucket(bucket: string): Promise<void> {
  if (!(await s3.bucketExists(bucket))) return;
  const versions = await collectStream<{ name: string; versionId?: string }>(
    s3.listObjects(bucket, '', true, { IncludeVersion: true }),
  );
  for (const { name, versionId } of versions)
    await s3.removeObject(bucket, name, { versionId: versionId ?? 'null', governanceBypass: true });
  await s3.removeBucket(bucket);
}

/**
 * What an intruder with write access to the database does: changes an event, then recomputes and rewrites
 * every chain entry from there on in the audit stream, so the stream and its chain agree again.
 */
async function rewriteEventAndChain(store: EventStore, tenantId: string, revision: number): Promise<void> {
  const stream = tenantStream(tenantId);
  const altered = await sql(
    `UPDATE "${EVENT_SCHEMA}".events SET data = jsonb_set(data, '{outputs}', '{"namespace":"elsewhere"}')
      WHERE stream_name = $1 AND revision = $2`,
    [stream, revision],
  );
  expect(altered).toBe(1);
  const events = await store.readStream(stream);
  const audit = await store.readStream(auditStream(tenantId));
  let prevHash = genesisHash(stream);
  for (const checkpointEvent of audit.filter((event) => event.type === AUDIT_CHECKPOINT_EVENT_TYPE)) {
    const checkpoint = parseCheckpoint(checkpointEvent.data);
    const covered = events.filter(
      (event) => event.revision >= checkpoint.fromRevision && event.revision <= checkpoint.toRevision,
    );
    const entries = chainEntries(prevHash, covered);
    const data = { ...checkpoint, prevHash, entries, headHash: entries[entries.length - 1].hash };
    await sql(
      `UPDATE "${EVENT_SCHEMA}".events SET data = $1::jsonb WHERE stream_name = $2 AND revision = $3`,
      [JSON.stringify(data), auditStream(tenantId), checkpointEvent.revision],
    );
    prevHash = data.headHash;
  }
}

let store: EventStore;
const untouched = new TenantStreamBuilder(`alpha-${hex()}`, '2025-01-15T10:00:00Z').activeTenant();
const victim = new TenantStreamBuilder(`beta-${hex()}`, '2025-01-15T11:00:00Z').activeTenant();
const newcomer = new TenantStreamBuilder(`gamma-${hex()}`, '2025-01-16T11:00:00Z').activeTenant();

async function coverChains(...tenants: TenantStreamBuilder[]): Promise<void> {
  const projector = new AuditChainProjector(store, {
    name: `anchor-${suffix}`,
    cursor: false,
    logger: silent,
    flushDelayMs: 20,
  });
  await projector.start();
  try {
    for (const tenant of tenants) await projector.catchUpTenant(tenant.tenantId);
  } finally {
    await projector.stop();
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tenantctl-anchor-'));
  await writeFile(join(tmp, 'private.pem'), PRIVATE_PEM, { mode: 0o600 });
  await writeFile(join(tmp, 'public.pem'), PUBLIC_PEM);
  env = {
    EVENTSTORE_URL: DATABASE_URL,
    EVENTSTORE_SCHEMA: EVENT_SCHEMA,
    LOG_LEVEL: 'silent',
    S3_ENDPOINT: s3Config.S3_ENDPOINT,
    S3_ADMIN_ACCESS_KEY: s3Config.S3_ADMIN_ACCESS_KEY,
    S3_ADMIN_SECRET_KEY: s3Config.S3_ADMIN_SECRET_KEY,
    STORAGE_ARCHIVE_BUCKET: BUCKET,
    AUDIT_ANCHOR_PRIVATE_KEY_FILE: join(tmp, 'private.pem'),
    AUDIT_ANCHOR_PUBLIC_KEY_FILE: join(tmp, 'public.pem'),
    // GOVERNANCE, so the test can remove its locked anchors with the bypass header; production uses COMPLIANCE.
    AUDIT_ANCHOR_LOCK_MODE: 'GOVERNANCE',
    AUDIT_ANCHOR_RETENTION_DAYS: '1',
  };
  store = await createEventStore(DATABASE_URL, { schema: EVENT_SCHEMA, logger: silent, pollIntervalMs: 100 });
  await untouched.appendTo(store);
  await victim.appendTo(store);
  await coverChains(untouched, victim);
});

afterAll(async () => {
  await store?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
  await sql(`DROP SCHEMA IF EXISTS "${EVENT_SCHEMA}" CASCADE`);
  await removeBucket(BUCKET);
  await removeBucket(EMPTY_BUCKET);
});

describe('tenantctl audit anchor and verify, on PostgreSQL and the Ceph RGW', () => {
  let anchorKey: string;

  it('reports a missing anchor as such, and fails on it only when told to', async () => {
    const extra = { STORAGE_ARCHIVE_BUCKET: EMPTY_BUCKET };
    const none = await tenantctl(['verify', untouched.tenantId], extra);
    expect(none.code).toBe(EXIT.OK);
    expect(none.stdout).toContain(`anchor: none found under s3://${EMPTY_BUCKET}/audit-anchors/`);
    const required = await tenantctl(['verify', untouched.tenantId, '--require-anchor'], extra);
    expect(required.code).toBe(EXIT.VERIFY_FAILED);
    const json = JSON.parse((await tenantctl(['verify', untouched.tenantId, '--json'], extra)).stdout);
    expect(json).toMatchObject({ ok: true, chainOk: true, anchor: { status: 'no-anchor' } });
  });

  it('signs every chain head into a versioned, Object-Locked object of the archive bucket', async () => {
    const anchored = await tenantctl(['audit', 'anchor', '--json']);
    expect(anchored).toMatchObject({ code: EXIT.OK, stderr: '' });
    const written = JSON.parse(anchored.stdout) as {
      location: string;
      tenants: number;
      versionId: string;
      objectLock: { mode: string } | null;
      bucketCreated: boolean;
    };
    expect(written).toMatchObject({ tenants: 2, bucketCreated: true, objectLock: { mode: 'GOVERNANCE' } });
    anchorKey = written.location.replace(`s3://${BUCKET}/`, '');
    expect(await s3.getBucketVersioning(BUCKET)).toMatchObject({ Status: 'Enabled' });
    expect(await s3.getObjectRetention(BUCKET, anchorKey, { versionId: written.versionId })).toMatchObject({
      mode: 'GOVERNANCE',
    });
    // The lock holds: the version cannot be deleted without the governance bypass.
    await expect(s3.removeObject(BUCKET, anchorKey, { versionId: written.versionId })).rejects.toMatchObject({
      code: 'AccessDenied',
    });
    const document = JSON.parse(String(await readSmallObject(s3, BUCKET, anchorKey))) as {
      tenants: Record<string, { revision: number }>;
      signature: string;
    };
    expect(document.tenants[victim.tenantId]).toMatchObject({ revision: 25 });
    expect(document.signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(JSON.stringify(document)).not.toContain(PRIVATE_BODY);
  });

  it('verifies an untouched tenant against the anchor', async () => {
    const ok = await tenantctl(['verify', untouched.tenantId]);
    expect(ok).toMatchObject({ code: EXIT.OK, stderr: '' });
    expect(ok.stdout).toContain(
      `anchor ok ${tenantStream(untouched.tenantId)}: revision 25 matches the anchor`,
    );
  });

  it('reports a tenant newer than the latest anchor as not covered', async () => {
    await newcomer.appendTo(store);
    await coverChains(newcomer);
    const result = await tenantctl(['verify', newcomer.tenantId]);
    expect(result.code).toBe(EXIT.OK);
    expect(result.stdout).toContain(`does not cover ${tenantStream(newcomer.tenantId)}`);
    expect((await tenantctl(['verify', newcomer.tenantId, '--require-anchor'])).code).toBe(
      EXIT.VERIFY_FAILED,
    );
  });

  it('reports an event rewritten together with its chain entries, which the chain alone misses', async () => {
    await rewriteEventAndChain(store, victim.tenantId, 7);
    expect((await verifyTenant(store, victim.tenantId)).ok).toBe(true);

    const result = await tenantctl(['verify', victim.tenantId]);
    expect(result.code).toBe(EXIT.VERIFY_FAILED);
    expect(result.stdout).toContain(`ok ${tenantStream(victim.tenantId)}: 26 events match the audit chain`);
    expect(result.stdout).toContain(
      `ANCHOR MISMATCH ${tenantStream(victim.tenantId)}: the events and their audit chain were both rewritten at or before revision 25`,
    );
    const json = JSON.parse((await tenantctl(['verify', victim.tenantId, '--json'])).stdout);
    expect(json).toMatchObject({ ok: false, chainOk: true, anchor: { status: 'rewritten', revision: 25 } });
    expect(json.anchor.recomputedHash).toBe(json.anchor.recordedHash);
    expect(json.anchor.recomputedHash).not.toBe(json.anchor.anchoredHash);
    // Skipping the anchor shows what the check adds: the chain alone vouches for the rewritten stream.
    expect((await tenantctl(['verify', victim.tenantId, '--without-anchor'])).code).toBe(EXIT.OK);
    expect((await tenantctl(['verify', untouched.tenantId])).code).toBe(EXIT.OK);
  });

  it('keeps signing the anchored head of a rewritten chain, so the rewrite stays visible', async () => {
    const next = await tenantctl(['audit', 'anchor', '--json']);
    expect(next.code).toBe(EXIT.VERIFY_FAILED);
    const written = JSON.parse(next.stdout) as { previous: string; held: unknown[]; location: string };
    expect(written.previous).toBe(`s3://${BUCKET}/${anchorKey}`);
    expect(written.held).toEqual([{ tenantId: victim.tenantId, revision: 25, reason: 'chain-rewritten' }]);
    expect(next.stderr).toContain(`${victim.tenantId}: audit chain rewritten at revision 25`);
    anchorKey = written.location.replace(`s3://${BUCKET}/`, '');

    const result = await tenantctl(['verify', victim.tenantId]);
    expect(result.code).toBe(EXIT.VERIFY_FAILED);
    expect(result.stdout).toContain(`ANCHOR MISMATCH ${tenantStream(victim.tenantId)}`);
    expect(result.stdout).toContain(anchorKey);
    const fine = await tenantctl(['verify', untouched.tenantId]);
    expect(fine.code).toBe(EXIT.OK);
    expect(fine.stdout).toContain(anchorKey);
  });

  it('reports a forged anchor (bad signature) as the latest one', async () => {
    const original = JSON.parse(String(await readSmallObject(s3, BUCKET, anchorKey))) as {
      createdAt: string;
      tenants: Record<string, { revision: number; hash: string }>;
    };
    const forged = { ...original, tenants: { ...original.tenants } };
    forged.tenants[victim.tenantId] = { revision: 25, hash: '0'.repeat(64) };
    const forgedKey = anchorObjectKey(new Date(Date.parse(original.createdAt) + 1000), 'ffffffff');
    await s3.putObject(BUCKET, forgedKey, Buffer.from(JSON.stringify(forged)));

    const result = await tenantctl(['verify', untouched.tenantId]);
    expect(result.code).toBe(EXIT.VERIFY_FAILED);
    expect(result.stdout).toContain(`ANCHOR INVALID s3://${BUCKET}/${forgedKey}: bad-signature`);
  });

  it('keeps anchoring on a timer until interrupted', async () => {
    const controller = new AbortController();
    const timer = await tenantctl(
      ['audit', 'anchor', '--every', '3600'],
      {},
      (stdout) => {
        if (stdout.includes('anchored 3 tenants')) controller.abort();
      },
      controller.signal,
    );
    expect(timer.code).toBe(EXIT.INTERRUPTED);
    // The forged latest object is looked past: the victim's head is still held from the last valid anchor.
    expect(timer.stderr).toContain(`${victim.tenantId}: audit chain rewritten at revision 25`);
    expect(
      timer.stdout.match(
        /^anchored 3 tenants at \S+ to s3:\/\/\S+ \(key ed25519:[0-9a-f]{16}, version \S+, Object Lock GOVERNANCE until /gm,
      ),
    ).toHaveLength(1);
  });

  it('refuses to anchor without a usable signing key, naming the variable only', async () => {
    await writeFile(join(tmp, 'bad.pem'), 'SECRETVALUE-not-a-key');
    const bad = await tenantctl(['audit', 'anchor'], { AUDIT_ANCHOR_PRIVATE_KEY_FILE: join(tmp, 'bad.pem') });
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.stderr).toContain('AUDIT.ANCHOR_KEY_INVALID: AUDIT_ANCHOR_PRIVATE_KEY_FILE');
    expect(bad.stderr).not.toContain('SECRETVALUE');
    const none = await tenantctl(['audit', 'anchor'], { AUDIT_ANCHOR_PRIVATE_KEY_FILE: '' });
    expect(none.code).toBe(EXIT.USAGE);
    expect(none.stderr).toContain('no signing key');
  });
});
