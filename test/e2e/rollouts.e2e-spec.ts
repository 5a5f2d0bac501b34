import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TenantProfile } from '@app/contracts';
import { FAULT_INJECTION_VARIABLE, INJECTED_FAILURE_CODE } from '@app/platform';
import { LocalStack, specSubscriptionCreated } from '../support/local-stack';
import { removeTenantResources } from '../support/tenant-cleanup';
import type { EventsPage, EventView, TenantView } from '../support/tenant-views';

/**
 * Staged fleet rollouts through the running system (real PostgreSQL event store, real RabbitMQ, the orchestrator
 * driving the rollout, the k8s-service deploying into its GitOps repository): three tenants provisioned, then a
 * rollout of a new image tag, canary first, one tenant per wave, with the orchestrator killed and restarted once
 * the canary counted; every tenant ends on the tag, asked once. Then a second rollout whose second tenant's
 * verification fails (fault injection scoped to that tenant): the rollout halts naming it, the third tenant is
 * never touched, and an operator aborts it.
 */
const run = randomBytes(3).toString('hex');
const dir = mkdtempSync(join(tmpdir(), `e2e-rollouts-${run}-`));
const NAMES = ['alpha', 'bravo', 'charlie'] as const;
const FAILING = `ro${run}-bravo`;

const stack = new LocalStack({
  dir,
  database: 'provisioning_test',
  schemaPrefix: `e2e_rollout_${run}`,
  vhost: `e2e-rollout-${run}`,
  logLevel: 'info',
  env: { orchestrator: { ROLLOUT_INTERVAL_MS: '200' } },
});
const tenants: string[] = [];

