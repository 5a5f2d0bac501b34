import { adminInitialSecretPath, type TenantProfile } from '@app/contracts';
import type { StepOutputs } from '@app/contracts';
import { type CommandHandlers, permanent, retryable, StepError } from '@app/platform';
import type { SecretStore } from '@app/secrets';
import { createHash } from 'crypto';
import { MailerError, type MailerPort } from './adapters/mailer';
import type { SentLog } from './adapters/sent-log';
import { WebsitesError, type WebsiteRecordPatch, type WebsitesClient } from './adapters/websites-client';
import {
  renderCancellationNotice,
  renderDeletionConfirmation,
  renderReactivationNotice,
  renderWelcomeEmail,
  type RenderedEmail,
} from './domain/emails';
import { noticeMessageId } from './domain/message-id';

export interface NotificationDeps {
  mailer: MailerPort;
  sentLog: SentLog;
  secrets: SecretStore;
  websites: WebsitesClient;
  messageIdDomain: string;
  now?: () => Date;
}

function wrap(code: string, error: unknown): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof MailerError)
    return new StepError(code, error.message, { retryable: error.retryable, cause: error });
  if (error instanceof WebsitesError) {
    return new StepError(error.code, error.message, { retryable: error.retryable, cause: error });
  }
  return retryable(code, error instanceof Error ? error.message : 'unexpected failure', error);
}

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
function cycleNoticeKey(kind: string, instant: string, step: string): string {
  const stepTag = createHash('sha256').update(step).digest('hex').slice(0, 8);
  return `${kind}-${dateKey(instant)}-${stepTag}`;
}

function isoInstant(value: unknown, name: string): string {
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw permanent('NOTIFICATION.BAD_DATE', `${name} is not ISO-8601`);
  return date.toISOString();
}

