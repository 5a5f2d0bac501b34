import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import pino from 'pino';
import { parse, parseAllDocuments } from 'yaml';
import {
  DEFAULT_RENDER_OPTIONS,
  type RenderOptions,
  ingressFiles,
  namespaceFiles,
  workloadFiles,
} from '@app/plans';
import { testTenant } from '../testing/fixtures';
import type { GitOpsConfig, KubeObject } from '@app/kube';
import { APPLICATION_SET_FILE, GitOpsDriver, applicationFile, tenantRegistrationFile } from './gitops.driver';

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
function driver(
  name: string,
  overrides: Partial<GitOpsConfig> = {},
  options: RenderOptions = DEFAULT_RENDER_OPTIONS,
): GitOpsDriver {
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
    options,
    logger,
  );
}
/** Paths the last commit of the bare repository changed. */
function lastCommitPaths(repo: string = bare): string[] {
  return git(repo, 'diff', '--name-only', 'main~1', 'main').trim().split('\n').filter(Boolean);
}
function readRegistration(repo: string, tenantId: string): Record<string, string> {
  return JSON.parse(readFileSync(join(repo, tenantRegistrationFile(tenantId)), 'utf8')) as Record<
    string,
    string
  >;
}
/**
 * The working copy holds exactly the remote's tip, file for file: every file the driver wrote lies under the
 * paths it declared for its change (an undeclared one would be left uncommitted in the working tree).
 */
