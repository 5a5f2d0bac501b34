import { FakeApiServer, KubeClient, loadPackage } from '@app/kube';
import { createSecretStore } from '@app/secrets';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configSchema as k8sConfigSchema } from '../../apps/k8s-service/src/config';
import {
  type RbacPolicy,
  type RecordedAuthorization,
  type ScopedRule,
  deniedRequests,
  deployRbac,
  serviceAccountUser,
  unusedGrants,
} from '../support/rbac';

/**
 * The Kubernetes secret store (`SECRET_STORE_URL=kubernetes://e-commerce-shared`) driven through every method,
 * as each app that builds it, against the API double; the Role of deploy/ compared with what it did.
 */

type ClientModule = typeof import('@kubernetes/client-node');
const NAMESPACE = 'e-commerce-shared';
const APPS_DIR = resolve(__dirname, '..', '..', 'apps');
const inStoreNamespace = (rule: ScopedRule) => rule.namespace === NAMESPACE;

/** Apps whose wiring builds the secret store; the k8s-service only with CREDENTIALS_MODE=secret (below). */
function appsBuildingTheStore(): string[] {
  return readdirSync(APPS_DIR)
    .filter((app) => {
      const wiring = join(APPS_DIR, app, 'src', 'wiring.ts');
      try {
        return readFileSync(wiring, 'utf8').includes('createSecretStore(');
      } catch {
        return false;
      }
    })
    .sort();
}

/** Every method of the store, with the outcomes that take each path (created, conflict, absent). */
async function useEveryMethod(url: string, user: string): Promise<void> {
  const k8s = loadPackage<ClientModule>('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'double', server: url, skipTLSVerify: true }],
    users: [{ name: 'app', token: user }],
    contexts: [{ name: 'double', cluster: 'double', user: 'app' }],
    currentContext: 'double',
  });
  const store = createSecretStore(`kubernetes://${NAMESPACE}`, {
    kubernetesApi: config.makeApiClient(k8s.CoreV1Api),
  });
  const path = `/e-commerce/tenants/rbac-co-abc123/${user.split(':').pop()}`;
  await store.put(path, { password: 'one' });
  await store.put(path, { password: 'two' });
  expect(await store.putIfAbsent(path, { password: 'three' })).toEqual({ password: 'two' });
  expect(await store.get(path)).toEqual({ password: 'two' });
  expect(await store.list('/e-commerce/tenants/rbac-co-abc123/')).toContain(path);
  await store.ping?.();
  await store.delete(path);
  await store.delete(path);
  expect(await store.get(path)).toBeUndefined();
}

let production: RbacPolicy;
let direct: RbacPolicy;
let users: string[];
const recorded = new Map<string, RecordedAuthorization[]>();
beforeAll(async () => {
  production = deployRbac('production');
  direct = deployRbac('direct-delivery');
  users = appsBuildingTheStore().filter((app) => app !== 'k8s-service');
  const server = new FakeApiServer();
  const url = await server.start();
  try {
    await new KubeClient({ server: url, token: 'test-harness' }, 'test').apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NAMESPACE },
    });
    for (const app of users) await useEveryMethod(url, serviceAccountUser(app));
    for (const app of users) recorded.set(app, server.authorizations(serviceAccountUser(app)));
  } finally {
    await server.stop();
  }
}, 60000);

describe('RBAC of the Kubernetes secret store', () => {
  it('is bound to exactly the apps that build the store, the k8s-service being one only where GitOps is off', () => {
    expect(users).toEqual([
      'broker-service',
      'database-service',
      'monitoring-service',
      'notification-service',
      'storage-service',
    ]);
    // The k8s-service builds the store only with CREDENTIALS_MODE=secret, which production's GitOps refuses and
    // the direct-delivery component does not set.
    expect(readFileSync(join(APPS_DIR, 'k8s-service', 'src', 'wiring.ts'), 'utf8')).toMatch(
      /config\.CREDENTIALS_MODE === 'secret'\s*\?\s*createSecretStore\(/,
    );
    expect(
      k8sConfigSchema.safeParse({ K8S_DELIVERY: 'gitops', CREDENTIALS_MODE: 'secret' }).error?.issues,
    ).toContainEqual(expect.objectContaining({ path: ['CREDENTIALS_MODE'] }));
    for (const policy of [production, direct]) {
      const bound = policy.bindings
        .filter((binding) => binding.namespace === NAMESPACE)
        .flatMap((binding) => binding.subjects.map((subject) => subject.name))
        .sort();
      expect(bound).toEqual(users);
    }
  });

  it('is a Role in the store namespace only: no rule anywhere else grants secrets', () => {
    for (const policy of [production, direct]) {
      const secretRoles = [...policy.roles]
        .filter(([, rules]) => rules.some((rule) => rule.resources?.includes('secrets')))
        .map(([role]) => role);
      expect(secretRoles).toEqual([`Role/${NAMESPACE}/provisioning:secret-store`]);
      expect(policy.bindings.filter((b) => b.namespace === NAMESPACE).map((b) => b.roleRef)).toEqual([
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'provisioning:secret-store' },
      ]);
    }
  });

  it('allows every request the store made for each app, and grants no verb the store does not call', () => {
    const all = [...recorded.values()].flat();
    expect(new Set(all.map((a) => a.verb))).toEqual(new Set(['create', 'update', 'get', 'list', 'delete']));
    for (const policy of [production, direct]) {
      for (const app of users) {
        expect(recorded.get(app)!.length).toBeGreaterThan(0);
        expect(deniedRequests(policy, app, recorded.get(app)!)).toEqual([]);
        expect(unusedGrants(policy, app, recorded.get(app)!, inStoreNamespace)).toEqual([]);
      }
    }
  });

  it('reports a verb removed from the Role and one added to it', () => {
    const key = `Role/${NAMESPACE}/provisioning:secret-store`;
    const edited = (verbs: (current: string[]) => string[]): RbacPolicy => {
      const roles = new Map(production.roles);
      roles.set(
        key,
        roles.get(key)!.map((rule) => ({ ...rule, verbs: verbs(rule.verbs) })),
      );
      return { ...production, roles };
    };
    const app = users[0];
    expect(
      deniedRequests(
        edited((verbs) => verbs.filter((verb) => verb !== 'update')),
        app,
        recorded.get(app)!,
      ),
    ).toEqual([expect.stringMatching(/^update core\/secrets [a-z0-9-]+ in namespace e-commerce-shared$/)]);
    expect(
      unusedGrants(
        edited((verbs) => [...verbs, 'watch']),
        app,
        recorded.get(app)!,
        inStoreNamespace,
      ),
    ).toEqual([expect.stringMatching(/^watch core\/secrets in namespace e-commerce-shared/)]);
  });
});
