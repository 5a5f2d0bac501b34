import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { adminInitialSecretPath, type TenantProfile } from '@app/contracts';
import { InMemorySecretStore } from '@app/secrets';
import { StepError } from '@app/platform';
import { SmtpMailer } from './adapters/mailer';
import { SecretStoreSentLog } from './adapters/sent-log';
import { WebsitesClient } from './adapters/websites-client';
import { createNotificationHandlers } from './commands';
import { runner, testTenant } from '@app/testing';

interface Received {
  from: string;
  to: string[];
  parsed: ParsedMail;
  raw: string;
}

async function stepError(promise: Promise<unknown>): Promise<StepError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StepError) return error;
    throw error;
  }
  throw new Error('expected a StepError');
}

const HANG = -1;
/** Creates the record, then answers after the client's timeout: the client cannot tell it was created. */
const SLOW_CREATE = -2;

/** websites-service stand-in: records requests; `plan` decides the status of the next replies. */
class WebsitesStandIn {
  readonly requests: { method: string; url: string; auth: string; body: unknown }[] = [];
  readonly records = new Map<number, { id: number; tenant_id: string; [field: string]: unknown }>();
  /** What a well-behaved service does with `Idempotency-Key`: the same key answers the same record. */
  private readonly byIdempotencyKey = new Map<string, number>();
  plan: number[] = [];
  always: number | null = null;
  private nextId = 789;
  server: Server = createServer((req, res) => void this.handle(req, res));

