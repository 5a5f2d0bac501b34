import { adminInitialSecretPath, tenantSecretPrefix, type TenantProfile } from '@app/contracts';
import { StepError } from '@app/platform';
import { InMemorySecretStore } from '@app/secrets';
import { runner, testTenant } from '@app/testing';
import type { MailerPort, OutgoingEmail } from './adapters/mailer';
import { SecretStoreSentLog } from './adapters/sent-log';
import type { WebsitesClient } from './adapters/websites-client';
import { createNotificationHandlers } from './commands';

/**
 * The welcome e-mail's temporary password (`admin-initial`) must not outlive the tenant: DeleteWebsiteRecord,
 * the purge's last resource step and the website step's compensation, removes it, idempotently.
 */
describe('admin-initial secret at purge and rollback', () => {
  function setup() {
    const secrets = new InMemorySecretStore();
    const sent: OutgoingEmail[] = [];
    const mailer: MailerPort = {
      send: async (email) => void sent.push(email),
      verify: async () => true,
      close: async () => undefined,
    };
    const records = new Map<number, string>();
    let nextId = 1;
    const websites = {
      findByTenant: async (tenantId: string) =>
        [...records].find(([, owner]) => owner === tenantId)?.[0] ?? null,
      create: async (input: { tenant_id: string }) => {
        records.set(nextId, input.tenant_id);
        return nextId++;
      },
      delete: async (id: number) => void records.delete(id),
    } as unknown as WebsitesClient;
    const run = runner(
      createNotificationHandlers({
        mailer,
        sentLog: new SecretStoreSentLog(secrets),
        secrets,
        websites,
        messageIdDomain: 'collectverything.com',
      }),
    );
    return { secrets, sent, records, run };
  }

  /** The database-service writes it at ProvisionDatabases; the welcome e-mail only reads it. */
  async function seedAdminSecret(secrets: InMemorySecretStore, tenant: TenantProfile): Promise<void> {
    await secrets.put(adminInitialSecretPath(tenant.tenantId), {
      ADMIN_LOGIN: tenant.adminEmail,
      TEMPORARY_PASSWORD: 'Seeded#Pass2word',
      MUST_CHANGE_AT_FIRST_LOGIN: 'true',
    });
  }

  it('deletes the temporary password with the website record at purge, and again on a redelivery', async () => {
    const { secrets, sent, records, run } = setup();
    const tenant = testTenant('Purged Co');
    const neighbour = testTenant('Neighbour Co');
    await secrets.put(`${tenantSecretPrefix(tenant.tenantId)}auth-db`, { DB_PASSWORD: 'not-ours-to-delete' });
    const { websiteId } = await run('CreateWebsiteRecord', tenant, {});
    await seedAdminSecret(secrets, tenant);
    await seedAdminSecret(secrets, neighbour);
    await run('SendWelcomeEmail', tenant, {});
    await run('SendWelcomeEmail', neighbour, {});
    expect(sent).toHaveLength(2);
    expect(await secrets.get(adminInitialSecretPath(tenant.tenantId))).toBeDefined();

    const purge = { websiteId: websiteId as number };
    expect(await run('DeleteWebsiteRecord', tenant, purge)).toMatchObject({ websiteId, deleted: true });
    expect(records.size).toBe(0);
    expect(await secrets.get(adminInitialSecretPath(tenant.tenantId))).toBeUndefined();
    // Another service's secret and another tenant's password stay.
    expect(await secrets.list(tenantSecretPrefix(tenant.tenantId))).toEqual([
      `${tenantSecretPrefix(tenant.tenantId)}auth-db`,
    ]);
    expect(await secrets.get(adminInitialSecretPath(neighbour.tenantId))).toBeDefined();

    await expect(run('DeleteWebsiteRecord', tenant, purge)).resolves.toMatchObject({ websiteId });
    expect(await secrets.get(adminInitialSecretPath(tenant.tenantId))).toBeUndefined();
  });

  it('succeeds as a compensation when neither the record nor the password exists', async () => {
    const { secrets, run } = setup();
    const tenant = testTenant('Rolled Back Co');
    expect(await run('DeleteWebsiteRecord', tenant, { websiteId: null })).toEqual({
      websiteId: null,
      deleted: false,
    });
    expect(await secrets.list(tenantSecretPrefix(tenant.tenantId))).toEqual([]);
  });

  it('reports an unreachable secret store as retryable, so the purge step is tried again', async () => {
    const { secrets, run } = setup();
    const tenant = testTenant('Flaky Store Co');
    jest.spyOn(secrets, 'delete').mockRejectedValueOnce(new Error('connection refused'));
    const error = await run('DeleteWebsiteRecord', tenant, { websiteId: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'NOTIFICATION.SECRET_STORE_UNAVAILABLE', retryable: true });
  });
});