export function createNotificationHandlers(deps: NotificationDeps): CommandHandlers {
  const now = deps.now ?? (() => new Date());

  /**
   * Sets fields of the tenant's record: the one CreateWebsiteRecord reported, else the one the service finds.
   * A record already gone (a purge or rollback removed it) is an answer, `found: false`, not a failure.
   */
  async function patchRecord(
    tenant: TenantProfile,
    websiteId: string | number | null | undefined,
    patch: WebsiteRecordPatch,
    code: string,
  ): Promise<StepOutputs> {
    try {
      const id = websiteId ?? (await deps.websites.findByTenant(tenant.tenantId));
      if (id === null) return { websiteId: null, found: false };
      if (!(await deps.websites.update(id, patch))) return { websiteId: id, found: false };
      const outputs: StepOutputs = { websiteId: id, found: true, status: patch.status };
      if ('activated_at' in patch) outputs.activatedAt = patch.activated_at;
      if ('deleted_at' in patch) outputs.deletedAt = patch.deleted_at;
      return outputs;
    } catch (error) {
      throw wrap(code, error);
    }
  }

  /** Sends once per notice key: a redelivery after a recorded send answers with the first Message-ID. */
  async function sendOnce(
    tenant: TenantProfile,
    noticeKey: string,
    render: () => Promise<RenderedEmail>,
    code: string,
  ): Promise<StepOutputs> {
    const messageId = noticeMessageId(noticeKey, tenant.tenantId, deps.messageIdDomain);
    try {
      const already = await deps.sentLog.wasSent(tenant.tenantId, noticeKey);
      if (already) return { messageId: already.messageId, alreadySent: true, sentAt: already.sentAt };
      const email = await render();
      await deps.mailer.send({ messageId, to: tenant.adminEmail, ...email });
      const sentAt = now();
      await deps.sentLog.recordSent(tenant.tenantId, noticeKey, messageId, sentAt);
      return { messageId, alreadySent: false, sentAt: sentAt.toISOString() };
    } catch (error) {
      throw wrap(code, error);
    }
  }

  return {
    async SendWelcomeEmail(command) {
      const tenant = command.data.tenant;
      const path = adminInitialSecretPath(tenant.tenantId);
      const outputs = await sendOnce(
        tenant,
        'welcome',
        async () => {
          // Only read: the database-service wrote it before the workloads, and the auth service seeded that
          // very password; one made here would be a password nobody can log in with.
          const stored = await deps.secrets.get(path);
          if (!stored) {
            throw permanent('NOTIFICATION.ADMIN_SECRET_MISSING', `no admin credentials at ${path}`);
          }
          const password = stored.TEMPORARY_PASSWORD;
          if (!password) throw permanent('NOTIFICATION.SECRET_CORRUPT', `no TEMPORARY_PASSWORD at ${path}`);
          return renderWelcomeEmail(tenant, password);
        },
        'NOTIFICATION.WELCOME_SEND_FAILED',
      );
      return { ...outputs, adminCredentialsPath: path };
    },

    async SendCancellationNotice(command) {
      const { deletionDate } = command.data.params;
      const tenant = command.data.tenant;
      return sendOnce(
        tenant,
        cycleNoticeKey('cancellation', deletionDate, command.data.step),
        async () => renderCancellationNotice(tenant, deletionDate),
        'NOTIFICATION.CANCELLATION_SEND_FAILED',
      );
    },

    async SendReactivationNotice(command) {
      const { reactivatedAt } = command.data.params;
      const tenant = command.data.tenant;
      return sendOnce(
        tenant,
        cycleNoticeKey('reactivation', reactivatedAt, command.data.step),
        async () => renderReactivationNotice(tenant, reactivatedAt),
        'NOTIFICATION.REACTIVATION_SEND_FAILED',
      );
    },

    async SendDeletionConfirmation(command) {
      const tenant = command.data.tenant;
      return sendOnce(
        tenant,
        'deletion',
        async () => renderDeletionConfirmation(tenant, command.data.params.purgedAt),
        'NOTIFICATION.DELETION_SEND_FAILED',
      );
    },

    async CreateWebsiteRecord(command) {
      const tenant = command.data.tenant;
      try {
        const existing = await deps.websites.findByTenant(tenant.tenantId);
        if (existing !== null) return { websiteId: existing, created: false };
        const websiteId = await deps.websites.create({
          name: `${tenant.companyName} Store`,
          domain: tenant.domain,
          tenant_id: tenant.tenantId,
          subscription_id: tenant.subscriptionId,
          tier: tenant.tier,
          status: 'provisioning',
        });
        return { websiteId, created: true };
      } catch (error) {
        throw wrap('WEBSITES.CREATE_FAILED', error);
      }
    },

    async DeleteWebsiteRecord(command) {
      const tenant = command.data.tenant;
      // The purge's last resource step and the website's compensation: the welcome e-mail's temporary
      // password goes with the record (absent is success, so a redelivery or an early rollback passes).
      try {
        await deps.secrets.delete(adminInitialSecretPath(tenant.tenantId));
      } catch (error) {
        throw wrap('NOTIFICATION.SECRET_STORE_UNAVAILABLE', error);
      }
      try {
        const websiteId =
          command.data.params.websiteId ?? (await deps.websites.findByTenant(tenant.tenantId));
        if (websiteId === null) return { websiteId: null, deleted: false };
        await deps.websites.delete(websiteId);
        return { websiteId, deleted: true };
      } catch (error) {
        throw wrap('WEBSITES.DELETE_FAILED', error);
      }
    },

    async ActivateWebsiteRecord(command) {
      const { websiteId, activatedAt } = command.data.params;
      const patch = { status: 'active', activated_at: isoInstant(activatedAt, 'activatedAt') } as const;
      const outputs = await patchRecord(command.data.tenant, websiteId, patch, 'WEBSITES.ACTIVATE_FAILED');
      // Unlike a soft delete or restore, no purge can have removed the record of a tenant being activated:
      // an active tenant without its record is an incident for an operator, not an answer.
      if (outputs.found === false) {
        throw permanent(
          'WEBSITES.RECORD_MISSING',
          `no website record to activate for ${command.data.tenant.tenantId}`,
        );
      }
      return outputs;
    },

    async SoftDeleteWebsiteRecord(command) {
      const { websiteId, deletedAt } = command.data.params;
      const patch = { status: 'deprovisioning', deleted_at: isoInstant(deletedAt, 'deletedAt') } as const;
      return patchRecord(command.data.tenant, websiteId, patch, 'WEBSITES.SOFT_DELETE_FAILED');
    },

    async RestoreWebsiteRecord(command) {
      // No `activated_at`: a reactivation ends a grace period, the record keeps its first activation instant.
      const patch = { status: 'active', deleted_at: null } as const;
      return patchRecord(
        command.data.tenant,
        command.data.params.websiteId,
        patch,
        'WEBSITES.RESTORE_FAILED',
      );
    },
  };
}
