import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TenantProfile } from '@app/contracts';
import { GATING_STEPS } from '@app/lifecycle';
import { FAULT_INJECTION_VARIABLE, INJECTED_FAILURE_CODE } from '@app/platform';
import { LocalStack, specSubscriptionCreated } from '../support/local-stack';
import { removeTenantResources } from '../support/tenant-cleanup';
import type { EventsPage, EventView, TenantView } from '../support/tenant-views';

/**
 * Re-provisioning through the running system: the website step of two tenants fails permanently (fault
 * injection scoped to their id prefix), each is rolled back to `failed`; the injection is lifted (the
 * notification service restarts without it); then billing's repeated subscription.created provisions one again
 * and an operator's `POST /reprovision` the other. Both reach `active` under their first tenant id and domain,
 * and each history holds both runs: the failed one with its rollback, then the new one.
 */
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `e2e-reprovision-${run}-`));
const PREFIX = `rp${run}-`;
const FAILING_APP = 'notification-service';

const stack = new LocalStack({
  dir,
  database: 'provisioning_test',
  schemaPrefix: `e2e_reprov_${run}`,
  vhost: `e2e-reprov-${run}`,
  logLevel: 'info',
  env: { [FAILING_APP]: { [FAULT_INJECTION_VARIABLE]: `CreateWebsiteRecord@${PREFIX}` } },
});

const billingPayload = specSubscriptionCreated(`sub_reprov_${run}_billing`, `Rp${run} billing`);
billingPayload.data.customer.email = `owner-${run}-billing@reprovision.example.com`;
const operatorPayload = specSubscriptionCreated(`sub_reprov_${run}_operator`, `Rp${run} operator`);
operatorPayload.data.customer.email = `owner-${run}-operator@reprovision.example.com`;
const tenants = new Map<'billing' | 'operator', { tenantId: string; domain: string }>();

async function events(tenantId: string): Promise<EventView[]> {
  const page = await stack.getJson<EventsPage>(
    `/api/v1/tenants/${tenantId}/events?limit=1000`,
    stack.auditorToken,
  );
  return page.events;
}

/** Polls the tenant until it is in `state`; `wrong` is a state it must not settle in meanwhile. */
async function waitForState(tenantId: string, state: string, wrong?: string): Promise<TenantView> {
  const until = Date.now() + 200_000;
  let last: TenantView | undefined;
  for (;;) {
    last = await stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`).catch(() => last);
    if (last?.state === state) return last;
    if (last?.state === wrong || Date.now() > until) {
      throw new Error(
        `tenant ${tenantId} in ${last?.state}, not ${state}: ${JSON.stringify(last?.steps.map((s) => [s.step, s.status]))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  await stack.start();
  for (const [kind, payload] of [
    ['billing', billingPayload],
    ['operator', operatorPayload],
  ] as const) {
    const response = await stack.postWebhook('subscription-created', payload);
    expect(response.status).toBe(202);
    const body = (await response.json()) as { tenant_id: string; domain: string };
    expect(body.tenant_id.startsWith(PREFIX)).toBe(true);
    tenants.set(kind, { tenantId: body.tenant_id, domain: body.domain });
  }
}, 120_000);

afterAll(async () => {
  const profiles: TenantProfile[] = [];
  for (const { tenantId } of tenants.values()) {
    const requested = (await events(tenantId).catch(() => [])).find((e) => e.type === 'TenantRequested');
    if (requested) profiles.push((requested.data as { tenant: TenantProfile }).tenant);
  }
  await stack.stop();
  try {
    await removeTenantResources(stack, profiles);
  } finally {
    await stack.removeVhost();
    await stack.dropSchemas();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('a tenant whose provisioning failed is provisioned again', () => {
  it('fails both tenants at the website step and rolls them back', async () => {
    for (const { tenantId } of tenants.values()) {
      const view = await waitForState(tenantId, 'failed', 'active');
      expect(view.failure_reason).toMatchObject({ step: 'website', code: INJECTED_FAILURE_CODE });
    }
  });

  it('reaches active again, from billing resending subscription.created and from an operator', async () => {
    // The fault is gone: the notification service runs without the injection from now on.
    const env = stack.envs.get(FAILING_APP);
    if (!env) throw new Error(`${FAILING_APP} has no environment`);
    delete env[FAULT_INJECTION_VARIABLE];
    await stack.kill(FAILING_APP, 'SIGTERM');
    await stack.startApp(FAILING_APP);

    const billing = tenants.get('billing')!;
    const resent = await stack.postWebhook('subscription-created', billingPayload);
    expect(resent.status).toBe(202);
    expect(await resent.json()).toMatchObject({
      tenant_id: billing.tenantId,
      domain: billing.domain,
      status: 'provisioning',
    });

    const operator = tenants.get('operator')!;
    const asked = await fetch(`${stack.apiUrl}/api/v1/tenants/${operator.tenantId}/reprovision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.operatorToken}` },
      body: JSON.stringify({ reason: 'website API fixed' }),
    });
    expect(asked.status).toBe(202);
    expect(await asked.json()).toMatchObject({ tenant_id: operator.tenantId, run: 2, duplicate: false });

    for (const [kind, { tenantId, domain }] of tenants) {
      const view = await waitForState(tenantId, 'active');
      expect(view).toMatchObject({ tenant_id: tenantId, domain, failure_reason: null });
      // Only the new run's steps are shown, every one that gates activation done.
      const status = new Map(view.steps.map((step) => [step.step, step.status]));
      for (const step of GATING_STEPS)
        expect([step.name, status.get(step.name)]).toEqual([step.name, 'succeeded']);
      expect([...status.keys()].some((step) => step.startsWith('compensate:'))).toBe(false);

      // The history holds both runs: the failed one and its rollback, then the new run to activation.
      const history = await events(tenantId);
      const types = history.map((event) => event.type);
      const failedAt = types.indexOf('TenantProvisioningFailed');
      const reprovisionedAt = types.indexOf('ReprovisioningRequested');
      expect(types.indexOf('RollbackStarted')).toBeGreaterThan(0);
      expect(failedAt).toBeGreaterThan(types.indexOf('RollbackStarted'));
      expect(reprovisionedAt).toBeGreaterThan(failedAt);
      expect(types.indexOf('TenantActivated')).toBeGreaterThan(reprovisionedAt);
      expect(history[reprovisionedAt]?.data).toMatchObject({
        run: 2,
        requestedBy: kind === 'billing' ? 'billing' : 'operator:operator',
      });
      // Every step ran once per run, each run's commands under ids of their own.
      const website = history.filter(
        (event) => event.type === 'StepStarted' && event.data.step === 'website',
      );
      expect(website).toHaveLength(2);
      expect(new Set(website.map((event) => event.data.commandId)).size).toBe(2);
      const commandIds = history.filter((e) => e.type === 'StepStarted').map((e) => e.data.commandId);
      expect(new Set(commandIds).size).toBe(commandIds.length);
      expect(history.filter((event) => event.type === 'TenantRequested')).toHaveLength(1);
    }
  });
});
