import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parse } from 'yaml';
import { DEFAULT_RENDER_OPTIONS } from '../domain/render-options';
import { ingressFiles, namespaceFiles, workloadFiles } from '../domain/tenant-tree';
import { testTenant } from '../testing/fixtures';
import type { GitOpsConfig } from '@app/kube';
import { APPLICATION_SET_FILE, GitOpsDriver } from './gitops.driver';

/** Against a real Git: a bare repository as the remote, working copies cloned from it. */
const logger = pino({ level: 'silent' });
let base: string;
let bare: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}
function freshClone(): string {
  const dir = join(base, `check-${randomBytes(3).toString('hex')}`);
  execFileSync('git', ['clone', '-q', bare, dir]);
  return dir;
}
function driver(name: string, overrides: Partial<GitOpsConfig> = {}): GitOpsDriver {
  return new GitOpsDriver(
    {
      workdir: join(base, name),
      remote: bare,
      branch: 'main',
      authorName: 'provisioning-k8s-service',
      authorEmail: 'provisioning@collectverything.com',
      pushAttempts: 5,
      lockTimeoutMs: 30000,
      ...overrides,
    },
    DEFAULT_RENDER_OPTIONS,
    logger,
  );
}
function commitCount(): number {
  try {
    return Number(git(bare, 'rev-list', '--count', 'main').trim());
  } catch {
    return 0;
  }
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'gitops-'));
  bare = join(base, 'manifests.git');
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch', 'main', bare]);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('GitOpsDriver against a real repository', () => {
  it('commits the tree and the ApplicationSet element, idempotently, and removes them', async () => {
    const tenant = testTenant(randomBytes(3).toString('hex'), 'premium');
    const d = driver('wc-a');
    const change = {
      tenant,
      put: [
        ...namespaceFiles(tenant, DEFAULT_RENDER_OPTIONS),
        ...workloadFiles(tenant, DEFAULT_RENDER_OPTIONS),
      ],
      remove: [],
      application: 'register' as const,
      reason: 'DeployWorkloads',
      correlationId: 'corr-123',
    };
    const first = await d.applyTenant(change);
    expect(first.changed).toBe(true);
    const afterFirst = commitCount();
    expect(afterFirst).toBe(1);

    const second = await d.applyTenant(change);
    expect(second.changed).toBe(false);
    expect(commitCount()).toBe(afterFirst);

    const clone = freshClone();
    const root = join(clone, 'tenants', tenant.tenantId);
    expect(existsSync(join(root, 'deployments', 'api-gateway.yaml'))).toBe(true);
    expect(parse(readFileSync(join(root, 'kustomization.yaml'), 'utf8')).resources).toContain('services/');
    const appSet = parse(readFileSync(join(clone, APPLICATION_SET_FILE), 'utf8'));
    expect(appSet.spec.generators[0].list.elements).toEqual([
      { tenant: tenant.tenantId, tier: 'premium', domain: tenant.domain, region: 'us-east' },
    ]);
    const message = git(clone, 'log', '-1', '--format=%B');
    expect(message).toContain(`DeployWorkloads tenant ${tenant.tenantId}`);
    expect(message).toContain('Correlation-Id: corr-123');

    // Ingress step, then removal of ingress files only.
    await d.applyTenant({
      ...change,
      put: ingressFiles(tenant, DEFAULT_RENDER_OPTIONS),
      application: 'keep',
      reason: 'ConfigureIngress',
    });
    await d.applyTenant({
      ...change,
      put: [],
      remove: ingressFiles(tenant, DEFAULT_RENDER_OPTIONS),
      application: 'keep',
      reason: 'RemoveIngress',
    });
    const clone2 = freshClone();
    expect(existsSync(join(clone2, 'tenants', tenant.tenantId, 'ingress.yaml'))).toBe(false);
    expect(
      parse(readFileSync(join(clone2, 'tenants', tenant.tenantId, 'kustomization.yaml'), 'utf8')).resources,
    ).not.toContain('ingress.yaml');

    const removal = await d.removeTenant(tenant, { reason: 'RemoveNamespace', correlationId: 'corr-456' });
    expect(removal.changed).toBe(true);
    const clone3 = freshClone();
    expect(existsSync(join(clone3, 'tenants', tenant.tenantId))).toBe(false);
    expect(
      parse(readFileSync(join(clone3, APPLICATION_SET_FILE), 'utf8')).spec.generators[0].list.elements,
    ).toEqual([]);
    expect(git(clone3, 'log', '-1', '--format=%B')).toContain('Correlation-Id: corr-456');
    // Removing again is a no-op.
    expect(
      (await d.removeTenant(tenant, { reason: 'RemoveNamespace', correlationId: 'corr-456' })).changed,
    ).toBe(false);
  }, 60000);

  it('two working copies racing on the same remote both land, elements sorted', async () => {
    const a = driver('wc-race-a');
    const b = driver('wc-race-b');
    const tenants = ['aa', 'bb', 'cc', 'dd'].map((p) => testTenant(`${p}${randomBytes(2).toString('hex')}`));
    await Promise.all(
      tenants.map((tenant, i) =>
        (i % 2 === 0 ? a : b).applyTenant({
          tenant,
          put: namespaceFiles(tenant, DEFAULT_RENDER_OPTIONS),
          remove: [],
          application: 'register',
          reason: 'ProvisionNamespace',
          correlationId: `race-${i}`,
        }),
      ),
    );
    const clone = freshClone();
    const elements = parse(readFileSync(join(clone, APPLICATION_SET_FILE), 'utf8')).spec.generators[0].list
      .elements as {
      tenant: string;
    }[];
    const ids = tenants.map((t) => t.tenantId);
    expect(elements.map((e) => e.tenant).filter((id) => ids.includes(id))).toEqual([...ids].sort());
    for (const id of ids) expect(existsSync(join(clone, 'tenants', id, 'namespace.yaml'))).toBe(true);
    for (const tenant of tenants)
      await a.removeTenant(tenant, { reason: 'RemoveNamespace', correlationId: 'cleanup' });
  }, 60000);

  it("tells what is committed for a tenant from the remote's tip, whichever replica pushed it", async () => {
    const a = driver('wc-seen-a');
    const b = driver('wc-seen-b');
    const tenant = testTenant(randomBytes(3).toString('hex'));
    // B has synced before A pushes: its working copy does not have the tenant.
    expect(await b.tenantPaths(tenant.tenantId)).toEqual(new Set());
    await a.applyTenant({
      tenant,
      put: namespaceFiles(tenant, DEFAULT_RENDER_OPTIONS),
      remove: [],
      application: 'register',
      reason: 'ProvisionNamespace',
      correlationId: 'seen-1',
    });
    const seenByB = await b.tenantPaths(tenant.tenantId);
    expect(seenByB.has('namespace.yaml')).toBe(true);
    expect(seenByB).toEqual(await a.tenantPaths(tenant.tenantId));
    // A file a failed run left in a working copy, never committed, is not taken for committed.
    const leftover = join(base, 'wc-seen-a', 'tenants', tenant.tenantId, 'ingress.yaml');
    writeFileSync(leftover, 'kind: Ingress\n');
    expect((await a.tenantPaths(tenant.tenantId)).has('ingress.yaml')).toBe(false);
    await a.removeTenant(tenant, { reason: 'RemoveNamespace', correlationId: 'seen-2' });
    expect(await b.tenantPaths(tenant.tenantId)).toEqual(new Set());
  }, 60000);

  it('refuses unsafe paths', async () => {
    const tenant = testTenant(randomBytes(3).toString('hex'));
    await expect(
      driver('wc-unsafe').applyTenant({
        tenant,
        put: [{ path: '../../etc/passwd', objects: [] }],
        remove: [],
        application: 'keep',
        reason: 'x',
        correlationId: 'c',
      }),
    ).rejects.toMatchObject({ code: 'K8S.UNSAFE_PATH' });
  });
});
