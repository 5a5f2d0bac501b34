import type { StepOutputs, TenantProfile } from '@app/contracts';
import { createHash } from 'node:crypto';
import { smtpStepError } from '../adapters/mailer';
import type { RenderedEmail } from '@app/plans';
import { noticeMessageId } from '../domain/message-id';
import type { NotificationHandlerDeps } from './deps';
import { isoInstant } from './notification-step';

/** `yyyymmddhhmmss` of an ISO-8601 instant (UTC), validated as isoInstant does. */
function dateKey(iso: string): string {
  return isoInstant(iso, 'date parameter')
    .replace(/[^0-9]/g, '')
    .slice(0, 14);
}

/**
 * The sent-log key of a notice that can recur (one per cancellation or reactivation cycle): its date, and the
 * orchestrator step that asked for it, so a second cycle with the same date (billing's end-of-period
 * `effective_date`) is still told, while a redelivery of the same step is not.
 */
export function cycleNoticeKey(kind: string, instant: string, step: string): string {
  const stepTag = createHash('sha256').update(step).digest('hex').slice(0, 8);
  return `${kind}-${dateKey(instant)}-${stepTag}`;
}

/**
 * Sends once per notice key: a redelivery after a recorded send answers with the first Message-ID. A failed
 * send fails with `code` (`smtpStepError`); the sent-log's failures are the secret store's.
 */
export async function sendOnce(
  deps: NotificationHandlerDeps,
  tenant: TenantProfile,
  noticeKey: string,
  render: () => Promise<RenderedEmail>,
  code: string,
): Promise<StepOutputs> {
  const messageId = noticeMessageId(noticeKey, tenant.tenantId, deps.messageIdDomain);
  const already = await deps.sentLog.wasSent(tenant.tenantId, noticeKey);
  if (already) return { messageId: already.messageId, alreadySent: true, sentAt: already.sentAt };
  const email = await render();
  try {
    await deps.mailer.send({ messageId, to: tenant.adminEmail, ...email });
  } catch (error) {
    throw smtpStepError(error, code);
  }
  const sentAt = (deps.now ?? (() => new Date()))();
  await deps.sentLog.recordSent(tenant.tenantId, noticeKey, messageId, sentAt);
  return { messageId, alreadySent: false, sentAt: sentAt.toISOString() };
}
