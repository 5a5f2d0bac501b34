import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUSINESS_SERVICES, namespaceName, type TenantProfile } from '@app/contracts';
import type { TenantPlan } from '@app/plans';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { LocalStack, specSubscriptionCreated } from '../support/local-stack';
import { removeTenantResources } from '../support/tenant-cleanup';
import type { EventsPage, TenantView } from '../support/tenant-views';

/**
 * The operator console in headless Chromium against the whole control plane (every app its own process, the
 * real local servers): a tenant provisioning live to active, its DAG, timeline and hash chain; a failing step
 * and its rollback appearing live; a parked step refused to an auditor and retried by an operator, from the
 * keyboard. Screenshots of the main pages go to test-output/console/.
 */
const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(__dirname, '../..');
const SHOTS = join(ROOT, 'test-output', 'console');
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `console-e2e-${run}-`));

/** A real SMTP peer that refuses chosen recipients with a permanent 550, so their welcome step parks. */
class SwitchableSmtp {
  readonly refused = new Set<string>();
  readonly delivered: string[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo: (address, _session, callback) => {
      if (!this.refused.has(address.address)) return callback();
      callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
    },
    onData: (stream, session, callback) => {
      stream.resume();
      stream.on('end', () => {
        this.delivered.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });

  async start(): Promise<string> {
    await new Promise<void>((done, fail) => {
      this.server.once('error', fail);
      this.server.listen(0, '127.0.0.1', () => done());
    });
    const address = (this.server as unknown as { server: { address(): AddressInfo } }).server.address();
    return `smtp://127.0.0.1:${address.port}`;
  }

  stop(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }
}

const smtp = new SwitchableSmtp();
let stack: LocalStack;
let browser: Browser;
let operator: BrowserContext;
let auditor: BrowserContext;
const tenants: TenantProfile[] = [];
const pageProblems: string[] = [];
const requestedUrls: string[] = [];

async function waitForTenant(tenantId: string, done: (view: TenantView) => boolean, timeoutMs = 180_000) {
  const until = Date.now() + timeoutMs;
  let last: TenantView | undefined;
  for (;;) {
    last = await stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`).catch(() => last);
    if (last && done(last)) return last;
    if (Date.now() > until) {
      throw new Error(
        `tenant ${tenantId} stuck in ${last?.state}: ${JSON.stringify(last?.steps.map((s) => [s.step, s.status]))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function events(tenantId: string) {
  return (await stack.getJson<EventsPage>(`/api/v1/tenants/${tenantId}/events?limit=1000`)).events;
}

/** Creates a tenant through the billing webhook and remembers its profile for the clean-up. */
async function provision(name: string, email?: string): Promise<string> {
  const payload = specSubscriptionCreated(`sub_console_${name.replace(/\W/g, '')}_${run}`, `${name} ${run}`);
  if (email) payload.data.customer.email = email;
  const response = await stack.postWebhook('subscription-created', payload);
  expect(response.status).toBe(202);
  const { tenant_id: tenantId } = (await response.json()) as { tenant_id: string };
  const [requested] = await events(tenantId);
  tenants.push((requested.data as { tenant: TenantProfile }).tenant);
  return tenantId;
}

async function newSignedInPage(context: BrowserContext, token: string): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 40[34]/.test(message.text()))
      pageProblems.push(message.text());
  });
  page.on('pageerror', (error) => pageProblems.push(error.message));
  page.on('request', (request) => requestedUrls.push(request.url()));
  await page.goto(`${stack.apiUrl}/console`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#session-who').waitFor({ state: 'visible' });
  return page;
}

async function setHash(page: Page, hash: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
}

async function openTenant(page: Page, tenantId: string): Promise<void> {
  await setHash(page, `#/tenants/${tenantId}`);
  await page.locator('#t-state[data-state]').waitFor();
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

/**
 * WCAG 2.1 AA contrast of every visible text in the page as rendered: the computed colour (with the opacity
 * of its ancestors) over the composited backgrounds beneath it; 4.5:1, or 3:1 for large text. Disabled controls
 * are exempt (WCAG 1.4.3); text drawn inside SVG is not measured here.
 */
const CONTRAST_CHECK = String.raw`(() => {
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    return [0, 1, 2].map((i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a).concat([a]);
  };
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const chain = (el) => { const all = []; for (let e = el; e; e = e.parentElement) all.push(e); return all; };
  const problems = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg, [hidden], .visually-hidden, :disabled')) continue;
    const hasText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const style = getComputedStyle(el);
    if (!hasText || style.visibility === 'hidden' || el.getClientRects().length === 0) continue;
    let background = [255, 255, 255, 1];
    for (const e of chain(el).reverse()) background = over(parse(getComputedStyle(e).backgroundColor), background);
    const opacity = chain(el).reduce((o, e) => o * Number(getComputedStyle(e).opacity), 1);
    const color = parse(style.color);
    const text = over([color[0], color[1], color[2], color[3] * opacity], background);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    const measured = ratio(text, background);
    if (measured < (large ? 3 : 4.5)) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '');
      problems.push(name + ' "' + el.textContent.trim().slice(0, 40) + '" ' + measured.toFixed(2) + ':1');
    }
  }
  return problems;
})()`;

async function contrastProblems(page: Page): Promise<string[]> {
  return (await page.evaluate(CONTRAST_CHECK)) as string[];
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium); ` +
        'scripts/ensure-services.sh is expected to do it',
    );
  }
  mkdirSync(SHOTS, { recursive: true });
  const smtpUrl = await smtp.start();
  stack = new LocalStack({
    dir,
    database: 'provisioning_test',
    schemaPrefix: `console_${run}`,
    vhost: `console-${run}`,
    env: {
      'notification-service': { SMTP_URL: smtpUrl, WEBSITES_MAX_ATTEMPTS: '1', COMMAND_MAX_ATTEMPTS: '2' },
      'provisioning-api': {
        CONSOLE_STREAM_POLL_MS: '300',
        GRAFANA_PUBLIC_URL: 'https://grafana.example.test',
      },
    },
  });
  await stack.start();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  operator = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  auditor = await browser.newContext({ viewport: { width: 1360, height: 900 } });
});

afterAll(async () => {
  await browser
    ?.close()
    .catch((error: unknown) => console.warn(`console suite: closing Chromium: ${String(error)}`));
  try {
    if (stack) {
      // Processes first (nothing writes while resources are removed), whatever a failed test left.
      await stack.stop();
      try {
        await removeTenantResources(stack, tenants);
      } finally {
        await stack.removeVhost();
        await stack.dropSchemas();
      }
    }
  } finally {
    await smtp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Retries an assertion until it passes (pages update asynchronously); the last failure is rethrown. */
async function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const textOf = (page: Page, selector: string) => page.locator(selector).first().innerText();
const attr = (page: Page, selector: string, name: string) =>
  page.locator(selector).first().getAttribute(name);
// Strings run in the page: this project's TypeScript has no DOM library.
const focusedId = (page: Page) =>
  page.evaluate<string>('document.activeElement ? document.activeElement.id : ""');

describe('operator console in headless Chromium', () => {
  let activeTenant = '';
  let parkedTenant = '';
  const parkedEmail = `parked-${run}@example.com`;

  it('shows a tenant provisioning live until active, with its DAG, timeline, hash chain and links', async () => {
    const page = await newSignedInPage(operator, stack.operatorToken);
    expect(await textOf(page, '#session-who')).toMatch(/operator · operator/);
    activeTenant = await provision('Console Shop');
    // The parked-step tenant provisions alongside; only its welcome e-mail will be refused.
    smtp.refused.add(parkedEmail);
    parkedTenant = await provision('Parked Shop', parkedEmail);

    await openTenant(page, activeTenant);
    expect(['requested', 'provisioning']).toContain(await attr(page, '#t-state', 'data-state'));
    const firstCount = await page.locator('#t-timeline li').count();
    await page
      .locator('.dag-node[data-step="workloads"][data-state="succeeded"]')
      .waitFor({ timeout: 120_000 });
    await shot(page, 'tenant-provisioning');
    expect(await contrastProblems(page)).toEqual([]);

    // No reload since it opened: everything from here on arrived through the live stream.
    await page.locator('#t-state[data-state="active"]').waitFor({ timeout: 150_000 });
    for (const step of ['website-activation', 'welcome-email', 'grafana-viewer']) {
      await page
        .locator(`.dag-node[data-step="${step}"][data-state="succeeded"]`)
        .waitFor({ timeout: 60_000 });
    }
    expect(await page.locator('#t-timeline li').count()).toBeGreaterThan(firstCount);
    expect(await textOf(page, '#t-health')).toBe('Health: Healthy');
    await eventually(async () => expect(await textOf(page, '#live')).toMatch(/is now active/));
    for (const step of ['namespace', 'databases', 'storage', 'broker', 'verify-kubernetes', 'activate']) {
      expect(await attr(page, `.dag-node[data-step="${step}"]`, 'data-state')).toBe('succeeded');
    }
    expect(await textOf(page, '.dag-node[data-step="databases"] .meta')).toMatch(/\d+(\.\d)? (ms|s)/);
    expect(await attr(page, '#t-grafana', 'href')).toBe(
      `https://grafana.example.test/dashboards/f/tenant-${activeTenant}`,
    );
    expect(await attr(page, '#t-store', 'href')).toMatch(/^https:\/\/console-shop-[0-9a-f]+/);

    // The timeline holds every event of the stream, each payload expandable.
    await eventually(async () =>
      expect(await page.locator('#t-timeline li').count()).toBe((await events(activeTenant)).length),
    );
    const requested = page.locator('#t-timeline li[data-type="TenantRequested"]');
    await requested.locator('summary').click();
    expect(await requested.locator('pre').innerText()).toContain(`"companyName": "Console Shop ${run}"`);
    const timelineText = await textOf(page, '#t-timeline');
    for (const secret of [stack.operatorToken, stack.webhookSecret, stack.secretStoreKey]) {
      expect(timelineText).not.toContain(secret);
    }

    // The audit projector hashes the stream shortly after; verify until it covers the activation.
    await eventually(async () => {
      await page.locator('#t-verify').click();
      await page.waitForFunction('!document.getElementById("t-audit").textContent.startsWith("Verifying")');
      expect(await textOf(page, '#t-audit')).toMatch(/Chain intact: \d+ events verified/);
    }, 60_000);
    expect(await attr(page, '#t-audit', 'class')).toContain('ok');
    await shot(page, 'tenant-active');

    await setHash(page, '#/tenants');
    await page.getByLabel('Search').fill(activeTenant);
    await page.getByLabel('State').selectOption('active');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(async () => {
      const rows = await page.locator('#tenants-table tbody tr').allInnerTexts();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toContain(activeTenant);
      expect(rows[0]).toContain('Healthy');
    });
    await page.getByLabel('Search').fill('');
    await page.getByLabel('State').selectOption('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(async () => expect(await page.locator('#tenants-table tbody tr').count()).toBe(2));
    await shot(page, 'tenants-list');
    expect(await contrastProblems(page)).toEqual([]);
    await page.close();
  });

