import { FakeApiServer, KubeClient } from '@app/kube';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { DEFAULT_RENDER_OPTIONS, namespace, ingressFiles, namespaceFiles, workloadFiles } from '@app/plans';
import { testTenant } from '../testing/fixtures';
import { DirectDriver } from './direct.driver';
import { FIELD_MANAGER } from './field-manager';

/** Through @kubernetes/client-node against the local API double (KUBECONFIG runs handlers.int-spec on a cluster). */
const logger = pino({ level: 'silent' });
const options = { ...DEFAULT_RENDER_OPTIONS, managedBy: FIELD_MANAGER };
let server: FakeApiServer;
let client: KubeClient;

beforeEach(async () => {
  server = new FakeApiServer({ terminationDelayMs: 100 });
  client = new KubeClient({ server: await server.start() }, FIELD_MANAGER);
});
afterEach(() => server.stop());

function change(tenant: ReturnType<typeof testTenant>, put = namespaceFiles(tenant, options)) {
  return { tenant, put, remove: [], application: 'keep' as const, reason: 'test', correlationId: 'c' };
}

describe('DirectDriver against the API double', () => {
  it('applies in order with one field manager, server-side apply, idempotently, and deletes the namespace', async () => {
    const tenant = testTenant(randomBytes(3).toString('hex'));
    const driver = new DirectDriver(client, { namespaceDeleteTimeoutMs: 5000, pollIntervalMs: 20 }, logger);
    const files = [
      ...namespaceFiles(tenant, options),
      ...workloadFiles(tenant, options),
      ...ingressFiles(tenant, options),
    ];
    const result = await driver.applyTenant(change(tenant, files));
    expect(result.applied[0]).toBe(`Namespace/e-commerce-${tenant.tenantId}`);
    expect(result.applied).toHaveLength(files.flatMap((file) => file.objects).length);
    const patches = server.requests.filter((r) => r.method === 'PATCH');
    expect(new Set(patches.map((p) => p.contentType))).toEqual(new Set(['application/apply-patch+yaml']));
    expect(new Set(patches.map((p) => p.fieldManager))).toEqual(new Set([FIELD_MANAGER]));
    expect(
      server.get('cert-manager.io/v1', 'Certificate', `e-commerce-${tenant.tenantId}`, 'tenant-tls'),
    ).toBeDefined();

    await driver.applyTenant(change(tenant, files)); // re-apply converges
    expect(server.list().filter((o) => o.kind === 'Deployment')).toHaveLength(13);

    await driver.removeTenant(tenant);
    expect(server.list()).toEqual([]);
    await driver.removeTenant(tenant); // absent is success
  }, 30000);

  it('recreates the migration Job when its template changes (immutable on the API server), once', async () => {
    const tenant = testTenant(randomBytes(3).toString('hex'));
    const driver = new DirectDriver(client, { namespaceDeleteTimeoutMs: 5000, pollIntervalMs: 20 }, logger);
    const jobFile = (tag: string) =>
      workloadFiles(tenant, { ...options, imageTag: tag }).filter((f) => f.path === 'migration-job.yaml');
    await driver.applyTenant(change(tenant, [...namespaceFiles(tenant, options), ...jobFile('v1.2.3')]));
    const ns = `e-commerce-${tenant.tenantId}`;
    const jobName = jobFile('v1.2.3')[0].objects[0].metadata.name;
    const before = server.get('batch/v1', 'Job', ns, jobName)!;

    await driver.applyTenant(change(tenant, jobFile('v1.2.4')));
    const after = server.get('batch/v1', 'Job', ns, jobName)!;
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    const template = (after.spec as { template: { spec: { containers: { image: string }[] } } }).template;
    expect(template.spec.containers[0].image).toMatch(/:v1\.2\.4$/);
    // Re-applying the same template is a plain apply: no second delete.
    await driver.applyTenant(change(tenant, jobFile('v1.2.4')));
    const deletes = server.requests.filter(
      (r) => r.method === 'DELETE' && r.path.endsWith(`/jobs/${jobName}`),
    );
    expect(deletes).toHaveLength(1);
    expect(server.get('batch/v1', 'Job', ns, jobName)!.metadata.uid).toBe(after.metadata.uid);
  });

  it('a namespace stuck Terminating is reported with a clear code, finalizers untouched', async () => {
    const tenant = testTenant(randomBytes(3).toString('hex'));
    const driver = new DirectDriver(client, { namespaceDeleteTimeoutMs: 300, pollIntervalMs: 20 }, logger);
    await driver.applyTenant(change(tenant));
    server.stickTerminating(true);
    await expect(driver.removeTenant(tenant)).rejects.toMatchObject({
      code: 'K8S.NAMESPACE_TERMINATION_TIMEOUT',
      retryable: true,
      message: expect.stringMatching(/Terminating.*Discovery failed/),
    });
    const ns = server.get('v1', 'Namespace', undefined, `e-commerce-${tenant.tenantId}`)!;
    expect((ns.spec as { finalizers: string[] }).finalizers).toEqual(['kubernetes']);
    // Creating content in a Terminating namespace is refused, like a real API server.
    await expect(driver.applyTenant(change(tenant, workloadFiles(tenant, options)))).rejects.toMatchObject({
      code: 'K8S.NAMESPACE_TERMINATING',
    });
  });

  it('the double refuses what the API server refuses: bad names (422) and missing namespaces (404)', async () => {
    const tenant = testTenant(randomBytes(3).toString('hex'));
    const bad = namespace(tenant, options);
    bad.metadata.name = 'bad_name'; // client-node lowercases URLs, so the case trap is covered by the unit tests
    await expect(client.apply(bad)).rejects.toMatchObject({
      code: 'K8S.REJECTED',
      message: expect.stringMatching(/DNS-1123/),
    });
    const [quota] = namespaceFiles(tenant, options)[1].objects;
    await expect(client.apply(quota)).rejects.toMatchObject({ code: 'K8S.NOT_FOUND' });
  });
});
