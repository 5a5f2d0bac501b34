import { execFileSync } from 'node:child_process';
import {
  adminInitialSecretPath,
  BUCKET_KINDS,
  BUSINESS_SERVICES,
  brokerUserName,
  bucketName,
  databaseName,
  databaseSecretPath,
  databaseUserName,
  grafanaFolderUid,
  grafanaLogin,
  grafanaSecretPath,
  brokerSecretPath,
  storageSecretPath,
  storageUserName,
  tenantSecretPrefix,
  vhostName,
} from '@app/contracts';
import { loadConfig } from '@app/platform';
import { EncryptedPostgresSecretStore, parseSecretStoreKey } from '@app/secrets';
import type { Connection } from 'mysql2/promise';
import { APPLICATION_SET_FILE, applicationFile, tenantRegistrationFile } from '../../apps/k8s-service/src';
import { dashboardUid } from '../../apps/monitoring-service/src';
import { SignedHttpClient } from '../../apps/storage-service/src';
import { configSchema as storageConfigSchema } from '../../apps/storage-service/src/config';
import type { LocalStack } from './local-stack';

/**
 * What a tenant has on the real servers and in the stack's stand-ins, read back from each of them: MariaDB
 * databases and users; the RabbitMQ vhost, the tenant's broker user and its permissions; the S3 buckets, the
 * RGW user and every policy naming it; the secrets under the tenant's prefix in the encrypted secret store; the
 * Grafana viewer with its folder and dashboard; the website record; and, in the GitOps repository, the tenant's
 * tree and its Argo CD registration. End-to-end suites compare it with `everything()` after provisioning and
 * with `NOTHING` after a rollback or a purge.
 */
export interface TenantFootprint {
  databases: number;
  dbUsers: number;
  vhost: boolean;
  brokerUser: boolean;
  /** Vhosts (and `topic:<vhost>/<exchange>`) the tenant's broker user holds permissions on. */
  brokerPermissions: string[];
  buckets: string[];
  storageUser: boolean;
  /** `bucket:<name>` per tenant bucket with a bucket policy, `user:<attr>` per identity policy of its RGW user. */
  storagePolicies: string[];
  /** Secret store paths under `/e-commerce/tenants/<tenantId>/`, sorted. */
  secrets: string[];
  /** `user:<login>`, `folder:<uid>`, `dashboard:<uid>` of the tenant in the Grafana stand-in, sorted. */
  grafana: string[];
  websiteRecords: number;
  /** The tenant's config.json (ApplicationSet mode) or Application file in the GitOps repository. */
  argoRegistration: boolean;
  manifests: number;
}

export const NOTHING: TenantFootprint = {
  databases: 0,
  dbUsers: 0,
  vhost: false,
  brokerUser: false,
  brokerPermissions: [],
  buckets: [],
  storageUser: false,
  storagePolicies: [],
  secrets: [],
  grafana: [],
  websiteRecords: 0,
  argoRegistration: false,
  manifests: 0,
};

/** An active tenant (welcome e-mail sent, Grafana viewer created). `expect.any(Number)` fits `manifests`. */
export function everything(tenantId: string, manifests: unknown): Record<keyof TenantFootprint, unknown> {
  return {
    databases: BUSINESS_SERVICES.length,
    dbUsers: BUSINESS_SERVICES.length,
    vhost: true,
    brokerUser: true,
    brokerPermissions: [vhostName(tenantId)],
    buckets: BUCKET_KINDS.map((kind) => bucketName(tenantId, kind)),
    storageUser: true,
    storagePolicies: BUCKET_KINDS.map((kind) => `bucket:${bucketName(tenantId, kind)}`),
    secrets: [
      ...BUSINESS_SERVICES.map((service) => databaseSecretPath(tenantId, service)),
      adminInitialSecretPath(tenantId),
      brokerSecretPath(tenantId),
      grafanaSecretPath(tenantId),
      storageSecretPath(tenantId),
    ].sort(byCodePoint),
    grafana: [
      `dashboard:${dashboardUid(tenantId, 'folder')}`,
      `folder:${grafanaFolderUid(tenantId)}`,
      `user:${grafanaLogin(tenantId)}`,
    ],
    websiteRecords: 1,
    argoRegistration: true,
    manifests,
  };
}

const RABBIT = 'http://127.0.0.1:15672/api';
const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function rabbit<T>(path: string): Promise<{ status: number; body?: T }> {
  const response = await fetch(`${RABBIT}${path}`, { headers: { authorization: GUEST } });
  if (response.status === 404) return { status: 404 };
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return { status: response.status, body: (await response.json()) as T };
}

async function brokerFootprint(tenantId: string) {
  const user = brokerUserName(tenantId);
  const vhost = await rabbit(`/vhosts/${encodeURIComponent(vhostName(tenantId))}`);
  const found = await rabbit(`/users/${encodeURIComponent(user)}`);
  // The server-wide lists, not the user's own: they also show permissions a deleted user left behind.
  const permissions = (await rabbit<{ user: string; vhost: string }[]>('/permissions')).body ?? [];
  const topics =
    (await rabbit<{ user: string; vhost: string; exchange: string }[]>('/topic-permissions')).body ?? [];
  return {
    vhost: vhost.status === 200,
    brokerUser: found.status === 200,
    brokerPermissions: [
      ...permissions.filter((p) => p.user === user).map((p) => p.vhost),
      ...topics.filter((p) => p.user === user).map((p) => `topic:${p.vhost}/${p.exchange}`),
    ].sort(byCodePoint),
  };
}