  it("shows the cancellation's plan in its dialog before confirming; closing the dialog appends nothing", async () => {
    const before = await events(activeTenant);
    const expected = await stack.getJson<TenantPlan>(`/api/v1/tenants/${activeTenant}/plan?purge=true`);
    const page = await newSignedInPage(operator, stack.operatorToken);
    await openTenant(page, activeTenant);
    await page.getByRole('button', { name: 'Cancel tenant…' }).click();
    await page.locator('#reason-dialog').waitFor({ state: 'visible' });
    const plan = page.locator('#reason-plan');
    await plan.getByRole('heading', { name: 'What this will do' }).waitFor();
    const shown = await plan.innerText();
    expect(shown).toContain('Cancellation now, then at the end of the grace period');
    expect(shown).toContain(`Kubernetes (${namespaceName(activeTenant)}): `);
    expect(expected.databases.dropped_databases).toHaveLength(BUSINESS_SERVICES.length);
    expect(shown).toContain(
      `MySQL: ${BUSINESS_SERVICES.length} databases dropped: ${expected.databases.dropped_databases.join(', ')}`,
    );
    expect(shown).toContain(`RabbitMQ: vhost ${expected.broker.vhost} deleted`);
    const admin = tenants.find((tenant) => tenant.tenantId === activeTenant)?.adminEmail;
    expect(shown).toContain(`E-mail to ${admin} (on-cancellation)`);
    await shot(page, 'cancel-plan');
    expect(await contrastProblems(page)).toEqual([]);

    await page.getByRole('button', { name: 'Close' }).click();
    await page.locator('#reason-dialog').waitFor({ state: 'hidden' });
    expect(await focusedId(page)).toBe('t-cancel');
    // Neither the plan nor the closed dialog asked for anything: no cancellation, the tenant still active.
    const appended = (await events(activeTenant)).slice(before.length).map((event) => event.type);
    expect(appended).not.toContain('CancellationRequested');
    expect((await stack.getJson<TenantView>(`/api/v1/tenants/${activeTenant}`)).state).toBe('active');
    expect(await attr(page, '#t-state', 'data-state')).toBe('active');
    await page.close();
  });

