import { randomBytes } from 'node:crypto';
import { tenantStream, TIER_CATALOG } from '@app/contracts';
import { CUSTOM_RENDER_ENV, loadRenderOptions, type TenantPlan } from '@app/plans';
import { provisionedTenant } from '@app/tenancy';
import { EXIT } from './tenantctl';
import { startTenantctlTestStore, type TenantctlTestStore } from './tenantctl.test-helpers';

const hex = () => randomBytes(3).toString('hex');

const NOW = new Date('2025-03-10T12:00:00.000Z');

let cli: TenantctlTestStore;
const tenantctl = (argv: string[], env?: NodeJS.ProcessEnv) => cli.tenantctl(argv, env);

const shop = provisionedTenant(`plan-shop-${hex()}`, 'standard', '2025-03-05T10:00:00Z', 20_000);

async function streamLength(): Promise<number> {
  return (await cli.store.readStream(tenantStream(shop.tenantId))).length;
}

beforeAll(async () => {
  cli = await startTenantctlTestStore({
    schemaPrefix: 'tcplan',
    // No read model: `plan` folds the tenant's stream.
    readModel: false,
    // The k8s-service's render variables, as its deployment is given them: plans render with them.
    env: CUSTOM_RENDER_ENV,
    now: () => NOW,
  });
  await shop.appendTo(cli.store);
});

afterAll(async () => {
  await cli?.close();
});

describe('tenantctl plan', () => {
  it('prints a tier upgrade plan as text, with the diffs, and appends nothing', async () => {
    const before = await streamLength();
    const out = await tenantctl(['plan', shop.tenantId, '--tier', 'premium']);
    expect(out).toMatchObject({ code: EXIT.OK, stderr: '' });
    const lines = out.stdout.split('\n');
    expect(lines[0]).toBe(`Plan for ${shop.tenantId} (active): tier premium`);
    expect(lines).toContain('Nothing has been changed: this is a preview.');
    expect(lines).toContain('  ~ ResourceQuota/tenant-quota (resource-quota.yaml) changed');
    const { standard, premium } = TIER_CATALOG;
    expect(lines).toContain(
      `      spec.replicas: ${standard.workloads.apiGateway.replicas} -> ${premium.workloads.apiGateway.replicas}`,
    );
    expect(out.stdout).toContain(
      `MAX_USER_CONNECTIONS ${standard.limits.database.maxUserConnections} -> ${premium.limits.database.maxUserConnections}`,
    );
    expect(lines).toContain('+++ deployments/api-gateway.yaml Deployment/api-gateway');
    expect(await streamLength()).toBe(before);
    // Deterministic: the same state prints the same bytes.
    expect((await tenantctl(['plan', shop.tenantId, '--tier', 'premium'])).stdout).toBe(out.stdout);
  });

  it('prints the API shape with --json', async () => {
    const out = await tenantctl(['plan', shop.tenantId, '--suspend', '--json']);
    expect(out.code).toBe(EXIT.OK);
    const plan = JSON.parse(out.stdout) as TenantPlan;
    expect(plan.change).toEqual({ kind: 'suspend' });
    const removed = plan.kubernetes.changes.filter((change) => change.action === 'removed');
    expect(removed.map((change) => change.kind)).toEqual(['Ingress']);
  });

  it("renders with the k8s-service's variables from tenantctl's environment", async () => {
    const out = await tenantctl(['plan', shop.tenantId, '--image-tag', 'v8.0.0', '--json']);
    expect(out.code).toBe(EXIT.OK);
    const gateway = (JSON.parse(out.stdout) as TenantPlan).kubernetes.changes.find(
      (change) => change.kind === 'Deployment' && change.name === 'api-gateway',
    );
    const { imageRepository, imageTag } = loadRenderOptions(CUSTOM_RENDER_ENV);
    expect(gateway?.fields).toContainEqual({
      path: 'spec.template.spec.containers[0].image',
      before: `${imageRepository}/api-gateway:${imageTag}`,
      after: `${imageRepository}/api-gateway:v8.0.0`,
    });
  });

  it('refuses a render variable the k8s-service would refuse, naming it', async () => {
    const out = await tenantctl(['plan', shop.tenantId, '--suspend'], { IMAGE_REPOSITORY: 'Not A Repo' });
    expect(out).toMatchObject({ code: EXIT.USAGE, stdout: '' });
    expect(out.stderr).toContain('IMAGE_REPOSITORY');
  });

  it('plans the purge an active tenant would go through after a cancellation', async () => {
    const before = await streamLength();
    const out = await tenantctl(['plan', shop.tenantId, '--purge']);
    expect(out.code).toBe(EXIT.OK);
    expect(out.stdout).toContain('Cancellation now, then at the end of the grace period');
    expect(out.stdout).toContain(`  - database ${shop.tenantId.replace(/-/g, '_')}`);
    expect(out.stdout).toContain('cancellation-notice to ');
    expect(await streamLength()).toBe(before);
  });

  it('refuses anything but exactly one change, and an unknown tenant', async () => {
    const none = await tenantctl(['plan', shop.tenantId]);
    expect(none).toMatchObject({ code: EXIT.USAGE, stdout: '' });
    expect(none.stderr).toContain('a plan needs one change');
    const two = await tenantctl(['plan', shop.tenantId, '--suspend', '--image-tag', 'v2']);
    expect(two.code).toBe(EXIT.USAGE);
    expect(two.stderr).toContain('exactly one change, got suspend, imageTag');
    const unknown = await tenantctl(['plan', `nobody-${hex()}`, '--suspend']);
    expect(unknown.code).toBe(EXIT.UNKNOWN_TENANT);
  });
});