interface RolloutAnswer {
  rollout_id: string;
  status: string;
  image_tag: string;
  halt: { tenant_id: string; error: { code: string } } | null;
  waves: { wave: number; kind: string; tenants: { tenant_id: string; status: string; attempt: number }[] }[];
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.operatorToken}` },
    body: JSON.stringify(body),
  });
}

/** Polls `read` until `done` holds of its answer (or fails naming the last answer). */
async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: last seen ${JSON.stringify(value)?.slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

const rollout = (id: string) => stack.getJson<RolloutAnswer>(`/api/v1/rollouts/${id}`);
const tenantStatuses = (answer: RolloutAnswer) =>
  Object.fromEntries(answer.waves.flatMap((wave) => wave.tenants.map((t) => [t.tenant_id, t.status])));

async function events(tenantId: string): Promise<EventView[]> {
  const page = await stack.getJson<EventsPage>(
    `/api/v1/tenants/${tenantId}/events?limit=1000`,
    stack.auditorToken,
  );
  return page.events;
}

/** The image tag the tenant's committed kustomization gives its workloads. */
function committedTag(tenantId: string): string | undefined {
  const grep = spawnSync(
    'git',
    ['--git-dir', stack.gitRemote, 'grep', '-h', 'newTag', 'main', '--', `tenants/${tenantId}`],
    {
      encoding: 'utf8',
    },
  );
  const tags = new Set([...grep.stdout.matchAll(/newTag:\s*(\S+)/g)].map((match) => match[1]));
  return tags.size === 1 ? [...tags][0] : undefined;
}

async function start(imageTag: string): Promise<RolloutAnswer> {
  const response = await post('/api/v1/rollouts', {
    image_tag: imageTag,
    selection: { tenant_ids: tenants },
    canary_size: 1,
    batch_size: 1,
    reason: `e2e ${run}`,
  });
  expect(response.status).toBe(202);
  return (await response.json()) as RolloutAnswer;
}

beforeAll(async () => {
  await stack.start();
  for (const name of NAMES) {
    const payload = specSubscriptionCreated(`sub_rollout_${run}_${name}`, `Ro${run} ${name}`);
    payload.data.customer.email = `owner-${run}-${name}@rollouts.example.com`;
    const response = await stack.postWebhook('subscription-created', payload);
    expect(response.status).toBe(202);
    tenants.push(((await response.json()) as { tenant_id: string }).tenant_id);
  }
  for (const tenantId of tenants) {
    await until(
      `tenant ${tenantId} active`,
      () => stack.getJson<TenantView>(`/api/v1/tenants/${tenantId}`),
      (tenant) => tenant.state === 'active',
    );
  }
}, 300_000);

afterAll(async () => {
  const profiles: TenantProfile[] = [];
  for (const tenantId of tenants) {
    const requested = (await events(tenantId).catch(() => [])).find((e) => e.type === 'TenantRequested');
    if (requested) profiles.push(requested.data['tenant'] as TenantProfile);
  }
  await stack.stop();
  await removeTenantResources(stack, profiles);
  await stack.removeVhost();
  await stack.dropSchemas();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

it('rolls a tag out canary first, continues after the orchestrator is killed mid-rollout, asks each tenant once', async () => {
  const imageTag = `v2.0.0-${run}`;
  const started = await start(imageTag);
  expect(started.waves.map((wave) => wave.tenants.map((t) => t.tenant_id))).toEqual(tenants.map((t) => [t]));
  expect(started.waves[0].kind).toBe('canary');

  // The canary counts first; then the driver dies in the middle of the rollout.
  const afterCanary = await until(
    'canary succeeded',
    () => rollout(started.rollout_id),
    (answer) => tenantStatuses(answer)[tenants[0]] === 'succeeded',
  );
  expect(tenantStatuses(afterCanary)[tenants[2]]).not.toBe('succeeded');
  await stack.kill('orchestrator');
  await stack.startApp('orchestrator');

  const done = await until(
    'rollout completed',
    () => rollout(started.rollout_id),
    (a) => a.status === 'completed',
  );
  for (const wave of done.waves) {
    for (const tenant of wave.tenants) expect(tenant).toMatchObject({ status: 'succeeded', attempt: 1 });
  }
  for (const tenantId of tenants) {
    const history = await events(tenantId);
    const asked = history.filter((e) => e.type === 'ImageTagChangeRequested');
    expect(asked).toHaveLength(1);
    expect(asked[0].data).toMatchObject({ imageTag, rolloutId: started.rollout_id });
    const deployments = history.filter(
      (e) => e.type === 'StepStarted' && e.data['step'] === 'image-tag-1:workloads',
    );
    expect(deployments).toHaveLength(1);
    expect(deployments[0].data['params']).toEqual({ imageTag });
    // Verified after the deployment, as provisioning verifies a tenant.
    expect(
      history.some((e) => e.type === 'KubernetesVerified' && e.data['step'] === 'image-tag-1:verify'),
    ).toBe(true);
    expect(committedTag(tenantId)).toBe(imageTag);
  }
  const list = await stack.getJson<{ items: RolloutAnswer[] }>('/api/v1/rollouts', stack.auditorToken);
  expect(list.items.map((item) => item.rollout_id)).toContain(started.rollout_id);
}, 300_000);

it('halts on the tenant whose verification fails, touches no later tenant, and an operator aborts it', async () => {
  // The k8s-service restarts failing every VerifyKubernetes of the second tenant alone.
  await stack.kill('k8s-service', 'SIGTERM');
  stack.envs.get('k8s-service')![FAULT_INJECTION_VARIABLE] = `VerifyKubernetes@${FAILING}`;
  await stack.startApp('k8s-service');
  expect(tenants[1].startsWith(FAILING)).toBe(true);

  const imageTag = `v3.0.0-${run}`;
  const started = await start(imageTag);
  const halted = await until(
    'rollout halted',
    () => rollout(started.rollout_id),
    (a) => a.status === 'halted',
  );
  expect(halted.halt).toMatchObject({ tenant_id: tenants[1], error: { code: INJECTED_FAILURE_CODE } });
  expect(tenantStatuses(halted)).toEqual({
    [tenants[0]]: 'succeeded',
    [tenants[1]]: 'failed',
    [tenants[2]]: 'pending',
  });
  // The failing tenant stays active on the tag it deployed; the untouched one keeps the previous tag.
  expect((await stack.getJson<TenantView>(`/api/v1/tenants/${tenants[1]}`)).state).toBe('active');
  expect(committedTag(tenants[2])).toBe(`v2.0.0-${run}`);
  expect((await events(tenants[2])).filter((e) => e.type === 'ImageTagChangeRequested')).toHaveLength(1);

  const pause = await post(`/api/v1/rollouts/${started.rollout_id}/pause`, { reason: 'halted already' });
  expect(pause.status).toBe(409);
  expect(((await pause.json()) as { error: string }).error).toBe('ROLLOUT.ACTION_REFUSED');
  const abort = await post(`/api/v1/rollouts/${started.rollout_id}/abort`, { reason: 'bad release' });
  expect(abort.status).toBe(202);
  expect(((await abort.json()) as RolloutAnswer).status).toBe('aborted');
  expect(tenantStatuses(await rollout(started.rollout_id))[tenants[2]]).toBe('pending');
}, 300_000);
