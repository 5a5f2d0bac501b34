import { startComposeStandIns, type ComposeStandIns } from '../../scripts/compose-standins';

// What docker-compose.yml's `compose-standins` service answers: the notification-service's websites API calls
// and the k8s-service's tenant /health check.
describe('compose stand-ins', () => {
  let running: ComposeStandIns;
  let websites: string;
  const token = 'compose-internal-token';
  beforeAll(async () => {
    running = await startComposeStandIns({ token, websitesPort: 0, tenantHealthPort: 0, host: '127.0.0.1' });
    websites = `http://127.0.0.1:${running.websitesPort}/api/v1/websites`;
  });
  afterAll(() => running.close());

  const call = (url: string, init: RequestInit = {}, bearer = token) =>
    fetch(url, {
      ...init,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    });

  it('keeps website records behind the internal token', async () => {
    expect((await call(websites, {}, 'wrong-token')).status).toBe(401);
    const created = await call(websites, {
      method: 'POST',
      body: JSON.stringify({ tenant_id: 't-1', domain: 'shop.example.com', status: 'provisioning' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    const patched = await call(`${websites}/${id}`, {
      method: 'PATCH',
      body: JSON.stringify({ status: 'active' }),
    });
    expect(await patched.json()).toMatchObject({ id, status: 'active', domain: 'shop.example.com' });
    expect(await (await call(`${websites}?tenant_id=t-1`)).json()).toHaveLength(1);
    expect(await (await call(`${websites}?tenant_id=other`)).json()).toHaveLength(0);
    expect((await call(`${websites}/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`${websites}/${id}`)).status).toBe(404);
    expect((await call(websites, { method: 'POST', body: '[1]' })).status).toBe(400);
  });

  it("answers every tenant's /health, whatever the Host", async () => {
    const health = `http://127.0.0.1:${running.tenantHealthPort}/health`;
    const response = await fetch(health, { headers: { host: 'abc.collectverything.com' } });
    expect(response.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${running.tenantHealthPort}/other`)).status).toBe(404);
  });
});
