import { adminInitialSecretPath, COMMAND_CATALOG } from '@app/contracts';
import { InMemorySecretStore } from '@app/secrets';
import { runner, testTenant } from '@app/testing';
import { MailerError, type MailerPort, type OutgoingEmail } from '../adapters/mailer';
import { SecretStoreSentLog } from '../adapters/sent-log';
import type { WebsitesClient } from '../adapters/websites-client';
import { createNotificationHandlers, NOTIFICATION_COMMAND_HANDLERS } from '.';

function setup(send: (email: OutgoingEmail) => Promise<void> = async () => undefined) {
  const secrets = new InMemorySecretStore();
  const sentLog = new SecretStoreSentLog(secrets);
  const mailer: MailerPort = { send, verify: async () => true, close: async () => undefined };
  const handlers = createNotificationHandlers({
    mailer,
    sentLog,
    secrets,
    websites: {} as WebsitesClient,
    messageIdDomain: 'collectverything.com',
  });
  return { secrets, sentLog, handlers, run: runner(handlers) };
}

describe('notification-service command handlers', () => {
  it('has one @MessagePattern handler class for each command the catalog gives the service', () => {
    const owned = Object.entries(COMMAND_CATALOG)
      .filter(([, entry]) => entry.service === 'notification')
      .map(([type]) => type)
      .sort();
    expect(NOTIFICATION_COMMAND_HANDLERS).toHaveLength(owned.length);
    expect(Object.keys(setup().handlers).sort()).toEqual(owned);
  });

  it.each([
    ['a 550 reply', 550, false],
    ['a 421 reply', 421, true],
    ['no reply', undefined, true],
  ])(
    "fails a send that got %s under the notice's code, retryable unless refused, recording nothing",
    async (_reply, replyCode, retryable) => {
      const failure = new MailerError(
        `SMTP send failed${replyCode ? ` (${replyCode})` : ''}`,
        retryable,
        replyCode,
      );
      const { sentLog, run } = setup(() => Promise.reject(failure));
      const tenant = testTenant('Bounced Co');
      const attempt = run('SendDeletionConfirmation', tenant, { purgedAt: '2025-07-15T01:00:00Z' });
      await expect(attempt).rejects.toMatchObject({
        code: 'NOTIFICATION.DELETION_SEND_FAILED',
        retryable,
        message: failure.message,
      });
      expect(await sentLog.wasSent(tenant.tenantId, 'deletion')).toBeNull();
    },
  );

  it('classifies the sent-log and the admin secret as every secret-store call of the service', async () => {
    const { secrets, run } = setup();
    const tenant = testTenant('Store Down Co');
    await secrets.put(adminInitialSecretPath(tenant.tenantId), { TEMPORARY_PASSWORD: 'Seeded#Pass2word' });
    jest.spyOn(secrets, 'get').mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
    await expect(run('SendWelcomeEmail', tenant, {})).rejects.toMatchObject({
      code: 'NOTIFICATION.SECRET_STORE_UNAVAILABLE',
      retryable: true,
      message: `read /e-commerce/notifications/${tenant.tenantId}/welcome: secret store unavailable`,
    });
    // The sent-log answers, the admin secret does not.
    const { get } = InMemorySecretStore.prototype;
    jest
      .spyOn(secrets, 'get')
      .mockImplementation((path) =>
        path === adminInitialSecretPath(tenant.tenantId)
          ? Promise.reject(new Error('connect ECONNREFUSED'))
          : get.call(secrets, path),
      );
    await expect(run('SendWelcomeEmail', tenant, {})).rejects.toMatchObject({
      code: 'NOTIFICATION.SECRET_STORE_UNAVAILABLE',
      message: `read ${adminInitialSecretPath(tenant.tenantId)}: secret store unavailable`,
    });
  });
});
