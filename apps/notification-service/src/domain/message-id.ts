import { createHash } from 'crypto';
import { assertTenantId } from '@app/contracts';

/**
 * A deterministic Message-ID per notice: a redelivered command yields the same id, so even a resend after a
 * crash between sending and recording is recognisable as a duplicate by mail systems.
 */
export function noticeMessageId(kind: string, tenantId: string, domain: string): string {
  assertTenantId(tenantId);
  // The trailing separator keeps the ids sent before a third, always-empty part was dropped.
  const digest = createHash('sha256').update(`${kind}\u001f${tenantId}\u001f`).digest('hex').slice(0, 24);
  return `<${kind}.${tenantId}.${digest}@${domain}>`;
}
