import { randomBytes } from 'node:crypto';
import { FakeApiServer } from './fake-api-server';
import { KubeClient } from './kube-client';
import type { KubeObject } from './schema';

/** KubeClient through @kubernetes/client-node against the local API double (a real HTTP server). */
const MANAGER = 'provisioning-kube-lib-test';
let server: FakeApiServer;
let client: KubeClient;

beforeEach(async () => {
  server = new FakeApiServer({ terminationDelayMs: 10_000 });
  client = new KubeClient({ server: await server.start() }, MANAGER);
});
afterEach(() => server.stop());

const namespace = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const configMap = (ns: string, name = 'tenant-config'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns },
  data: { TENANT_TIER: 'premium' },
});
const uniqueNamespace = () => `e-commerce-test-${randomBytes(3).toString('hex')}`;

describe('KubeClient', () => {
  it('applies server-side with its field manager, then reads and lists what it applied', async () => {
    const ns = uniqueNamespace();
    await client.apply(namespace(ns));
    const applied = await client.apply(configMap(ns));
    expect(applied.metadata.managedFields).toEqual([{ manager: MANAGER, operation: 'Apply' }]);
    const patches = server.requests.filter((request) => request.method === 'PATCH');
    expect(patches.map((request) => [request.contentType, request.fieldManager])).toEqual([
      ['application/apply-patch+yaml', MANAGER],
      ['application/apply-patch+yaml', MANAGER],
    ]);
    expect((await client.read('v1', 'ConfigMap', 'tenant-config', ns))?.data).toEqual({
      TENANT_TIER: 'premium',
    });
    expect((await client.list('v1', 'ConfigMap', ns)).map((object) => object.metadata.name)).toEqual([
      'tenant-config',
    ]);
  });

  it('reads an absent object as undefined and deleting it as false (absent is success)', async () => {
    const ns = uniqueNamespace();
    expect(await client.read('v1', 'Namespace', ns)).toBeUndefined();
    expect(await client.delete(namespace(ns))).toBe(false);
    await client.apply(namespace(ns));
    await client.apply(configMap(ns));
    expect(await client.delete(configMap(ns))).toBe(true);
    expect(await client.read('v1', 'ConfigMap', 'tenant-config', ns)).toBeUndefined();
  });

  it('maps refusals to stable codes: invalid is permanent, a terminating namespace retryable', async () => {
    const ns = uniqueNamespace();
    await expect(client.apply(namespace('Bad_Name'))).rejects.toMatchObject({
      code: 'K8S.REJECTED',
      retryable: false,
    });
    await expect(client.apply(configMap(ns))).rejects.toMatchObject({
      code: 'K8S.NOT_FOUND',
      retryable: true,
    });
    await client.apply(namespace(ns));
    expect(await client.delete(namespace(ns))).toBe(true);
    expect((await client.read('v1', 'Namespace', ns))?.status).toMatchObject({ phase: 'Terminating' });
    await expect(client.apply(configMap(ns))).rejects.toMatchObject({
      code: 'K8S.NAMESPACE_TERMINATING',
      retryable: true,
    });
  });

  it('reachable() is true against a live server and false once it is gone', async () => {
    expect(await client.reachable()).toBe(true);
    await server.stop();
    expect(await client.reachable()).toBe(false);
  });
});
