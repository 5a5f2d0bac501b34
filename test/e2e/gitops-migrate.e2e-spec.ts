import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import {
  APPLICATION_SET_FILE,
  applicationSet,
  applicationSetElement,
  DEFAULT_RENDER_OPTIONS,
  fileContent,
  GitOpsDriver,
  namespaceFiles,
  renderApplicationSetRegistration,
  renderBootstrap,
  renderIndexes,
  tenantRegistrationFile,
} from '../../apps/k8s-service/src';
import { testTenant } from '../../apps/k8s-service/src/testing';
import { EXIT, runTenantctl as run } from '../../apps/tenantctl/src';

/**
 * The migration between the two apps that share the manifests repository: `tenantctl gitops migrate` on a
 * repository of the list layout, then the k8s-service's driver adding and removing tenants in it. After the
 * migration, a tenant's commit is its own directory and nothing else.
 */
const options = DEFAULT_RENDER_OPTIONS;
let base: string;
let remote: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}
const commits = () => Number(git(remote, 'rev-list', '--count', 'main').trim());
const lastPaths = () => git(remote, 'diff', '--name-only', 'main~1', 'main').trim().split('\n');

async function migrate() {
  let stdout = '';
  const code = await run(['gitops', 'migrate'], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => undefined },
    env: { GITOPS_REMOTE: remote, GITOPS_WORKDIR: join(base, 'tenantctl-wc'), LOG_LEVEL: 'silent' },
  });
  return { code, stdout };
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'gitops-migrate-'));
  remote = join(base, 'manifests.git');
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch', 'main', remote]);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('list layout → tenantctl gitops migrate → the k8s-service adds and removes tenants', () => {
  it('after the migration a tenant is added and removed by its own directory alone', async () => {
    const [kept, removed, added] = ['a', 'b', 'c'].map((p) =>
      testTenant(`${p}${randomBytes(3).toString('hex').slice(0, 5)}`),
    );
    // The list layout as the previous k8s-service left it: bootstrap/, the list ApplicationSet, two trees.
    const seed = join(base, 'seed');
    execFileSync('git', ['clone', '-q', remote, seed], { stdio: 'ignore' });
    const listSet = applicationSet(options);
    const list = {
      ...listSet,
      spec: {
        ...(listSet.spec as Record<string, unknown>),
        generators: [{ list: { elements: [kept, removed].map(applicationSetElement) } }],
      },
    };
    const files = [
      ...renderBootstrap(options),
      ...renderApplicationSetRegistration(options).map((file) =>
        file.path === APPLICATION_SET_FILE ? { ...file, content: stringify(list, { lineWidth: 0 }) } : file,
      ),
      ...[kept, removed].flatMap((tenant) => {
        const tree = namespaceFiles(tenant, options);
        const indexes = renderIndexes(tenant, options, new Set(tree.map((file) => file.path)));
        return [
          ...tree.map((file) => ({
            path: `tenants/${tenant.tenantId}/${file.path}`,
            content: fileContent(file),
          })),
          ...Object.entries(indexes)
            .filter((entry): entry is [string, string] => entry[1] !== null)
            .map(([path, content]) => ({ path: `tenants/${tenant.tenantId}/${path}`, content })),
        ];
      }),
    ];
    for (const file of files) {
      mkdirSync(join(seed, file.path, '..'), { recursive: true });
      writeFileSync(join(seed, file.path), file.content);
    }
    git(seed, 'add', '-A');
    git(
      seed,
      '-c',
      'user.name=seed',
      '-c',
      'user.email=seed@example.com',
      'commit',
      '-q',
      '-m',
      'list layout',
    );
    git(seed, 'push', '-q', 'origin', 'main');

    expect((await migrate()).code).toBe(EXIT.OK);
    expect(lastPaths().sort()).toEqual(
      [
        APPLICATION_SET_FILE,
        tenantRegistrationFile(kept.tenantId),
        tenantRegistrationFile(removed.tenantId),
      ].sort(),
    );

    const driver = new GitOpsDriver(
      {
        workdir: join(base, 'k8s-wc'),
        remote,
        branch: 'main',
        authorName: 'provisioning-k8s-service',
        authorEmail: 'provisioning@collectverything.com',
        pushAttempts: 5,
        lockTimeoutMs: 30000,
      },
      options,
      pino({ level: 'silent' }),
    );
    await driver.applyTenant({
      tenant: added,
      put: namespaceFiles(added, options),
      remove: [],
      application: 'register',
      reason: 'ProvisionNamespace',
      correlationId: 'migrate-add',
    });
    const addedPaths = lastPaths();
    expect(addedPaths).toContain(tenantRegistrationFile(added.tenantId));
    expect(addedPaths.filter((path) => !path.startsWith(`tenants/${added.tenantId}/`))).toEqual([]);

    await driver.removeTenant(removed, { reason: 'RemoveNamespace', correlationId: 'migrate-remove' });
    const removedPaths = lastPaths();
    expect(removedPaths).toContain(tenantRegistrationFile(removed.tenantId));
    expect(removedPaths.filter((path) => !path.startsWith(`tenants/${removed.tenantId}/`))).toEqual([]);

    // The kept tenant re-registered (a tier change): its config file only, the ApplicationSet untouched.
    await driver.applyTenant({
      tenant: { ...kept, tier: 'premium' },
      put: [],
      remove: [],
      application: 'register',
      reason: 'UpdateQuota',
      correlationId: 'migrate-tier',
    });
    expect(lastPaths().filter((path) => !path.startsWith(`tenants/${kept.tenantId}/`))).toEqual([]);

    const count = commits();
    const again = await migrate();
    expect(again).toEqual({
      code: EXIT.OK,
      stdout: 'nothing to migrate: the ApplicationSet already reads tenants/*/config.json\n',
    });
    expect(commits()).toBe(count);
  });
});