  it('shows a failing step and its rollback as they happen', async () => {
    // The parked-step tenant must be past its website step before the stand-in starts failing.
    await waitForTenant(parkedTenant, (v) => v.state === 'active' || v.state === 'failed');
    const page = await newSignedInPage(operator, stack.operatorToken);
    stack.websites.failNext = 1_000;
    try {
      const failing = await provision('Rollback Shop');
      await openTenant(page, failing);
      expect(await page.locator('#t-timeline li[data-type="RollbackStarted"]').count()).toBe(0);
      await page.locator('#t-timeline li[data-type="RollbackStarted"]').waitFor({ timeout: 150_000 });
      await page.locator('#t-state[data-state="failed"]').waitFor({ timeout: 120_000 });
      expect(await page.locator('#t-timeline li[data-type="RollbackStarted"] .tag').textContent()).toBe(
        'rollback',
      );
      expect(await textOf(page, '#t-failure')).toContain('Provisioning failed at step website');
      // A compensation that cannot finish (the stand-in still fails) is parked for an operator, and says so.
      expect(await textOf(page, '#t-health')).toMatch(/^Health: Failed/);
      expect(await attr(page, '.dag-node[data-step="website"]', 'data-state')).toBe('failed');
      expect(await page.locator('#t-other tbody tr[data-step^="compensate:"]').count()).toBeGreaterThan(0);
      expect(await textOf(page, '#t-other tbody')).toContain('rollback');
      expect(await page.locator('#t-timeline li[data-type="TenantProvisioningFailed"]').count()).toBe(1);
      await shot(page, 'tenant-rollback');
      expect(await contrastProblems(page)).toEqual([]);
    } finally {
      stack.websites.failNext = 0;
    }
    await page.close();
  });

