import type { KeyObject } from 'node:crypto';
import type { TenantAnchorCheck, TenantAnchorVerification } from '@app/audit';
import { AnchorArchive, loadAnchorConfig, publicKeysFrom } from './audit-anchor';

/** Where `verify` finds anchors and the keys it trusts; null when no public key is configured. */
export function anchorSourceFrom(
  env: NodeJS.ProcessEnv,
): { archive: AnchorArchive; publicKeys: Map<string, KeyObject> } | null {
  // S3 credentials are only asked for once a public key says anchors are to be checked.
  if (!env['AUDIT_ANCHOR_PUBLIC_KEY_FILE'] && !env['AUDIT_ANCHOR_PUBLIC_KEY']) return null;
  const config = loadAnchorConfig(env);
  const publicKeys = publicKeysFrom(config);
  return publicKeys === null ? null : { archive: new AnchorArchive(config), publicKeys };
}

/** A rewrite or an untrustworthy anchor always fails; no anchor for the tenant fails only when required. */
export function anchorFailed(check: TenantAnchorCheck, required: boolean): boolean {
  switch (check.status) {
    case 'match':
      return false;
    case 'rewritten':
    case 'invalid-anchor':
      return true;
    case 'no-anchor':
    case 'not-anchored':
      return required;
  }
}

export function anchorJson(result: TenantAnchorVerification, required: boolean) {
  return {
    ...result.chain,
    ok: result.chain.ok && !anchorFailed(result.anchor, required),
    chainOk: result.chain.ok,
    anchor: result.anchor,
  };
}

export function anchorText(result: TenantAnchorVerification): string {
  const check = result.anchor;
  const stream = result.chain.streamName;
  switch (check.status) {
    case 'no-anchor':
      return `anchor: none found under ${check.location} (run tenantctl audit anchor)\n`;
    case 'not-anchored':
      return `anchor: the latest anchor (${check.createdAt}, ${check.location}) does not cover ${stream}\n`;
    case 'invalid-anchor':
      return `ANCHOR INVALID ${check.location}: ${check.reason}: ${check.detail}\n`;
    case 'match':
      return `anchor ok ${stream}: revision ${check.revision} matches the anchor of ${check.createdAt} (key ${check.keyId}, ${check.location})\n`;
    case 'rewritten': {
      const what = result.chain.ok
        ? 'the events and their audit chain were both rewritten'
        : 'the stream was altered';
      const lines = [
        `ANCHOR MISMATCH ${stream}: ${what} at or before revision ${check.revision}`,
        `  anchored head:   ${check.anchoredHash} (${check.createdAt}, key ${check.keyId}, ${check.location})`,
        check.missingRevision !== undefined
          ? `  recomputed head: - (revision ${check.missingRevision} is missing from the stream)`
          : `  recomputed head: ${check.recomputedHash ?? '-'}`,
        `  recorded head:   ${check.recordedHash ?? '-'} (what the audit stream holds now)`,
      ];
      return `${lines.join('\n')}\n`;
    }
  }
}