  private async body(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : null;
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const body = await this.body(req);
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers.authorization ?? '',
      body,
    });
    const forced = this.plan.shift() ?? this.always;
    res.setHeader('content-type', 'application/json');
    if (forced === HANG) {
      // Answers after the client's timeout: the client must give up and retry.
      setTimeout(() => res.end('{}'), 4_000).unref();
      return;
    }
    if (forced !== null && forced !== undefined && forced !== SLOW_CREATE) {
      res.statusCode = forced;
      res.end(JSON.stringify({ error: 'forced' }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/api/v1/websites') {
      const tenant = url.searchParams.get('tenant_id');
      res.end(JSON.stringify([...this.records.values()].filter((r) => r.tenant_id === tenant)));
    } else if (req.method === 'POST' && url.pathname === '/api/v1/websites') {
      const key = req.headers['idempotency-key'];
      const known =
        typeof key === 'string' ? this.records.get(this.byIdempotencyKey.get(key) ?? -1) : undefined;
      const record = known ?? { id: this.nextId++, ...(body as { tenant_id: string }) };
      this.records.set(record.id, record);
      if (typeof key === 'string') this.byIdempotencyKey.set(key, record.id);
      res.statusCode = 201;
      if (forced === SLOW_CREATE) setTimeout(() => res.end(JSON.stringify(record)), 4_000).unref();
      else res.end(JSON.stringify(record));
    } else if (req.method === 'PATCH' && url.pathname.startsWith('/api/v1/websites/')) {
      const record = this.records.get(Number(url.pathname.split('/').pop()));
      if (record) Object.assign(record, body as object, { id: record.id });
      res.statusCode = record ? 200 : 404;
      res.end(JSON.stringify(record ?? { error: 'not found' }));
    } else if (req.method === 'DELETE' && url.pathname.startsWith('/api/v1/websites/')) {
      const id = Number(url.pathname.split('/').pop());
      res.statusCode = this.records.delete(id) ? 204 : 404;
      res.end();
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  }
}

describe('notification-service (real SMTP peer, websites-service stand-in)', () => {
  const received: Received[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        void simpleParser(raw).then((parsed) => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            parsed,
            raw: raw.toString('utf8'),
          });
          callback();
        }, callback);
      });
    },
  });
  const websites = new WebsitesStandIn();
  const secrets = new InMemorySecretStore();
  let mailer: SmtpMailer;
  let run: ReturnType<typeof runner>;
  let client: WebsitesClient;

  beforeAll(async () => {
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => websites.server.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    const webPort = (websites.server.address() as AddressInfo).port;
    mailer = new SmtpMailer(
      `smtp://127.0.0.1:${smtpPort}`,
      'Collect & Verything <no-reply@collectverything.com>',
    );
    client = new WebsitesClient({
      baseUrl: `http://127.0.0.1:${webPort}`,
      token: 'internal-token-123',
      // Long enough that a stalled test process (GC, a loaded CI machine) is not taken for a slow service.
      timeoutMs: 2_000,
      maxAttempts: 3,
      backoffMs: 1,
    });
    run = runner(
      createNotificationHandlers({
        mailer,
        sentLog: new SecretStoreSentLog(secrets),
        secrets,
        websites: client,
        messageIdDomain: 'collectverything.com',
      }),
    );
  });

  afterAll(async () => {
    await mailer.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await new Promise<void>((resolve) => websites.server.close(() => resolve()));
  });

  const abc = testTenant('ABC Corporation', {
    adminEmail: 'admin@abc-corp.com',
    tier: 'premium',
  });

  /** What the database-service writes at ProvisionDatabases, long before the welcome e-mail. */
  async function seedAdminSecret(tenant: TenantProfile, password = 'Seeded#Pass2word'): Promise<string> {
    await secrets.put(adminInitialSecretPath(tenant.tenantId), {
      ADMIN_LOGIN: tenant.adminEmail,
      TEMPORARY_PASSWORD: password,
      MUST_CHANGE_AT_FIRST_LOGIN: 'true',
    });
    return password;
  }

  it('sends the spec 11.2 welcome e-mail (French, text + HTML, premium facts) exactly once', async () => {
    // Other secrets of the tenant exist; none of them may appear in the e-mail.
    await secrets.put(`/e-commerce/tenants/${abc.tenantId}/minio`, {
      MINIO_SECRET_KEY: 'S3cretMinioKeyValue0001',
    });
    await secrets.put(`/e-commerce/tenants/${abc.tenantId}/auth-db`, { DB_PASSWORD: 'DbPasswordValue0002' });
    const seeded = await seedAdminSecret(abc);
    const first = await run('SendWelcomeEmail', abc, {});
    const second = await run('SendWelcomeEmail', abc, {}); // redelivery
    expect(received).toHaveLength(1);
    expect(second).toMatchObject({ alreadySent: true, messageId: first.messageId });

    const mail = received[0];
    expect(mail.to).toEqual(['admin@abc-corp.com']);
    expect(mail.from).toBe('no-reply@collectverything.com');
    expect(mail.parsed.subject).toBe(
      'Bienvenue sur Collect & Verything - Votre Plateforme E-commerce est Prete !',
    );
    expect(mail.parsed.messageId).toBe(String(first.messageId));

    // The e-mailed password is the one the auth service was seeded with, unchanged.
    const password = (await secrets.get(adminInitialSecretPath(abc.tenantId)))?.TEMPORARY_PASSWORD ?? '';
    expect(password).toBe(seeded);
    const text = mail.parsed.text ?? '';
    const domain = abc.domain;
    for (const line of [
      'Chere Equipe ABC Corporation',
      "Votre plateforme e-commerce Collect & Verything est maintenant en ligne et prete a l'emploi !",
      `URL Boutique : https://${domain}`,
      `Portail Admin : https://${domain}/admin`,
      "Nom d'utilisateur : admin@abc-corp.com",
      `Mot de passe temporaire : ${password}`,
      '(Vous serez invite a le modifier lors de la premiere connexion)',
      'Forfait : Tier Premium',
      'Sites : 3 sites e-commerce',
      'Ressources : 6 coeurs CPU, 12 Go RAM, 150 Go stockage',
      'Prix Mensuel : 124,99 EUR (ou 1249 EUR annuel avec 2 mois gratuits)',
      "5. Invitez les membres de l'equipe",
      'Documentation : https://docs.collectverything.com',
      'Support : support@collectverything.com',
      "L'Equipe Collect & Verything",
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    const html = String(mail.parsed.html);
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain(`<a href="https://${domain}/admin">https://${domain}/admin</a>`);
    expect(html).toContain('124,99 EUR (ou 1249 EUR annuel avec 2 mois gratuits)');
    expect(html).toContain('Nom d&#39;utilisateur : <strong>admin@abc-corp.com</strong>');

    // The only secret in the message is the temporary password: no other stored secret value leaks.
    const others = (await secrets.list('/e-commerce/')).filter(
      (p) => p !== adminInitialSecretPath(abc.tenantId),
    );
    expect(others.length).toBeGreaterThanOrEqual(2);
    for (const path of others) {
      for (const value of Object.values((await secrets.get(path)) ?? {})) {
        if (path.includes('/notifications/')) continue; // the sent-log holds the Message-ID, which is a header
        expect(mail.raw).not.toContain(value);
      }
    }
    expect(JSON.stringify(first)).not.toContain(password);
  });

  it('refuses to mail a password it would have to invent: no admin secret is a permanent error, nothing sent', async () => {
    const orphan = testTenant('No Seed Co', { adminEmail: 'owner@noseed.example' });
    const before = received.length;
    const error = await stepError(run('SendWelcomeEmail', orphan, {}));
    expect(error).toMatchObject({ code: 'NOTIFICATION.ADMIN_SECRET_MISSING', retryable: false });
    expect(received).toHaveLength(before);
    expect(await secrets.get(adminInitialSecretPath(orphan.tenantId))).toBeUndefined();
  });

  it('escapes every interpolated value in the HTML part', async () => {
    const evil = testTenant('Evil Co', {
      companyName: 'Evil <script>alert(1)</script> & Co',
      adminEmail: 'a@evil.example',
    });
    await seedAdminSecret(evil);
    await run('SendWelcomeEmail', evil, {});
    const mail = received[received.length - 1];
    expect(String(mail.parsed.html)).not.toContain('<script>');
    expect(String(mail.parsed.html)).toContain('Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co');
    expect(mail.parsed.text).toContain('Chere Equipe Evil <script>alert(1)</script> & Co');
  });

  it('sends the cancellation, reactivation and deletion notices in French, once each', async () => {
    const tenant = testTenant('Notice Co', { adminEmail: 'owner@notice.example' });
    const before = received.length;
    await run('SendCancellationNotice', tenant, {
      deletionDate: '2025-07-15T00:00:00Z',
      reason: 'downgrade',
    });
    await run('SendCancellationNotice', tenant, {
      deletionDate: '2025-07-15T00:00:00Z',
      reason: 'downgrade',
    });
    await run('SendReactivationNotice', tenant, { reactivatedAt: '2025-06-20T09:00:00Z' });
    await run('SendDeletionConfirmation', tenant, { purgedAt: '2025-07-15T01:00:00Z' });
    await run('SendDeletionConfirmation', tenant, { purgedAt: '2025-07-15T01:00:00Z' });
    const mails = received.slice(before);
    expect(mails.map((m) => m.parsed.subject)).toEqual([
      'Collect & Verything - Confirmation de resiliation de votre abonnement',
      'Collect & Verything - Votre plateforme est reactivee',
      'Collect & Verything - Suppression definitive de votre plateforme',
    ]);
    expect(mails[0].parsed.text).toContain('Date de suppression definitive : 15/07/2025');
    // The deletion date may be billing's effective_date: the notice names no fixed number of days.
    expect(mails[0].parsed.text).not.toMatch(/\d+ jours/);
    expect(mails[0].parsed.text).toContain('Pour reactiver votre plateforme :');
    expect(String(mails[0].parsed.html)).toContain('<strong>15/07/2025</strong>');
    expect(mails[1].parsed.text).toContain('Date de reactivation : 20/06/2025');
    expect(mails[2].parsed.text).toContain('Date de suppression : 15/07/2025');
    for (const mail of mails) expect(mail.to).toEqual(['owner@notice.example']);
  });

  it('tells every cancellation and reactivation cycle, even one with the same dates', async () => {
    const tenant = testTenant('Cycle Co', { adminEmail: 'owner@cycle.example' });
    const before = received.length;
    const cancellation = { deletionDate: '2025-08-31T23:59:59Z', reason: 'end of term' };
    const reactivation = { reactivatedAt: '2025-08-01T09:00:00Z' };
    for (const cycle of [1, 2]) {
      for (let delivery = 0; delivery < 2; delivery += 1) {
        await run(
          'SendCancellationNotice',
          tenant,
          cancellation,
          undefined,
          `cancel-${cycle}:cancellation-notice`,
        );
        await run(
          'SendReactivationNotice',
          tenant,
          reactivation,
          undefined,
          `reactivate-${cycle}:reactivation-notice`,
        );
      }
    }
    const mails = received.slice(before);
    expect(mails.map((m) => m.parsed.subject)).toEqual([
      'Collect & Verything - Confirmation de resiliation de votre abonnement',
      'Collect & Verything - Votre plateforme est reactivee',
      'Collect & Verything - Confirmation de resiliation de votre abonnement',
      'Collect & Verything - Votre plateforme est reactivee',
    ]);
    expect(new Set(mails.map((m) => m.parsed.messageId)).size).toBe(4);
  });

  it('creates the website record with spec 9.1 body (status provisioning) and token, idempotently, retrying a 500 and a timeout', async () => {
    const tenant = testTenant('ABC Corporation', { tier: 'premium', subscriptionId: 'sub_abc123' });
    websites.requests.length = 0;
    websites.plan = [500]; // the lookup fails once, the retry succeeds
    const outputs = await run('CreateWebsiteRecord', tenant, {});
    expect(outputs).toEqual({ websiteId: 789, created: true });
    const post = websites.requests.find((r) => r.method === 'POST');
    expect(post?.auth).toBe('Bearer internal-token-123');
    expect(post?.body).toEqual({
      name: 'ABC Corporation Store',
      domain: tenant.domain,
      tenant_id: tenant.tenantId,
      subscription_id: 'sub_abc123',
      tier: 'premium',
      // Not yet `active`: the tenant is not verified; ActivateWebsiteRecord sets it on activation.
      status: 'provisioning',
    });
    expect(websites.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'POST']);

    // Redelivery: the lookup finds the record, nothing is created twice.
    expect(await run('CreateWebsiteRecord', tenant, {})).toEqual({ websiteId: 789, created: false });
    expect(websites.requests.filter((r) => r.method === 'POST')).toHaveLength(1);

    // A service without the lookup (404), a POST that times out once: retried, created once.
    websites.requests.length = 0;
    websites.plan = [404, HANG];
    const other = testTenant('Retry Co');
    expect(await run('CreateWebsiteRecord', other, {})).toMatchObject({ created: true });
    expect(websites.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'POST']);

    // Without the lookup, a POST the service carried out but answered too late: the retry carries the same
    // Idempotency-Key, so the service answers the record it made instead of making a second.
    websites.requests.length = 0;
    websites.plan = [404, SLOW_CREATE];
    const late = testTenant('Late Answer Co');
    expect(await run('CreateWebsiteRecord', late, {})).toMatchObject({ created: true });
    expect(websites.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'POST']);
    expect([...websites.records.values()].filter((r) => r.tenant_id === late.tenantId)).toHaveLength(1);
  });

  it('reports a retryable error after bounded attempts on a persistent 500, and a permanent one on 400', async () => {
    const tenant = testTenant('Down Co');
    websites.requests.length = 0;
    websites.always = 500;
    const down = await stepError(run('CreateWebsiteRecord', tenant, {}));
    websites.always = null;
    expect(down.code).toBe('WEBSITES.UNAVAILABLE');
    expect(down.retryable).toBe(true);
    expect(websites.requests).toHaveLength(3);

    websites.plan = [404, 400];
    const refused = await stepError(run('CreateWebsiteRecord', tenant, {}));
    expect(refused.code).toBe('WEBSITES.REJECTED');
    expect(refused.retryable).toBe(false);
  });

  it('deletes the website record; absent (404) is success', async () => {
    const tenant = testTenant('Gone Co');
    const { websiteId } = await run('CreateWebsiteRecord', tenant, {});
    expect(await run('DeleteWebsiteRecord', tenant, { websiteId: websiteId as number })).toEqual({
      websiteId,
      deleted: true,
    });
    expect(websites.records.has(websiteId as number)).toBe(false);
    expect(await run('DeleteWebsiteRecord', tenant, { websiteId: websiteId as number })).toEqual({
      websiteId,
      deleted: true,
    });
    expect(await run('DeleteWebsiteRecord', tenant, { websiteId: null })).toEqual({
      websiteId: null,
      deleted: false,
    });
  });

  it('activates the record on the tenant activation with its instant, idempotently (spec 11.1)', async () => {
    const tenant = testTenant('Activation Co', { tier: 'standard' });
    const websiteId = (await run('CreateWebsiteRecord', tenant, {})).websiteId as number;
    const record = () => websites.records.get(websiteId);
    const created = { ...record() };
    expect(created).toMatchObject({ status: 'provisioning', tenant_id: tenant.tenantId });
    expect(created).not.toHaveProperty('activated_at');

    websites.requests.length = 0;
    const activatedAt = '2025-01-15T10:30:00Z';
    const activated = { status: 'active', activated_at: '2025-01-15T10:30:00.000Z' };
    const outputs = await run('ActivateWebsiteRecord', tenant, { websiteId, activatedAt });
    expect(outputs).toEqual({
      websiteId,
      found: true,
      status: 'active',
      activatedAt: activated.activated_at,
    });
    expect(websites.requests).toEqual([
      {
        method: 'PATCH',
        url: `/api/v1/websites/${websiteId}`,
        auth: 'Bearer internal-token-123',
        body: activated,
      },
    ]);
    expect(record()).toEqual({ ...created, ...activated });

    // A redelivery (through a 500) and a lookup by tenant: the same PATCH, the same record.
    websites.plan = [500];
    expect(await run('ActivateWebsiteRecord', tenant, { websiteId, activatedAt })).toEqual(outputs);
    expect(await run('ActivateWebsiteRecord', tenant, { websiteId: null, activatedAt })).toEqual(outputs);
    expect(record()).toEqual({ ...created, ...activated });
    expect(websites.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([
      activated,
      activated,
      activated,
      activated,
    ]);
  });

  it('refuses to activate a missing record or with a bad instant, as permanent errors', async () => {
    const tenant = testTenant('Vanished Co');
    const websiteId = (await run('CreateWebsiteRecord', tenant, {})).websiteId as number;
    const bad = await stepError(run('ActivateWebsiteRecord', tenant, { websiteId, activatedAt: 'now' }));
    expect(bad).toMatchObject({ code: 'NOTIFICATION.BAD_DATE', retryable: false });
    expect(websites.records.get(websiteId)?.status).toBe('provisioning');

    await run('DeleteWebsiteRecord', tenant, { websiteId });
    const activatedAt = '2025-01-15T10:30:00Z';
    for (const id of [websiteId, null]) {
      const missing = await stepError(run('ActivateWebsiteRecord', tenant, { websiteId: id, activatedAt }));
      expect(missing).toMatchObject({ code: 'WEBSITES.RECORD_MISSING', retryable: false });
    }
  });

  it('soft-deletes the record on cancellation and restores it on reactivation, idempotently', async () => {
    const tenant = testTenant('Grace Co', { tier: 'business' });
    const websiteId = (await run('CreateWebsiteRecord', tenant, {})).websiteId as number;
    const record = () => websites.records.get(websiteId);
    const activatedAt = '2025-01-15T10:30:00.000Z';
    await run('ActivateWebsiteRecord', tenant, { websiteId, activatedAt });
    const created = { ...record() };
    expect(created).toMatchObject({
      status: 'active',
      activated_at: activatedAt,
      tenant_id: tenant.tenantId,
    });

    // Found by tenant (no id given), PATCHed with the spec's fields, with the internal token.
    websites.requests.length = 0;
    const deletedAt = '2025-06-15T10:00:00Z';
    const soft = await run('SoftDeleteWebsiteRecord', tenant, { websiteId: null, deletedAt });
    const deleted = { status: 'deprovisioning', deleted_at: '2025-06-15T10:00:00.000Z' };
    expect(soft).toEqual({ websiteId, found: true, status: 'deprovisioning', deletedAt: deleted.deleted_at });
    expect(record()).toEqual({ ...created, ...deleted });
    expect(websites.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([
      'GET /api/v1/websites',
      `PATCH /api/v1/websites/${websiteId}`,
    ]);
    expect(websites.requests[1]).toMatchObject({ auth: 'Bearer internal-token-123', body: deleted });

    // A redelivery with the created record's id, through a 500: same outcome, same record.
    websites.plan = [500];
    expect(await run('SoftDeleteWebsiteRecord', tenant, { websiteId, deletedAt })).toEqual(soft);
    expect(record()).toEqual({ ...created, ...deleted });

    websites.requests.length = 0;
    const restored = await run('RestoreWebsiteRecord', tenant, { websiteId });
    expect(restored).toEqual({ websiteId, found: true, status: 'active', deletedAt: null });
    // The restore leaves `activated_at` alone: the record keeps its first activation instant.
    expect(websites.requests.map((r) => r.body)).toEqual([{ status: 'active', deleted_at: null }]);
    expect(record()).toEqual({ ...created, status: 'active', deleted_at: null });
    expect(record()?.activated_at).toBe(activatedAt);
    expect(await run('RestoreWebsiteRecord', tenant, { websiteId: null })).toEqual(restored);
    expect(record()).toEqual({ ...created, status: 'active', deleted_at: null });
  });

  it('reports a record already removed as not found, and refuses a bad date or a refused update', async () => {
    const tenant = testTenant('Purged Co');
    const websiteId = (await run('CreateWebsiteRecord', tenant, {})).websiteId as number;
    await run('DeleteWebsiteRecord', tenant, { websiteId });
    const deletedAt = '2025-06-15T10:00:00Z';
    expect(await run('SoftDeleteWebsiteRecord', tenant, { websiteId, deletedAt })).toEqual({
      websiteId,
      found: false,
    });
    expect(await run('SoftDeleteWebsiteRecord', tenant, { websiteId: null, deletedAt })).toEqual({
      websiteId: null,
      found: false,
    });
    expect(await run('RestoreWebsiteRecord', tenant, { websiteId: null })).toEqual({
      websiteId: null,
      found: false,
    });

    const bad = await stepError(run('SoftDeleteWebsiteRecord', tenant, { websiteId, deletedAt: 'soon' }));
    expect(bad).toMatchObject({ code: 'NOTIFICATION.BAD_DATE', retryable: false });
    websites.plan = [422];
    const refused = await stepError(run('RestoreWebsiteRecord', tenant, { websiteId }));
    expect(refused).toMatchObject({ code: 'WEBSITES.REJECTED', retryable: false });
  });
});
