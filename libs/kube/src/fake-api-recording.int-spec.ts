import { FakeApiServer } from './fake-api-server';
import { KubeClient } from './kube-client';

/** The double records each request as the authorization checks the real API server would make for it. */
describe('FakeApiServer request recording', () => {
  let server: FakeApiServer;
  let url: string;
  beforeEach(async () => {
    server = new FakeApiServer();
    url = await server.start();
  });
  afterEach(() => server.stop());

  const checks = (user: string) =>
    server
      .authorizations(user)
      .filter((a) => a.resourceRequest)
      .map((a) => [a.verb, a.apiGroup, a.resource, a.subresource, a.namespace, a.name].join(' '));

  it('records server-side apply as patch, plus create when the apply creates the object', async () => {
    const client = new KubeClient({ server: url, token: 'alice' }, 'test');
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rec-ns' } };
    const config = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'rec-ns' },
      data: { a: '1' },
    };
    await client.apply(namespace);
    await client.apply(config);
    await client.apply({ ...config, data: { a: '2' } });
    expect(checks('alice')).toEqual([
      'patch  namespaces  rec-ns rec-ns',
      'create  namespaces  rec-ns rec-ns',
      'patch  configmaps  rec-ns c',
      'create  configmaps  rec-ns c',
      'patch  configmaps  rec-ns c',
    ]);
    // The client's discovery of each group version is a non-resource request.
    expect(
      server
        .authorizations('alice')
        .filter((a) => !a.resourceRequest)
        .map((a) => a.path),
    ).toContain('/api/v1');
  });

  it('records reads, lists, deletes and the caller, and tells callers apart by their token', async () => {
    const client = new KubeClient({ server: url, token: 'bob' }, 'test');
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rec-b' } });
    await client.read('apps/v1', 'Deployment', 'd', 'rec-b');
    await client.list('v1', 'Pod', 'rec-b');
    await client.list('v1', 'Namespace');
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rec-b' } });
    await fetch(`${url}/api/v1/namespaces/rec-b/pods?watch=true`).then((r) => r.body?.cancel());
    await fetch(`${url}/api/v1/namespaces/rec-b/pods?watch=false`).then((r) => r.body?.cancel());
    await fetch(`${url}/apis/batch/v1/namespaces/rec-b/jobs`, { method: 'DELETE' }).then((r) =>
      r.body?.cancel(),
    );
    expect(checks('bob').slice(2)).toEqual([
      'get apps deployments  rec-b d',
      'list  pods  rec-b ',
      'list  namespaces   ',
      'delete  namespaces  rec-b rec-b',
    ]);
    expect(checks('system:anonymous')).toEqual([
      'watch  pods  rec-b ',
      'list  pods  rec-b ',
      'deletecollection batch jobs  rec-b ',
    ]);
  });

  it('serves create (POST, 409 when taken) and replace (PUT, 404 when absent) as create and update', async () => {
    await new KubeClient({ server: url }, 'test').apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'rec-s' },
    });
    const secret = (value: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's', namespace: 'rec-s', labels: { app: 'x' } },
        data: { k: Buffer.from(value).toString('base64') },
      });
    const call = (method: string, path: string, body?: string) =>
      fetch(`${url}/api/v1/namespaces/rec-s/secrets${path}`, {
        method,
        body,
        headers: { authorization: 'Bearer carol', 'content-type': 'application/json' },
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    expect((await call('PUT', '/s', secret('0'))).status).toBe(404);
    expect((await call('POST', '', secret('1'))).status).toBe(201);
    expect((await call('POST', '', secret('2'))).status).toBe(409);
    expect((await call('PUT', '/s', secret('3'))).status).toBe(200);
    expect(server.get('v1', 'Secret', 'rec-s', 's')?.data).toEqual({
      k: Buffer.from('3').toString('base64'),
    });
    expect((await call('GET', '?labelSelector=app%3Dx')).body.items).toHaveLength(1);
    expect((await call('GET', '?labelSelector=app%3Dy')).body.items).toHaveLength(0);
    expect(checks('carol')).toEqual([
      'update  secrets  rec-s s',
      'create  secrets  rec-s ',
      'create  secrets  rec-s ',
      'update  secrets  rec-s s',
      'list  secrets  rec-s ',
      'list  secrets  rec-s ',
    ]);
  });
});
