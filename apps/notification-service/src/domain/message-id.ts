import { createHash } from 'crypto';
import { assertTenantId } from '@app/contracts';

/**
 * A deterministic Message-ID per notice: a redelivered command yields the same id, so even a resend after a
 * crash between sending and recording is recognisable as a duplicate by mail systems.
 */
export function noticeMessageId(
  kind: string,
  tenantId: string,
  discriminator: string,
  domain: string,
): string {
  assertTenantId(tenantId);
  const digest = createHash('sha256')
    .update(`${kind}\u001f${tenantId}\u001f${discriminator}`)
    .digest('hex')
    .slice(0, 24);
  return `<${kind}.${tenantId}.${digest}@${domain}>`;
}
