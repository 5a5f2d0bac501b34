import { readFile } from 'node:fs/promises';
import {
  verifyNdjson,
  verifyTenant,
  verifyTenantWithAnchor,
  type NdjsonVerification,
  type TenantVerification,
} from '@app/audit';
import { InvalidArgumentError } from 'commander';
import { json, tenantArg } from './args';
import { asCliFailure } from './audit-anchor';
import { anchorFailed, anchorJson, anchorSourceFrom, anchorText } from './audit-verify';
import { EXIT, usage } from './cli-io';
import { assertTenantExists, type TenantctlContext } from './resources';

/**
 * `verify`: the tenant stream against its audit hash chain and, when AUDIT_ANCHOR_PUBLIC_KEY(_FILE) is set,
 * against the latest signed anchor in the archive bucket; or an NDJSON export offline.
 */
export function addVerifyCommand({ program, io, resources, setExit }: TenantctlContext): void {
  const out = (text: string) => io.stdout.write(text);
  program
    .command('verify')
    .description('Check the tenant stream against its audit hash chain, or an NDJSON export offline')
    .argument('[tenant]', 'tenant id (online check)')
    .option('--file <path>', 'verify an export of `history --ndjson` without any system access')
    .option(
      '--anchor <revision:hash>',
      'with --file: a chain head known independently (repeatable)',
      parseAnchor,
    )
    .option('--without-anchor', 'online: skip the check against the latest signed anchor')
    .option('--require-anchor', 'online: fail (exit 4) when no anchor covers the tenant')
    .option('--json', 'print JSON')
    .action(
      async (
        tenant: string | undefined,
        options: {
          file?: string;
          anchor?: { revision: number; hash: string }[];
          withoutAnchor?: boolean;
          requireAnchor?: boolean;
          json?: boolean;
        },
      ) => {
        if ((tenant === undefined) === (options.file === undefined))
          throw usage('give either a tenant id or --file');
        if (options.anchor && !options.file) throw usage('--anchor needs --file');
        if (options.file !== undefined) {
          let content: string;
          try {
            content = await readFile(options.file, 'utf8');
          } catch (error) {
            throw usage(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
          }
          const result = verifyNdjson(content, { anchors: options.anchor ?? [] });
          out(options.json ? json(result) : ndjsonVerificationText(options.file, result));
          if (!result.ok) setExit(EXIT.VERIFY_FAILED);
          return;
        }
        if (options.withoutAnchor && options.requireAnchor)
          throw usage('--without-anchor and --require-anchor exclude each other');
        const tenantId = tenantArg(tenant ?? '');
        const source = options.withoutAnchor
          ? null
          : await asCliFailure(async () => anchorSourceFrom(io.env));
        if (options.requireAnchor && source === null)
          throw usage('--require-anchor needs AUDIT_ANCHOR_PUBLIC_KEY_FILE (or AUDIT_ANCHOR_PUBLIC_KEY)');
        const store = await resources.eventStore();
        await assertTenantExists(store, tenantId);
        if (source === null) {
          const result = await verifyTenant(store, tenantId);
          out(options.json ? json(result) : verificationText(result));
          if (!result.ok) setExit(EXIT.VERIFY_FAILED);
          return;
        }
        const latest = await source.archive.latest(source.publicKeys);
        const result = await verifyTenantWithAnchor(store, tenantId, latest);
        const required = options.requireAnchor === true;
        out(
          options.json
            ? json(anchorJson(result, required))
            : verificationText(result.chain) + anchorText(result),
        );
        if (!result.chain.ok || anchorFailed(result.anchor, required)) setExit(EXIT.VERIFY_FAILED);
      },
    );
}

function parseAnchor(value: string, previous: { revision: number; hash: string }[] = []) {
  const match = /^(-1|\d{1,9}):([0-9a-f]{64})$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected <revision>:<64 lowercase hex digits>.');
  return [...previous, { revision: Number(match[1]), hash: match[2] }];
}

function verificationText(result: TenantVerification): string {
  if (result.ok) {
    const covered =
      result.coveredUpTo < 0
        ? 'no event is covered by the audit chain yet (is the audit-chain projector running?)'
        : `${result.checkedEvents} events match the audit chain up to revision ${result.coveredUpTo} (head ${result.chainHead})`;
    return `ok ${result.streamName}: ${covered}; ${result.uncoveredEvents} newer events not yet covered\n`;
  }
  const m = result.firstMismatch;
  if (!m) return `FAILED ${result.streamName}\n`;
  return [
    `FAILED ${result.streamName}: revision ${m.revision} (${m.type ?? 'unknown type'}, event ${m.eventId ?? 'unknown'}): ${m.reason}${m.detail ? ` - ${m.detail}` : ''}`,
    `  recorded hash:   ${m.expectedHash ?? '-'}`,
    `  recomputed hash: ${m.actualHash ?? '-'}`,
    `  ${result.checkedEvents} earlier events verified`,
    '',
  ].join('\n');
}

function ndjsonVerificationText(file: string, result: NdjsonVerification): string {
  if (result.ok) {
    return `ok ${file}: ${result.checkedEvents} events of ${result.streamName} verified, covered up to revision ${result.coveredUpTo} (head ${result.chainHead}); ${result.uncoveredEvents ?? 0} events not vouched for by a checkpoint\n`;
  }
  const e = result.firstError;
  if (!e) return `FAILED ${file}\n`;
  return `FAILED ${file}: line ${e.line}${e.revision !== undefined ? `, revision ${e.revision}` : ''}${e.eventId ? ` (event ${e.eventId})` : ''}: ${e.reason} - ${e.detail}\n`;
}