  it('refuses a retry to an auditor and retries a parked step for an operator, reason recorded', async () => {
    const parked = await waitForTenant(parkedTenant, (v) =>
      v.steps.some((s) => s.step === 'welcome-email' && s.status === 'parked'),
    );
    expect(parked.state).toBe('active');

    const audit = await newSignedInPage(auditor, stack.auditorToken);
    expect(await textOf(audit, '#session-who')).toMatch(/auditor \(read-only\)/);
    await audit.getByRole('link', { name: 'Parked & failed work' }).click();
    const row = audit.locator(
      `#attention-table tr[data-tenant="${parkedTenant}"][data-step="welcome-email"]`,
    );
    await row.getByRole('button', { name: 'Retry…' }).click();
    await audit.locator('#reason-dialog').waitFor({ state: 'visible' });
    await audit.getByLabel(/Reason/).fill('auditor trying to act');
    await audit.getByRole('button', { name: 'Retry step' }).click();
    await eventually(async () =>
      expect(await textOf(audit, '#reason-error')).toMatch(/Refused: your role \(auditor\) is read-only/),
    );
    await shot(audit, 'attention-auditor-refused');
    expect((await events(parkedTenant)).map((e) => e.type)).not.toContain('OperatorRetryRequested');
    await audit.close();

    smtp.refused.delete(parkedEmail);
    const page = await newSignedInPage(operator, stack.operatorToken);
    await page.getByRole('link', { name: 'Parked & failed work' }).click();
    await page
      .locator(`#attention-table tr[data-tenant="${parkedTenant}"][data-step="welcome-email"]`)
      .waitFor();
    await shot(page, 'attention');
    await openTenant(page, parkedTenant);
    expect(await textOf(page, '#t-health')).toBe('Health: Needs attention: 1 parked');
    // Keyboard only: focus the action, open the dialog, type the reason, tab to the submit button.
    await page.locator('#t-parked li[data-step="welcome-email"] button').focus();
    await page.keyboard.press('Enter');
    expect(await focusedId(page)).toBe('reason');
    await page.keyboard.type('SMTP relay fixed, resend the welcome e-mail');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('reason-submit');
    await page.keyboard.press('Enter');
    await page.locator('#reason-dialog').waitFor({ state: 'hidden' });
    await eventually(async () =>
      expect(await textOf(page, '#live')).toMatch(/Retry of welcome-email requested/),
    );

    const retried = page.locator('#t-timeline li[data-type="OperatorRetryRequested"]');
    await retried.waitFor({ timeout: 30_000 });
    expect(await retried.innerText()).toContain('by operator:operator');
    await page
      .locator('.dag-node[data-step="welcome-email"][data-state="succeeded"]')
      .waitFor({ timeout: 90_000 });
    expect(await page.locator('#t-parked-section').isHidden()).toBe(true);
    expect(await textOf(page, '#t-health')).toBe('Health: Healthy');
    await shot(page, 'tenant-retried');

    const retryEvent = (await events(parkedTenant)).find((e) => e.type === 'OperatorRetryRequested');
    expect(retryEvent?.data).toEqual({
      step: 'welcome-email',
      reason: 'SMTP relay fixed, resend the welcome e-mail',
      operator: 'operator',
    });
    expect(smtp.delivered).toContain(parkedEmail);
    await page.close();
  });

