import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_PLANE_APPS, type BrokerUserAdmin } from '@app/rabbitmq-admin';
import { parse } from 'yaml';
import { runBrokerUsers, urlVariable } from '../../scripts/broker-users';

/**
 * docker-compose.yml gives each app its own RabbitMQ user, and the `broker-users` job creates exactly the users
 * the apps connect as: the same AMQP URLs (YAML anchors), one distinct user per app, the administrator kept for
 * the job and the broker-service's tenant vhosts only.
 */

const root = join(__dirname, '..', '..');
interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
/** Compose's `${NAME:?message}` / `${NAME:-default}` replaced by a value naming the variable. */
const resolve = (value: string) =>
  value.replace(/\$\{([A-Z0-9_]+)[^}]*\}/g, (_, name: string) => `x-${name}`);
const userOf = (url: string) => new URL(resolve(url)).username;

describe('per-app RabbitMQ users in docker-compose.yml', () => {
  const job = compose.services['broker-users'];

  it('connects every app as its own user, the one the broker-users job creates', () => {
    const users = new Set<string>();
    for (const app of CONTROL_PLANE_APPS) {
      const url = compose.services[app].environment?.AMQP_URL;
      expect(url).toBeDefined();
      expect(url).toBe(job.environment?.[urlVariable(app)]);
      expect(userOf(url!)).toBe(app);
      users.add(userOf(url!));
      expect(compose.services[app].depends_on?.['broker-users']?.condition).toBe(
        'service_completed_successfully',
      );
    }
    expect(users.size).toBe(CONTROL_PLANE_APPS.length);
    expect(users.has(resolve(job.environment!.RABBITMQ_ADMIN_USER))).toBe(false);
  });

  it('runs the script, which applies every app from that environment and prints no password', async () => {
    expect(job.command).toEqual(['node', 'dist/scripts/broker-users.js']);
    const env = Object.fromEntries(Object.entries(job.environment ?? {}).map(([k, v]) => [k, resolve(v)]));
    const users: string[] = [];
    const admin: BrokerUserAdmin = {
      createVhost: async () => undefined,
      putUser: async (user) => void users.push(user),
      setPermissions: async () => undefined,
      deleteTopicPermissions: async () => true,
      setTopicPermissions: async () => undefined,
    };
    let out = '';
    await runBrokerUsers([], { env, stdout: { write: (text: string) => (out += text) }, admin });
    expect(users).toEqual([...CONTROL_PLANE_APPS]);
    expect(out).not.toMatch(/PASSWORD/);
    expect(out).toContain('orchestrator: user "orchestrator" on vhost "/"');
  });

  it('names the missing variable when an app has no URL', async () => {
    await expect(
      runBrokerUsers(['--dry-run'], { env: {}, stdout: { write: () => undefined } }),
    ).rejects.toThrow('PROVISIONING_API_AMQP_URL (or PROVISIONING_API_AMQP_URL_FILE) is required');
  });
});