function expectWorkingCopyAtTip(workdir: string, repo: string): void {
  const committed = git(repo, 'ls-tree', '-r', '--name-only', 'main').split('\n').filter(Boolean);
  const present = readdirSync(workdir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(workdir, join(entry.parentPath, entry.name)))
    .filter((path) => !path.startsWith('.git'))
    .sort();
  expect(present).toEqual(committed);
  for (const path of committed)
    expect(readFileSync(join(workdir, path), 'utf8')).toBe(git(repo, 'show', `main:${path}`));
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
  it("commits the tree and the tenant's config.json, idempotently, and removes them", async () => {
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
    expect(readRegistration(clone, tenant.tenantId)).toEqual({
      tenant: tenant.tenantId,
      tier: 'premium',
      domain: tenant.domain,
      region: 'us-east',
    });
    const appSet = readFileSync(join(clone, APPLICATION_SET_FILE), 'utf8');
    expect(parse(appSet).spec.generators[0].git.files).toEqual([{ path: 'tenants/*/config.json' }]);
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
    // The tenant's directory is the whole change: the ApplicationSet is the same object.
    expect(lastCommitPaths().every((path) => path.startsWith(`tenants/${tenant.tenantId}/`))).toBe(true);
    expect(lastCommitPaths()).toContain(tenantRegistrationFile(tenant.tenantId));
    expect(readFileSync(join(clone3, APPLICATION_SET_FILE), 'utf8')).toBe(appSet);
    expect(git(clone3, 'log', '-1', '--format=%B')).toContain('Correlation-Id: corr-456');
    // Removing again is a no-op.
    expect(
      (await d.removeTenant(tenant, { reason: 'RemoveNamespace', correlationId: 'corr-456' })).changed,
    ).toBe(false);
  }, 60000);

  it('two working copies racing on the same remote both land, each tenant its config.json', async () => {
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
    const ids = tenants.map((t) => t.tenantId);
    for (const id of ids) expect(readRegistration(clone, id).tenant).toBe(id);
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

/**
 * What Argo CD would do with the repository, checked structurally (no `kustomize build` or Argo CD here): the
 * root Application's path is a kustomization; every kustomization's resources exist, files inside their root
 * (kustomize refuses others), directories with their own kustomization; every file of bootstrap/, of the
 * registration directory and of each tenant tree is reached from its entry point; each tenant's Application
 * points at a kustomize tree (no Chart.yaml, no helm block) in the AppProject's repository, and the AppProject
 * allows every kind the tree holds.
 */
function readYaml(repo: string, path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(join(repo, path), 'utf8')).map((doc) => doc.toJSON() as KubeObject);
}
function filesUnder(repo: string, dir: string): string[] {
  return readdirSync(join(repo, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(repo, join(entry.parentPath, entry.name)));
}
function kustomizeReach(repo: string, dir: string, reached = new Set<string>()): Set<string> {
  const index = posix.join(dir, 'kustomization.yaml');
  if (!existsSync(join(repo, index))) throw new Error(`${dir} has no kustomization.yaml`);
  if (reached.has(index)) return reached;
  reached.add(index);
  const kustomization = parse(readFileSync(join(repo, index), 'utf8')) as { resources?: string[] };
  for (const entry of kustomization.resources ?? []) {
    const target = posix.normalize(posix.join(dir, entry));
    if (target.startsWith('..')) throw new Error(`${index}: ${entry} leaves the repository`);
    if (!existsSync(join(repo, target))) throw new Error(`${index}: ${entry} does not exist`);
    if (statSync(join(repo, target)).isDirectory()) kustomizeReach(repo, target, reached);
    else if (posix.relative(dir, target).startsWith('..'))
      throw new Error(`${index}: ${entry} is outside its root`);
    else reached.add(target);
  }
  return reached;
}
type Source = { repoURL: string; targetRevision: string; path: string; helm?: unknown };
type AppSpec = { project: string; source: Source };
function checkArgoView(repo: string, options: RenderOptions, tenantIds: string[]): void {
  const root = readYaml(repo, 'bootstrap/root-application.yaml')[0];
  const rootSource = (root.spec as AppSpec).source;
  expect(rootSource).toMatchObject({ repoURL: options.gitRepoUrl, targetRevision: options.gitRevision });
  const registration = options.argoMode === 'application' ? 'applications' : 'applicationsets';
  const reached = kustomizeReach(repo, rootSource.path);
  for (const dir of [rootSource.path, registration])
    for (const file of filesUnder(repo, dir))
      expect({ file, reached: reached.has(file) }).toEqual({ file, reached: true });

  const synced = [...reached]
    .filter((path) => !path.endsWith('kustomization.yaml'))
    .flatMap((p) => readYaml(repo, p));
  const projects = synced.filter((object) => object.kind === 'AppProject');
  expect(projects.map((p) => p.metadata.name)).toEqual([options.argoProject]);
  const project = projects[0].spec as {
    sourceRepos: string[];
    clusterResourceWhitelist: { group: string; kind: string }[];
    namespaceResourceWhitelist: { group: string; kind: string }[];
  };
  const allowed = new Set(
    [...project.clusterResourceWhitelist, ...project.namespaceResourceWhitelist].map(
      (e) => `${e.group}/${e.kind}`,
    ),
  );

  // The tenant Applications as Argo CD would hold them: the ApplicationSet's template filled (fasttemplate) with
  // the keys of each file its git files generator matches.
  const tenantApps: { name: string; finalizers: unknown; spec: AppSpec }[] = [];
  for (const object of synced) {
    if (object.kind === 'ApplicationSet') {
      const spec = object.spec as {
        goTemplate?: boolean;
        generators: { git: { repoURL: string; revision: string; files: { path: string }[] } }[];
        template: { metadata: { name: string; finalizers?: string[] }; spec: AppSpec };
      };
      expect(spec.goTemplate).toBeUndefined();
      expect(spec.generators).toHaveLength(1);
      const { git: files } = spec.generators[0];
      expect(files).toMatchObject({ repoURL: options.gitRepoUrl, revision: options.gitRevision });
      expect(files.files).toEqual([{ path: 'tenants/*/config.json' }]);
      const matched = existsSync(join(repo, 'tenants'))
        ? readdirSync(join(repo, 'tenants'))
            .map((dir) => posix.join('tenants', dir, 'config.json'))
            .filter((path) => existsSync(join(repo, path)))
        : [];
      for (const path of matched) {
        const element = JSON.parse(readFileSync(join(repo, path), 'utf8')) as Record<string, string>;
        const fill = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => element[key]);
        const filled = JSON.parse(fill(JSON.stringify(spec.template))) as typeof spec.template;
        tenantApps.push({
          name: filled.metadata.name,
          finalizers: filled.metadata.finalizers,
          spec: filled.spec,
        });
      }
    } else if (object.kind === 'Application' && object.metadata.name !== root.metadata.name) {
      tenantApps.push({
        name: object.metadata.name,
        finalizers: object.metadata.finalizers,
        spec: object.spec as AppSpec,
      });
    }
  }
  expect(tenantApps.map((app) => app.name).sort()).toEqual(tenantIds.map((id) => `tenant-${id}`).sort());
  for (const app of tenantApps) {
    expect(app.finalizers).toEqual(['resources-finalizer.argocd.argoproj.io']);
    expect(app.spec.project).toBe(options.argoProject);
    expect(project.sourceRepos).toContain(app.spec.source.repoURL);
    expect(app.spec.source.helm).toBeUndefined();
    const tree = app.spec.source.path;
    expect(existsSync(join(repo, tree, 'Chart.yaml'))).toBe(false);
    const treeReached = kustomizeReach(repo, tree);
    // Every manifest is listed; the generator's config.json is read by Argo CD, not applied.
    for (const file of filesUnder(repo, tree).filter((path) => path !== posix.join(tree, 'config.json')))
      expect({ file, reached: treeReached.has(file) }).toEqual({ file, reached: true });
    for (const file of treeReached)
      if (!file.endsWith('kustomization.yaml'))
        for (const object of readYaml(repo, file)) {
          const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '';
          expect(`${file}: ${group}/${object.kind} ${allowed.has(`${group}/${object.kind}`)}`).toBe(
            `${file}: ${group}/${object.kind} true`,
          );
        }
  }
}

describe('GitOpsDriver: what Argo CD needs from the repository', () => {
  let remote: string;
  const options: RenderOptions = {
    ...DEFAULT_RENDER_OPTIONS,
    gitRepoUrl: 'git@git.example.com:platform/shop-manifests.git',
    gitRevision: 'main',
    argoProject: 'shops',
  };
  function remoteDriver(name: string, opts: RenderOptions): GitOpsDriver {
    return driver(name, { remote }, opts);
  }
  function cloneRemote(): string {
    const dir = join(base, `check-${randomBytes(3).toString('hex')}`);
    execFileSync('git', ['clone', '-q', remote, dir]);
    return dir;
  }
  const remoteCommits = () => Number(git(remote, 'rev-list', '--count', 'main').trim());
  function register(d: GitOpsDriver, tenant: ReturnType<typeof testTenant>, opts: RenderOptions) {
    return d.applyTenant({
      tenant,
      put: [...namespaceFiles(tenant, opts), ...workloadFiles(tenant, opts), ...ingressFiles(tenant, opts)],
      remove: [],
      application: 'register',
      reason: 'DeployWorkloads',
      correlationId: `boot-${tenant.tenantId}`,
    });
  }
  beforeEach(() => {
    remote = join(base, `remote-${randomBytes(3).toString('hex')}.git`);
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch', 'main', remote]);
  });

  it('ApplicationSet mode: a registration writes bootstrap/ and a tree Argo CD can render; again, no commit', async () => {
    const name = `wc-boot-${randomBytes(2).toString('hex')}`;
    const d = remoteDriver(name, options);
    const first = testTenant(randomBytes(3).toString('hex'), 'premium');
    const second = testTenant(randomBytes(3).toString('hex'));
    await register(d, first, options);
    await register(d, second, options);
    expectWorkingCopyAtTip(join(base, name), remote);
    // Once bootstrap/ and the ApplicationSet exist, a new tenant's commit is its own directory alone.
    expect(lastCommitPaths(remote).filter((path) => !path.startsWith(`tenants/${second.tenantId}/`))).toEqual(
      [],
    );
    expect(lastCommitPaths(remote)).toContain(tenantRegistrationFile(second.tenantId));
    const commits = remoteCommits();
    expect((await register(d, second, options)).changed).toBe(false);
    expect(remoteCommits()).toBe(commits);

    const clone = cloneRemote();
    expect(readYaml(clone, 'bootstrap/app-project.yaml')[0]).toMatchObject({
      kind: 'AppProject',
      metadata: { name: 'shops', namespace: 'argocd' },
      spec: { sourceRepos: ['git@git.example.com:platform/shop-manifests.git'] },
    });
    expect(readYaml(clone, 'bootstrap/root-application.yaml')[0]).toMatchObject({
      kind: 'Application',
      metadata: { name: 'tenant-bootstrap', namespace: 'argocd' },
      spec: { source: { path: 'bootstrap' } },
    });
    checkArgoView(clone, options, [first.tenantId, second.tenantId]);
    // The checker can fail: a file no kustomization lists is caught.
    writeFileSync(join(clone, 'tenants', first.tenantId, 'stray.yaml'), 'kind: ConfigMap\n');
    expect(() => checkArgoView(clone, options, [first.tenantId, second.tenantId])).toThrow(/stray\.yaml/);
  }, 60000);

  it('Application mode: one file per tenant indexed for the root Application; removal re-indexes', async () => {
    const appOptions: RenderOptions = { ...options, argoMode: 'application' };
    const name = `wc-boot-app-${randomBytes(2).toString('hex')}`;
    const d = remoteDriver(name, appOptions);
    const kept = testTenant(randomBytes(3).toString('hex'));
    const removed = testTenant(randomBytes(3).toString('hex'));
    await register(d, kept, appOptions);
    await register(d, removed, appOptions);
    checkArgoView(cloneRemote(), appOptions, [kept.tenantId, removed.tenantId]);
    expectWorkingCopyAtTip(join(base, name), remote);

    await d.removeTenant(removed, { reason: 'RemoveNamespace', correlationId: 'boot-remove' });
    expectWorkingCopyAtTip(join(base, name), remote);
    const clone = cloneRemote();
    expect(existsSync(join(clone, applicationFile(removed.tenantId)))).toBe(false);
    expect(parse(readFileSync(join(clone, 'applications/kustomization.yaml'), 'utf8')).resources).toEqual([
      `tenant-${kept.tenantId}.yaml`,
    ]);
    checkArgoView(clone, appOptions, [kept.tenantId]);
  }, 60000);

  it('a repository written before bootstrap/ existed, with a list ApplicationSet, moves to config files with the next registration', async () => {
    // The earlier layout: an ApplicationSet with a list and the helm source, no bootstrap/, no registration index.
    const seed = join(base, `seed-${randomBytes(3).toString('hex')}`);
    execFileSync('git', ['clone', '-q', remote, seed], { stdio: 'ignore' });
    const old = testTenant(randomBytes(3).toString('hex'));
    const bystander = testTenant(randomBytes(3).toString('hex'), 'business');
    const element = (t: typeof old, tier: string) =>
      `{ tenant: ${t.tenantId}, tier: ${tier}, domain: ${t.domain}, region: us-east }`;
    mkdirSync(join(seed, 'applicationsets'), { recursive: true });
    writeFileSync(
      join(seed, APPLICATION_SET_FILE),
      [
        'apiVersion: argoproj.io/v1alpha1',
        'kind: ApplicationSet',
        'metadata: { name: tenant-applications, namespace: argocd }',
        'spec:',
        '  generators:',
        `    - list: { elements: [${element(old, 'standard')}, ${element(bystander, 'business')}] }`,
        '  template:',
        "    metadata: { name: 'tenant-{{tenant}}' }",
        '    spec:',
        '      project: tenants',
        "      source: { repoURL: 'https://github.com/company/e-commerce-manifests', path: 'tenants/{{tenant}}',",
        "        helm: { parameters: [{ name: tenant.id, value: '{{tenant}}' }] } }",
        '',
      ].join('\n'),
    );
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
      'earlier layout',
    );
    git(seed, 'push', '-q', 'origin', 'main');
    const name = `wc-boot-old-${randomBytes(2).toString('hex')}`;
    const d = remoteDriver(name, options);
    const next = testTenant(randomBytes(3).toString('hex'));
    await register(d, next, options);
    // The other tenants' config files the migration wrote were part of the change (included as it ran).
    expectWorkingCopyAtTip(join(base, name), remote);
    // In the same commit, every listed tenant got its config file: none of their Applications went away.
    const migrated = cloneRemote();
    expect(parse(readFileSync(join(migrated, APPLICATION_SET_FILE), 'utf8')).spec.generators).toEqual([
      { git: { repoURL: options.gitRepoUrl, revision: 'main', files: [{ path: 'tenants/*/config.json' }] } },
    ]);
    expect(readRegistration(migrated, old.tenantId)).toEqual({
      tenant: old.tenantId,
      tier: 'standard',
      domain: old.domain,
      region: 'us-east',
    });
    expect(readRegistration(migrated, bystander.tenantId).tier).toBe('business');
    await d.removeTenant(bystander, { reason: 'RemoveNamespace', correlationId: 'boot-remove' });
    expect(lastCommitPaths(remote)).toEqual([tenantRegistrationFile(bystander.tenantId)]);
    // The earlier tenant's tree, rewritten as its steps re-run.
    await register(d, old, options);
    const clone = cloneRemote();
    expect(existsSync(join(clone, 'bootstrap/kustomization.yaml'))).toBe(true);
    checkArgoView(clone, options, [old.tenantId, next.tenantId]);
  }, 60000);
});