  it('offers re-provisioning of the rolled-back tenant once its rollback is complete, and starts run 2', async () => {
    const profile = tenants.find((tenant) => tenant.companyName === `Rollback Shop ${run}`);
    if (!profile) throw new Error('the rollback test created no tenant');
    const tenantId = profile.tenantId;
    const failed = await waitForTenant(tenantId, (v) => v.state === 'failed');
    // The website stand-in failed until the tenant failed: the website record's removal is parked.
    const parked = failed.steps
      .filter((step) => step.step.startsWith('compensate:') && step.status === 'parked')
      .map((step) => step.step);
    expect(parked).not.toEqual([]);

    const page = await newSignedInPage(operator, stack.operatorToken);
    await openTenant(page, tenantId);
    await eventually(async () =>
      expect(await textOf(page, '#t-actions-hint')).toContain(
        `Not yet possible to provision it again: tenant ${tenantId}: the rollback of run 1 is not complete`,
      ),
    );
    expect(await page.locator('#t-reprovision').isHidden()).toBe(true);

    // Once the parked compensation succeeds (the stand-in answers again), the rollback is complete.
    for (const step of parked) {
      const retried = await fetch(`${stack.apiUrl}/api/v1/tenants/${tenantId}/retry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.operatorToken}` },
        body: JSON.stringify({ step, reason: 'website stand-in answers again' }),
      });
      expect(retried.status).toBe(202);
    }
    const button = page.getByRole('button', { name: 'Re-provision…' });
    await button.waitFor({ timeout: 90_000 });
    expect(await textOf(page, '#t-actions-hint')).toContain('re-provisioning starts run 2');
    const before = (await events(tenantId)).length;

    await button.click();
    await page.locator('#reason-dialog').waitFor({ state: 'visible' });
    expect(await textOf(page, '#reason-title')).toBe(`Re-provision ${tenantId}`);
    await page.getByLabel(/Reason/).fill('website API fixed, provision again');
    await page.locator('#reason-submit').click();
    await page.locator('#reason-dialog').waitFor({ state: 'hidden' });

    const requested = page.locator('#t-timeline li[data-type="ReprovisioningRequested"]');
    await requested.waitFor({ timeout: 30_000 });
    expect(await requested.innerText()).toContain('by operator:operator');
    const appended = (await events(tenantId)).slice(before);
    expect(appended.filter((event) => event.type === 'ReprovisioningRequested').map((e) => e.data)).toEqual([
      expect.objectContaining({
        run: 2,
        reason: 'website API fixed, provision again',
        requestedBy: 'operator:operator',
      }),
    ]);

