import { assertTenantId } from '@app/contracts';
import { withSecretStore, type SecretStore } from '@app/secrets';

/**
 * Which notices were already sent (idempotency of redelivered commands), kept in the secret store beside the
 * tenant's other records but outside its secret prefix, so the tenant purge does not forget that the
 * deletion confirmation went out. Records hold the Message-ID and time only. Store failures are classified by
 * `@app/secrets` (`withSecretStore`), as every secret-store call of the service.
 */
export interface SentLog {
  wasSent(tenantId: string, noticeKey: string): Promise<{ messageId: string; sentAt: string } | null>;
  recordSent(tenantId: string, noticeKey: string, messageId: string, sentAt: Date): Promise<void>;
}

export const NOTICE_KEY_PATTERN = /^[a-z0-9-]{1,80}$/;

export function sentLogPath(tenantId: string, noticeKey: string): string {
  assertTenantId(tenantId);
  if (!NOTICE_KEY_PATTERN.test(noticeKey)) throw new Error('invalid notice key');
  return `/e-commerce/notifications/${tenantId}/${noticeKey}`;
}

export class SecretStoreSentLog implements SentLog {
  constructor(private readonly secrets: SecretStore) {}

  async wasSent(tenantId: string, noticeKey: string): Promise<{ messageId: string; sentAt: string } | null> {
    const path = sentLogPath(tenantId, noticeKey);
    const found = await withSecretStore('NOTIFICATION', 'read', path, () => this.secrets.get(path));
    return found?.MESSAGE_ID ? { messageId: found.MESSAGE_ID, sentAt: found.SENT_AT ?? '' } : null;
  }

  async recordSent(tenantId: string, noticeKey: string, messageId: string, sentAt: Date): Promise<void> {
    const path = sentLogPath(tenantId, noticeKey);
    const record = { MESSAGE_ID: messageId, SENT_AT: sentAt.toISOString() };
    await withSecretStore('NOTIFICATION', 'store', path, () => this.secrets.putIfAbsent(path, record));
  }
}