async function storageFootprint(tenantId: string, stack: LocalStack) {
  const env = stack.envs.get('storage-service');
  if (!env) throw new Error('storage-service has no environment: was the stack started?');
  const config = loadConfig(storageConfigSchema, env);
  const admin = new SignedHttpClient({
    endpoint: config.S3_ENDPOINT,
    region: config.S3_REGION,
    credentials: { accessKey: config.S3_ADMIN_ACCESS_KEY, secretKey: config.S3_ADMIN_SECRET_KEY },
  });
  const buckets: string[] = [];
  const storagePolicies: string[] = [];
  for (const kind of BUCKET_KINDS) {
    const bucket = bucketName(tenantId, kind);
    const head = await admin.send('HEAD', `/${bucket}`, []);
    if (head.status === 404) continue;
    buckets.push(bucket);
    const policy = await admin.send('GET', `/${bucket}`, [['policy', '']]);
    if (policy.status === 200) storagePolicies.push(`bucket:${bucket}`);
    else if (policy.status !== 404) throw new Error(`GET ${bucket}?policy: ${policy.status}`);
  }
  // RGW keeps a user's identity policies as attributes of its metadata entry (`user.rgw.user-policy`, ...).
  const user = await admin.send('GET', '/admin/metadata/user', [
    ['key', storageUserName(tenantId)],
    ['format', 'json'],
  ]);
  if (user.status !== 200 && user.status !== 404) throw new Error(`RGW user metadata: ${user.status}`);
  if (user.status === 200) {
    const attrs =
      (JSON.parse(user.body.toString('utf8')) as { data?: { attrs?: { key: string }[] } }).data?.attrs ?? [];
    storagePolicies.push(...attrs.filter((a) => /polic/i.test(a.key)).map((a) => `user:${a.key}`));
  }
  return { buckets, storageUser: user.status === 200, storagePolicies };
}

async function secretsOf(tenantId: string, stack: LocalStack): Promise<string[]> {
  const store = new EncryptedPostgresSecretStore({
    connectionString: stack.pgUrl,
    schema: `${stack.options.schemaPrefix}_secrets`,
    key: parseSecretStoreKey(stack.secretStoreKey),
  });
  try {
    return (await store.list(tenantSecretPrefix(tenantId))).sort(byCodePoint);
  } finally {
    await store.close();
  }
}

function git(stack: LocalStack, args: string[]): string {
  return execFileSync('git', ['--git-dir', stack.gitRemote, ...args], { encoding: 'utf8' });
}

function gitopsFootprint(tenantId: string, stack: LocalStack) {
  const files = git(stack, ['ls-tree', '-r', '--name-only', 'main']).split('\n');
  let registered = files.includes(applicationFile(tenantId));
  // ApplicationSet mode: the git files generator makes the tenant's Application from its config.json.
  if (files.includes(APPLICATION_SET_FILE) && files.includes(tenantRegistrationFile(tenantId))) {
    const config = JSON.parse(git(stack, ['show', `main:${tenantRegistrationFile(tenantId)}`])) as {
      tenant?: string;
    };
    registered ||= config.tenant === tenantId;
  }
  return {
    argoRegistration: registered,
    manifests: files.filter((path) => path.startsWith(`tenants/${tenantId}/`)).length,
  };
}

function grafanaOf(tenantId: string, stack: LocalStack): string[] {
  const login = grafanaLogin(tenantId);
  const folder = grafanaFolderUid(tenantId);
  return [
    ...[...stack.grafana.users.values()].filter((u) => u.login === login).map((u) => `user:${u.login}`),
    ...[...stack.grafana.folders.keys()].filter((uid) => uid === folder).map((uid) => `folder:${uid}`),
    ...[...stack.grafana.dashboards.values()]
      .filter((d) => d.folderUid === folder || d.uid === dashboardUid(tenantId, 'folder'))
      .map((d) => `dashboard:${d.uid}`),
  ].sort(byCodePoint);
}

export async function tenantFootprint(
  tenantId: string,
  servers: { mysql: Connection; stack: LocalStack },
): Promise<TenantFootprint> {
  const { mysql, stack } = servers;
  const [dbs] = await mysql.query('SHOW DATABASES');
  const databases = (dbs as Record<string, string>[])
    .map((row) => Object.values(row)[0])
    .filter((name) => BUSINESS_SERVICES.some((s) => name === databaseName(tenantId, s)));
  const [users] = await mysql.query('SELECT User FROM mysql.user');
  const dbUsers = (users as { User: string }[])
    .map((u) => u.User)
    .filter((name) => BUSINESS_SERVICES.some((s) => name === databaseUserName(tenantId, s)));
  const broker = await brokerFootprint(tenantId);
  const storage = await storageFootprint(tenantId, stack);
  const gitops = gitopsFootprint(tenantId, stack);
  return {
    databases: databases.length,
    dbUsers: dbUsers.length,
    vhost: broker.vhost,
    brokerUser: broker.brokerUser,
    brokerPermissions: broker.brokerPermissions,
    buckets: storage.buckets,
    storageUser: storage.storageUser,
    storagePolicies: storage.storagePolicies,
    secrets: await secretsOf(tenantId, stack),
    grafana: grafanaOf(tenantId, stack),
    websiteRecords: [...stack.websites.records.values()].filter((r) => r.tenant_id === tenantId).length,
    argoRegistration: gitops.argoRegistration,
    manifests: gitops.manifests,
  };
}
