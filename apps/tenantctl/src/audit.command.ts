import { json, positiveInt } from './args';
import {
  AnchorArchive,
  asCliFailure,
  loadAnchorConfig,
  publicKeysFrom,
  signingKeyFrom,
  type AnchorWritten,
} from './audit-anchor';
import { EXIT } from './cli-io';
import { failureOf } from './failure';
import { printable } from './format';
import type { TenantctlContext } from './resources';

/**
 * `audit anchor`: signs every tenant's audit chain head with a key the database never holds and writes the
 * signed checkpoint to the archive bucket, once (a Kubernetes CronJob) or every `--every` seconds.
 */
export function addAuditCommands({ program, io, resources, setExit }: TenantctlContext): void {
  const audit = program.command('audit').description('Anchor the audit hash chains outside the database');
  audit
    .command('anchor')
    .description(
      'Sign every tenant audit chain head (Ed25519, AUDIT_ANCHOR_PRIVATE_KEY_FILE) and write the signed ' +
        'checkpoint to the archive bucket (STORAGE_ARCHIVE_BUCKET, under audit-anchors/)',
    )
    .option(
      '--every <seconds>',
      'keep running, anchoring again every <seconds> (60..86400)',
      positiveInt('--every', 60, 86_400),
    )
    .option('--json', 'print JSON')
    .action((options: { every?: number; json?: boolean }) => asCliFailure(() => anchor(options)));

  async function anchor(options: { every?: number; json?: boolean }): Promise<void> {
    const config = loadAnchorConfig(io.env);
    const key = signingKeyFrom(config);
    const archive = new AnchorArchive(config);
    const store = await resources.eventStore();
    const now = () => io.now?.() ?? new Date();
    // Anchors signed by an earlier key stay trusted while its public half is still configured.
    const trusted = publicKeysFrom(config) ?? new Map();
    const once = async () => {
      const written = await archive.anchor(store, key, now(), trusted);
      io.stdout.write(options.json ? json(written) : anchorText(written));
      for (const { tenantId, revision, reason } of written.held) {
        io.stderr.write(
          `tenantctl: ${tenantId}: audit chain ${reason === 'chain-rewritten' ? 'rewritten' : 'no longer recorded'} at revision ${revision} (anchored in ` +
            `${written.previous}): its anchored head was signed again; run tenantctl verify ${tenantId}\n`,
        );
      }
      if (written.held.length > 0) setExit(EXIT.VERIFY_FAILED);
    };
    if (options.every === undefined) return once();
    while (!io.signal?.aborted) {
      try {
        await once();
      } catch (error) {
        // A timer outlives one failed round (the store or the bucket briefly away): say so and go on.
        io.stderr.write(`tenantctl: audit anchor failed: ${printable(failureOf(error).message)}\n`);
      }
      await sleep(options.every * 1000, io.signal);
    }
    setExit(EXIT.INTERRUPTED);
  }
}

function anchorText(written: AnchorWritten): string {
  const lock = written.objectLock
    ? `Object Lock ${written.objectLock.mode} until ${written.objectLock.retainUntil}`
    : 'no Object Lock on this bucket (versioning only)';
  const invalid =
    written.invalidCheckpoints > 0
      ? `; ${written.invalidCheckpoints} malformed checkpoints left out (run tenantctl verify)`
      : '';
  return (
    `anchored ${written.tenants} tenants at ${written.createdAt} to ${written.location} ` +
    `(key ${written.keyId}, version ${written.versionId ?? '-'}, ${lock})${invalid}\n`
  );
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
