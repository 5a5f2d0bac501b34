import { EXCHANGES, serviceQueueName } from '@app/contracts';
import {
  brokerPermissionSet,
  brokerPermissionsFor,
  CONTROL_PLANE_APPS,
  type ControlPlaneApp,
} from './broker-permissions';
import { applyBrokerUsers, brokerAccountFromUrl, type BrokerUserAdmin } from './broker-users';
import { MessagingError } from '@app/messaging';

/** RabbitMQ matches with PCRE-like regexes; these use nothing JavaScript reads differently. */
function allows(pattern: string, name: string): boolean {
  return new RegExp(pattern).test(name);
}

describe('brokerPermissionsFor', () => {
  it('lets the orchestrator publish commands and integration events, and read nothing', () => {
    const p = brokerPermissionsFor('orchestrator');
    expect(allows(p.write, EXCHANGES.commands)).toBe(true);
    expect(allows(p.write, EXCHANGES.tenantEvents)).toBe(true);
    expect(allows(p.write, EXCHANGES.billing)).toBe(false);
    expect(allows(p.write, 'amq.default')).toBe(false);
    expect(allows(p.read, serviceQueueName('database'))).toBe(false);
    expect(allows(p.configure, serviceQueueName('database'))).toBe(false);
  });

  it.each(CONTROL_PLANE_APPS.filter((app) => app !== 'orchestrator'))(
    '%s may not publish on the commands exchange',
    (app) => {
      expect(allows(brokerPermissionsFor(app).write, EXCHANGES.commands)).toBe(false);
    },
  );

  it("confines a service to its own queue, its retry and parking companions and its commands' routing keys", () => {
    const p = brokerPermissionsFor('database-service', { queuePrefix: 'run-1.' });
    const own = 'run-1.provisioning.database-service';
    for (const name of [own, `${own}.retry.1`, `${own}.retry.12`, `${own}.parked`]) {
      expect(allows(p.configure, name)).toBe(true);
    }
    expect(allows(p.read, own)).toBe(true);
    expect(allows(p.read, `${own}.retry.3`)).toBe(true);
    expect(allows(p.write, own)).toBe(true);
    for (const other of [
      'run-1.provisioning.storage-service',
      'provisioning.database-service',
      `${own}-evil`,
      `${own}.parkedx`,
      'run-1XprovisioningXdatabase-service',
    ]) {
      expect(allows(p.configure, other)).toBe(false);
      expect(allows(p.read, other)).toBe(false);
      expect(allows(p.write, other)).toBe(false);
    }
    expect(allows(p.read, EXCHANGES.commands)).toBe(true);
    expect(allows(p.read, EXCHANGES.billing)).toBe(false);
    expect(p.topic).toEqual([{ exchange: EXCHANGES.commands, write: '^$', read: expect.any(String) }]);
    const [topic] = p.topic;
    expect(allows(topic.read, 'database.remove-databases')).toBe(true);
    expect(allows(topic.read, 'database.#')).toBe(true);
    expect(allows(topic.read, 'storage.remove-storage')).toBe(false);
    expect(allows(topic.read, '#')).toBe(false);
  });

  it('lets the API consume its billing intake queue and nothing of the commands', () => {
    const p = brokerPermissionsFor('provisioning-api');
    expect(allows(p.read, 'provisioning.api-intake')).toBe(true);
    expect(allows(p.read, EXCHANGES.billing)).toBe(true);
    expect(allows(p.read, EXCHANGES.commands)).toBe(false);
    expect(allows(p.read, serviceQueueName('k8s'))).toBe(false);
  });

  it('follows renamed exchanges', () => {
    const p = brokerPermissionsFor('orchestrator', { exchanges: { provisioningCommands: 'cmds.v2' } });
    expect(allows(p.write, 'cmds.v2')).toBe(true);
    expect(allows(p.write, EXCHANGES.commands)).toBe(false);
  });

  it('refuses an unknown app and an invalid prefix', () => {
    expect(() => brokerPermissionsFor('billing' as ControlPlaneApp)).toThrow(MessagingError);
    expect(() => brokerPermissionsFor('k8s-service', { queuePrefix: '^.*' })).toThrow(MessagingError);
  });

  it('covers every app once', () => {
    expect(brokerPermissionSet().map((p) => p.app)).toEqual([...CONTROL_PLANE_APPS]);
  });
});

describe('brokerAccountFromUrl', () => {
  it('reads user, percent-decoded password and vhost', () => {
    expect(brokerAccountFromUrl('orchestrator', 'amqp://orch:p%40ss@rabbit:5672/cp%2Fprod')).toEqual({
      app: 'orchestrator',
      user: 'orch',
      password: 'p@ss',
      vhost: 'cp/prod',
    });
    expect(brokerAccountFromUrl('orchestrator', 'amqps://orch:pw@rabbit').vhost).toBe('/');
  });

  it('names the app, never the URL, when it holds no credentials', () => {
    const attempt = () => brokerAccountFromUrl('k8s-service', 'amqp://only-user-s3cret@rabbit');
    expect(attempt).toThrow(/k8s-service/);
    expect(attempt).not.toThrow(/s3cret/);
  });
});

describe('applyBrokerUsers', () => {
  function recordingAdmin() {
    const calls: string[] = [];
    const admin: BrokerUserAdmin = {
      createVhost: async (vhost) => void calls.push(`vhost ${vhost}`),
      putUser: async (user, _password, tags) => void calls.push(`user ${user} [${tags?.join(',')}]`),
      setPermissions: async (vhost, user, p) => void calls.push(`perm ${vhost} ${user} ${p.write}`),
      deleteTopicPermissions: async (vhost, user) => (calls.push(`clear-topic ${vhost} ${user}`), true),
      setTopicPermissions: async (vhost, user, t) => void calls.push(`topic ${vhost} ${user} ${t.exchange}`),
    };
    return { admin, calls };
  }

  it('refuses two apps sharing one account', async () => {
    const { admin, calls } = recordingAdmin();
    const shared = [
      brokerAccountFromUrl('orchestrator', 'amqp://cp:pw@rabbit/'),
      brokerAccountFromUrl('database-service', 'amqp://cp:pw@rabbit/'),
    ];
    await expect(applyBrokerUsers(admin, shared)).rejects.toThrow(/orchestrator and database-service/);
    expect(calls).toEqual([]);
  });

  it('creates the user without tags, sets its permissions and replaces its topic permissions', async () => {
    const { admin, calls } = recordingAdmin();
    await applyBrokerUsers(admin, [brokerAccountFromUrl('database-service', 'amqp://db:pw@rabbit/cp')]);
    expect(calls).toEqual([
      'vhost cp',
      'user db []',
      `perm cp db ${brokerPermissionsFor('database-service').write}`,
      'clear-topic cp db',
      `topic cp db ${EXCHANGES.commands}`,
    ]);
  });
});
