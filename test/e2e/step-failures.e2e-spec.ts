import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TenantProfile } from '@app/contracts';
import { FAULT_INJECTION_VARIABLE, INJECTED_FAILURE_CODE } from '@app/platform';
import { createConnection, type Connection } from 'mysql2/promise';
import { COMPENSABLE_STEPS, GATING_STEPS } from '@app/lifecycle';
import { APPS, LocalStack, specSubscriptionCreated, type AppName } from '../support/local-stack';
import { removeTenantResources } from '../support/tenant-cleanup';
import { NOTHING, tenantFootprint } from '../support/tenant-footprint';
import type { EventsPage, EventView, TenantView } from '../support/tenant-views';

/**
 * Issue 10: for each step that gates activation, a tenant whose command of that step fails permanently
 * (FAULT_INJECT_PERMANENT, scoped to that tenant by its id prefix) ends `failed` naming the step, after every
 * step it started was compensated, and nothing of it is left on any server. One stack serves every step; the
 * tenants provision concurrently. Steps after activation never roll a tenant back, so they are not here.
 */
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `e2e-steps-${run}-`));
const RESOURCE_APPS = APPS.filter((app) => app !== 'provisioning-api' && app !== 'orchestrator');

/** Company `Sf<run> <i>` gets tenant id `sf<run>-<i>-<hex>`: the prefix picks exactly one tenant. */
const cases = GATING_STEPS.map((step, index) => ({
  step,
  company: `Sf${run} ${index}`,
  prefix: `sf${run}-${index}-`,
}));
const injection = cases.map(({ step, prefix }) => `${step.command}@${prefix}`).join(',');

const stack = new LocalStack({
  dir,
  database: 'provisioning_test',
  schemaPrefix: `e2e_steps_${run}`,
  vhost: `e2e-steps-${run}`,
  logLevel: 'info',
  env: Object.fromEntries(RESOURCE_APPS.map((app) => [app, { [FAULT_INJECTION_VARIABLE]: injection }])),
});
let mysql: Connection;
const tenantIds = new Map<string, string>();
/** Tenants proven to have left nothing; the others are removed from the servers after the suite. */
const clean = new Set<string>();

async function events(tenantId: string): Promise<EventView[]> {
  const page = await stack.getJson<EventsPage>(
    `/api/v1/tenants/${tenantId}/events?limit=1000`,
    stack.auditorToken,
  );
  return page.events;
}

async function waitForFailed(tenantId: string, timeoutMs = 150_000): Promise<TenantView> {
  const until = Date.now() + timeoutMs;
  let last: TenantView | undefined;
  for (;;) {
    last = await stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`).catch(() => last);
    if (last?.state === 'failed') return last;
    if (last?.state === 'active' || Date.now() > until) {
      throw new Error(
        `tenant ${tenantId} in ${last?.state}, not failed: ${JSON.stringify(last?.steps.map((s) => [s.step, s.status]))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

beforeAll(async () => {
  mysql = await createConnection({ host: '127.0.0.1', user: 'root' });
  await stack.start();
  await Promise.all(
    cases.map(async ({ step, company }, index) => {
      const payload = specSubscriptionCreated(`sub_steps_${run}_${index}`, company);
      payload.data.customer.email = `owner-${run}-${index}@steps.example.com`;
      const response = await stack.postWebhook('subscription-created', payload);
      expect(response.status).toBe(202);
      tenantIds.set(step.name, ((await response.json()) as { tenant_id: string }).tenant_id);
    }),
  );
}, 120_000);

afterAll(async () => {
  const leftovers: TenantProfile[] = [];
  for (const tenantId of tenantIds.values()) {
    if (clean.has(tenantId)) continue;
    const requested = (await events(tenantId).catch(() => [])).find((e) => e.type === 'TenantRequested');
    if (requested) leftovers.push((requested.data as { tenant: TenantProfile }).tenant);
  }
  await stack.stop();
  try {
    await removeTenantResources(stack, leftovers);
  } finally {
    await stack.removeVhost();
    await mysql?.end();
    await stack.dropSchemas();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('a permanent failure of each provisioning step rolls the tenant back to nothing (issue 10)', () => {
  it('announces the injection loudly in the log of every resource service', () => {
    for (const app of RESOURCE_APPS as AppName[]) {
      expect(readFileSync(join(stack.logDir, `${app}.log`), 'utf8')).toContain('FAULT INJECTION ACTIVE');
    }
  });

  it.each(cases.map((c) => [c.step.name, c] as const))(
    '%s: fails, compensates every step it started, leaves nothing',
    async (_name, { step, prefix }) => {
      const tenantId = tenantIds.get(step.name) ?? '';
      expect(tenantId.startsWith(prefix)).toBe(true);
      const view = await waitForFailed(tenantId);
      expect(view.failure_reason).toMatchObject({ step: step.name, code: INJECTED_FAILURE_CODE });

      const all = await events(tenantId);
      const types = all.map((e) => e.type);
      expect(all.find((e) => e.type === 'RollbackStarted')?.data).toMatchObject({ failedStep: step.name });
      expect(types).not.toContain('TenantActivated');
      expect(types).not.toContain('CompensationParked');
      // Every compensable step that started (the failed one included) was undone, and nothing else.
      const started = new Set(
        all.filter((e) => e.type === 'StepStarted').map((e) => (e.data as { step: string }).step),
      );
      const expected = COMPENSABLE_STEPS.filter((s) => started.has(s.name)).map((s) => s.name);
      const failed = all.find((e) => e.type === 'TenantProvisioningFailed');
      expect(failed?.data).toMatchObject({ failedStep: step.name });
      expect([...((failed?.data.compensatedSteps as string[]) ?? [])].sort()).toEqual(expected.sort());
      if (step.compensation) expect(expected).toContain(step.name);
      if (step.phase === 'verify') expect(expected).toHaveLength(COMPENSABLE_STEPS.length);

      expect(await tenantFootprint(tenantId, { mysql, stack })).toEqual(NOTHING);
      clean.add(tenantId);
    },
  );
});

describe('a subscription cancelled during provisioning', () => {
  it('rolls the tenant back and ends it cancelled, not failed, leaving nothing', async () => {
    const created = await stack.postWebhook(
      'subscription-created',
      specSubscriptionCreated(`sub_cancel_${run}`, `Sc${run} cancel`),
    );
    expect(created.status).toBe(202);
    const { tenant_id: tenantId } = (await created.json()) as { tenant_id: string };
    tenantIds.set('cancelled-during-provisioning', tenantId);
    // Sent at once: provisioning takes seconds, so the cancellation lands before activation.
    const cancelled = await stack.postWebhook('subscription-cancelled', {
      event: 'subscription.cancelled',
      timestamp: new Date().toISOString(),
      data: {
        subscription_id: `sub_cancel_${run}`,
        tenant_id: tenantId,
        cancellation_reason: 'changed mind',
      },
    });
    expect(cancelled.status).toBe(202);

    const until = Date.now() + 150_000;
    let view: TenantView | undefined;
    while (view?.state !== 'cancelled') {
      view = await stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`).catch(() => view);
      if (view?.state === 'failed' || view?.state === 'active' || Date.now() > until) {
        throw new Error(`tenant ${tenantId} in ${view?.state}, not cancelled`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    const types = (await events(tenantId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['RollbackStarted', 'ProvisioningCancelled']));
    expect(types).not.toContain('TenantProvisioningFailed');
    expect(types).not.toContain('TenantActivated');
    expect(await tenantFootprint(tenantId, { mysql, stack })).toEqual(NOTHING);
    clean.add(tenantId);
  });
});
