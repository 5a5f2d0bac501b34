import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { APPLICATION_SET_FILE, tenantRegistrationFile } from './gitops-migration';
import { EXIT, run } from './tenantctl';

/**
 * Against a real bare repository. The expected ApplicationSet and config file are the k8s-service's own rendering
 * (its golden file, read as text: an app never imports another), so a migrated repository is byte for byte what
 * the k8s-service writes and its next registration changes nothing but the new tenant's directory.
 */
const GOLDEN = join(__dirname, '../../../libs/plans/src/k8s/__golden__/standard.yaml');
function goldenSection(path: string): string {
  const marker = `# ${path}\n`;
  const text = readFileSync(GOLDEN, 'utf8');
  const start = text.indexOf(marker);
  if (start < 0) throw new Error(`${path} is not in ${GOLDEN}`);
  const end = text.indexOf('\n---\n# ', start);
  return text.slice(start + marker.length, end < 0 ? undefined : end + 1);
}
const GOLDEN_SET = goldenSection(APPLICATION_SET_FILE);
const GOLDEN_TENANT = 'abc-corporation-7f3a9c';
const GOLDEN_CONFIG = goldenSection(tenantRegistrationFile(GOLDEN_TENANT));

let base: string;
let remote: string;
let seed: string;
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  GITOPS_REMOTE: remote,
  GITOPS_WORKDIR: join(base, 'tenantctl-wc'),
  LOG_LEVEL: 'silent',
  ...extra,
});

async function tenantctl(argv: string[], environment: NodeJS.ProcessEnv = env()) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: environment,
  });
  return { code, stdout, stderr };
}
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' });
}
const commits = () => Number(git(remote, 'rev-list', '--count', 'main').trim());
const lastPaths = () => git(remote, 'diff', '--name-only', 'main~1', 'main').trim().split('\n').sort();
const show = (path: string) => git(remote, 'show', `main:${path}`);

/** The list layout as the k8s-service wrote it: the golden ApplicationSet with a list generator instead. */
function listLayout(elements: Record<string, string>[]): string {
  const document = parse(GOLDEN_SET) as { spec: { generators: unknown[] } };
  document.spec.generators = [{ list: { elements } }];
  return stringify(document, { lineWidth: 0 });
}
const element = (tenant: string, tier = 'standard') => ({
  tenant,
  tier,
  domain: `${tenant.split('-')[0]}.collectverything.com`,
  region: 'us-east',
});

