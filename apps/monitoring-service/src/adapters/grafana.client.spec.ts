import { GrafanaStandIn } from '../testing/grafana-stand-in';
import { GrafanaClient, grafanaAuthorization } from './grafana.client';

// Grafana OSS refuses service account tokens on /api/admin/* (they cannot be server admins): the stand-in is
// set up that way, so only basic auth as a server admin can create the tenant's viewer.
describe('GrafanaClient credentials', () => {
  const admin = { user: 'admin', password: 'grafana-admin-password' };
  let grafana: GrafanaStandIn;
  let url: string;
  beforeEach(async () => {
    grafana = new GrafanaStandIn('service-account-token', { serverAdmin: admin, tokenIsServerAdmin: false });
    url = await grafana.start();
  });
  afterEach(() => grafana.stop());

  it('sends basic auth for a user and password, a bearer token otherwise', () => {
    expect(grafanaAuthorization(admin)).toBe(
      `Basic ${Buffer.from('admin:grafana-admin-password').toString('base64')}`,
    );
    expect(grafanaAuthorization({ token: 't' })).toBe('Bearer t');
    expect(grafanaAuthorization('t')).toBe('Bearer t');
  });

  it('creates a user through the admin API as a server admin', async () => {
    const client = new GrafanaClient(url, admin);
    const created = await client.createUser(
      {
        name: 'Shop',
        email: 'owner@example.com',
        login: 'shop-viewer',
        password: 'viewer-password',
      },
      1,
    );
    await client.setPassword(created.id, 'viewer-password-2');
    expect(grafana.users.get(created.id)?.password).toBe('viewer-password-2');
    expect(grafana.requests.at(-1)?.authorization).toMatch(/^Basic /);
  });

  it('a token the admin API refuses is a permanent failure that never echoes the credentials', async () => {
    const client = new GrafanaClient(url, { token: 'service-account-token' });
    const attempt = client.createUser(
      {
        name: 'S',
        email: 's@example.com',
        login: 's',
        password: 'p-123456',
      },
      1,
    );
    await expect(attempt).rejects.toMatchObject({ code: 'MONITORING.GRAFANA_REJECTED', retryable: false });
    const wrong = new GrafanaClient(url, { user: 'admin', password: 'not-the-password' });
    const error = (await wrong.findUser('x').catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'MONITORING.GRAFANA_REJECTED' });
    expect(error.message).toContain('401');
    expect(error.message).not.toContain('not-the-password');
  });
});