    // The page shows the new run: its number, its steps from scratch, and the failed run kept below.
    await eventually(async () => expect(await textOf(page, '#t-facts')).toMatch(/Provisioning run\s+2/i));
    await page.locator('.dag-node[data-step="website"]:not([data-state="failed"])').waitFor();
    expect(await page.locator('#t-reprovision').isHidden()).toBe(true);
    const earlier = page.locator('#t-runs li[data-run="1"]');
    expect(await earlier.innerText()).toContain('failed at step website');
    expect(await earlier.innerText()).toContain('by operator:operator: website API fixed, provision again');
    await shot(page, 'tenant-reprovisioned');
    expect(await contrastProblems(page)).toEqual([]);
    await page.close();
  });

  it('lists a reconciliation run with its proposals; dismissing one records who decided and why', async () => {
    const subscription = `sub_console_missing_${run}`;
    const page = await newSignedInPage(operator, stack.operatorToken);
    await page.getByRole('link', { name: 'Reconciliation' }).click();
    await eventually(async () => expect(await textOf(page, '#rc-summary')).not.toBe(''));
    await page
      .getByLabel(/the list itself/)
      .fill(JSON.stringify([{ subscription_id: subscription, tier: 'standard' }]));
    await page.getByRole('button', { name: 'Compare with billing' }).click();
    await eventually(async () =>
      expect(await textOf(page, '#rc-result')).toMatch(
        /^Run [0-9a-f-]{36}: 1 subscription\(s\) compared with \d+ tenant\(s\), .*1 missing/,
      ),
    );

    const row = page.locator(`#rc-runs tr[data-subscription="${subscription}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('open');
    expect(await row.innerText()).toContain('Missing tenant');
    // The tenants billing did not list are orphans of the same run, each with its own proposal.
    const latest = page.locator('#rc-runs section.rc-run').first();
    expect(await latest.locator(`tr[data-subscription^="sub_console_"]`).count()).toBeGreaterThan(1);
    await shot(page, 'reconciliation');
    expect(await contrastProblems(page)).toEqual([]);

    await row.getByRole('button', { name: 'Dismiss…' }).click();
    await page.locator('#reason-dialog').waitFor({ state: 'visible' });
    expect(await textOf(page, '#reason-title')).toBe(
      `Dismiss: Missing tenant for subscription ${subscription}`,
    );
    await page.getByLabel(/Reason/).fill('created by hand in billing, no shop wanted');
    await page.locator('#reason-submit').click();
    await page.locator('#reason-dialog').waitFor({ state: 'hidden' });
    const dismissed = page.locator(
      `#rc-runs tr[data-subscription="${subscription}"][data-state="dismissed"]`,
    );
    await dismissed.waitFor();
    expect(await dismissed.innerText()).toContain('created by hand in billing, no shop wanted');

    const recorded = await stack.getJson<{
      items: { finding: { subscription_id: string }; decision: { operator: string; reason: string } }[];
    }>('/api/v1/reconciliations/actions?state=dismissed', stack.auditorToken);
    expect(recorded.items.filter((item) => item.finding.subscription_id === subscription)).toEqual([
      expect.objectContaining({
        decision: expect.objectContaining({
          operator: 'operator',
          reason: 'created by hand in billing, no shop wanted',
        }),
      }),
    ]);
    await page.close();

    // An auditor reads the same runs, with neither the run form nor a decision to take.
    const audit = await newSignedInPage(auditor, stack.auditorToken);
    await setHash(audit, '#/reconciliation');
    await audit.locator(`#rc-runs tr[data-subscription="${subscription}"][data-state="dismissed"]`).waitFor();
    expect(await audit.locator('#rc-form').isHidden()).toBe(true);
    expect(await audit.getByRole('button', { name: /Accept…|Dismiss…/ }).count()).toBe(0);
    await audit.close();
  });

  it('kept tokens out of URLs and met its content security policy', async () => {
    expect(requestedUrls.length).toBeGreaterThan(10);
    for (const url of requestedUrls) {
      expect(url).not.toContain(stack.operatorToken);
      expect(url).not.toContain(stack.auditorToken);
    }
    expect(pageProblems).toEqual([]);
    const page = await fetch(`${stack.apiUrl}/console`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    // The live stream and the chain check need a token like every other read.
    expect((await fetch(`${stack.apiUrl}/api/v1/tenants/${activeTenant}/stream`)).status).toBe(401);
    const audit = await stack.getJson<{ ok: boolean }>(
      `/api/v1/tenants/${activeTenant}/audit`,
      stack.auditorToken,
    );
    expect(audit.ok).toBe(true);
  });
});