function seedCommit(files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(seed, path, '..'), { recursive: true });
    writeFileSync(join(seed, path), content);
  }
  git(seed, 'add', '-A');
  git(seed, '-c', 'user.name=seed', '-c', 'user.email=seed@example.com', 'commit', '-q', '-m', 'list layout');
  git(seed, 'push', '-q', 'origin', 'main');
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tenantctl-gitops-'));
  remote = join(base, 'manifests.git');
  seed = join(base, 'seed');
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch', 'main', remote]);
  execFileSync('git', ['clone', '-q', remote, seed], { stdio: 'ignore' });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('tenantctl gitops migrate (real git repository)', () => {
  const other = `zz-other-${randomBytes(3).toString('hex')}`;
  const newer = `mm-newer-${randomBytes(3).toString('hex')}`;
  const golden = {
    tenant: GOLDEN_TENANT,
    tier: 'standard',
    domain: 'abc-corporation.collectverything.com',
    region: 'us-east',
  };

  it('list layout: every tenant its config.json and the git files ApplicationSet, in one commit; again, nothing', async () => {
    const newerConfig = `${JSON.stringify({ ...element(newer, 'business') }, null, 2)}\n`;
    seedCommit({
      [APPLICATION_SET_FILE]: listLayout([golden, element(other, 'premium'), element(newer)]),
      [`tenants/${GOLDEN_TENANT}/namespace.yaml`]: 'kind: Namespace\n',
      // Written after the list was (a later registration): newer than the list's element, so kept.
      [tenantRegistrationFile(newer)]: newerConfig,
    });
    const before = commits();

    const first = await tenantctl(['gitops', 'migrate']);
    expect(first.stderr).toBe(
      'migrate: 3 tenants in the list ApplicationSet, 2 config files to write\nmigrate: 2/2\n',
    );
    expect(first.code).toBe(EXIT.OK);
    expect(first.stdout).toMatch(
      /^migrated 3 tenants: 2 config files written, 1 kept; the ApplicationSet reads tenants\/\*\/config\.json \(commit [0-9a-f]{40}\)\n$/,
    );
    expect(commits()).toBe(before + 1);
    expect(lastPaths()).toEqual(
      [APPLICATION_SET_FILE, tenantRegistrationFile(GOLDEN_TENANT), tenantRegistrationFile(other)].sort(),
    );
    // Byte for byte what the k8s-service renders.
    expect(show(APPLICATION_SET_FILE)).toBe(GOLDEN_SET);
    expect(show(tenantRegistrationFile(GOLDEN_TENANT))).toBe(GOLDEN_CONFIG);
    expect(JSON.parse(show(tenantRegistrationFile(other)))).toEqual(element(other, 'premium'));
    expect(show(tenantRegistrationFile(newer))).toBe(newerConfig);
    expect(git(remote, 'log', '-1', '--format=%an %s', 'main')).toBe(
      'provisioning-tenantctl MigrateArgoRegistration tenant fleet\n',
    );

    const again = await tenantctl(['gitops', 'migrate']);
    expect(again).toEqual({
      code: EXIT.OK,
      stdout: 'nothing to migrate: the ApplicationSet already reads tenants/*/config.json\n',
      stderr: '',
    });
    expect(commits()).toBe(before + 1);
  });

  it('--dry-run lists what it would write and commits nothing', async () => {
    seedCommit({ [APPLICATION_SET_FILE]: listLayout([golden, element(other)]) });
    const before = commits();
    const dry = await tenantctl(['gitops', 'migrate', '--dry-run']);
    expect(dry.code).toBe(EXIT.OK);
    expect(dry.stderr).toBe(
      [
        'migrate: 2 tenants in the list ApplicationSet, 2 config files to write',
        `migrate: would write ${tenantRegistrationFile(GOLDEN_TENANT)}`,
        `migrate: would write ${tenantRegistrationFile(other)}`,
        '',
      ].join('\n'),
    );
    expect(dry.stdout).toBe(
      'dry run, nothing committed: 2 tenants: 2 config files to write, 0 kept; the ApplicationSet would read tenants/*/config.json\n',
    );
    expect(commits()).toBe(before);
    expect(show(APPLICATION_SET_FILE)).toContain('list:');
  });

  it('a repository without the ApplicationSet (Application mode) is left alone', async () => {
    seedCommit({ 'applications/kustomization.yaml': 'resources: []\n' });
    const before = commits();
    const result = await tenantctl(['gitops', 'migrate']);
    expect(result.code).toBe(EXIT.OK);
    expect(result.stdout).toMatch(/^nothing to migrate: the repository has no applicationsets/);
    expect(commits()).toBe(before);
  });

  it('refuses a list element that is no tenant (a path outside tenants/), changing nothing', async () => {
    seedCommit({ [APPLICATION_SET_FILE]: listLayout([golden, { ...element(other), tenant: '../../etc' }]) });
    const before = commits();
    const result = await tenantctl(['gitops', 'migrate']);
    expect(result.code).toBe(EXIT.ERROR);
    expect(result.stderr).toContain('element 1 has no valid tenant id');
    expect(commits()).toBe(before);
    expect(existsSync(join(base, 'etc'))).toBe(false);
  });

  it('needs GITOPS_REMOTE', async () => {
    const result = await tenantctl(['gitops', 'migrate'], { LOG_LEVEL: 'silent' });
    expect(result.code).toBe(EXIT.USAGE);
    expect(result.stderr).toContain('GITOPS_REMOTE is required');
  });
});
