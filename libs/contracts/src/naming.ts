import { createHash } from 'crypto';
import { ContractError } from './errors';

/**
 * Every name derived from a tenant (spec 1.3, DESIGN.md section 7). Each function validates the tenant id
 * first, so a value that slipped past intake validation cannot reach SQL, a URL, a shell or a manifest.
 */

export const BUSINESS_SERVICES = [
  'auth',
  'products',
  'orders',
  'baskets',
  'addresses',
  'deliveries',
  'newsletters',
  'sav',
  'contacts',
  'questions',
  'websites',
] as const;
export type BusinessService = (typeof BUSINESS_SERVICES)[number];

export const BUCKET_KINDS = ['products', 'sav', 'newsletters'] as const;
export type BucketKind = (typeof BUCKET_KINDS)[number];

export const PLATFORM_DOMAIN = 'collectverything.com';
export const ARCHIVE_BUCKET = 'ecommerce-tenant-archives';
export const SLUG_MAX_LENGTH = 20;
export const TENANT_SUFFIX_HEX_LENGTH = 6;
export const MYSQL_USER_MAX_LENGTH = 32;

/** slug (1-20 of [a-z0-9-], no leading/trailing dash) + '-' + 6 lowercase hex digits. At most 27 characters. */
export const TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?-[0-9a-f]{6}$/;
export const TENANT_ID_MAX_LENGTH = SLUG_MAX_LENGTH + 1 + TENANT_SUFFIX_HEX_LENGTH;

/**
 * The company name as a DNS-safe slug: lowercase first (the spec's PHP runs its regex before lowercasing,
 * which would drop capitals; its own example keeps them), strip accents, replace each run of anything else
 * with '-', trim dashes, cut to 20, trim again. Falls back to 'tenant' when nothing usable remains.
 */
export function slugify(companyName: string): string {
  const ascii = companyName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  const slug = ascii
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX_LENGTH)
    .replace(/-+$/g, '');
  return slug.length > 0 ? slug : 'tenant';
}

/** `suffixHex` is 6 lowercase hex digits from a random source chosen by the caller (contracts stay pure). */
export function generateTenantId(companyName: string, suffixHex: string): string {
  if (!/^[0-9a-f]{6}$/.test(suffixHex)) {
    throw new ContractError('NAMING.BAD_SUFFIX', 'tenant id suffix must be 6 lowercase hex digits');
  }
  return `${slugify(companyName)}-${suffixHex}`;
}

export function isTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID_PATTERN.test(value);
}

export function assertTenantId(value: unknown): asserts value is string {
  if (!isTenantId(value)) {
    throw new ContractError(
      'NAMING.INVALID_TENANT_ID',
      `invalid tenant id ${JSON.stringify(String(value).slice(0, 80))}: expected ${TENANT_ID_PATTERN}`,
    );
  }
}

/** The slug part of a tenant id (without its random suffix). */
export function tenantSlug(tenantId: string): string {
  assertTenantId(tenantId);
  return tenantId.slice(0, -(TENANT_SUFFIX_HEX_LENGTH + 1));
}

// Kubernetes
export function namespaceName(tenantId: string): string {
  assertTenantId(tenantId);
  return `e-commerce-${tenantId}`;
}
export function argoApplicationName(tenantId: string): string {
  assertTenantId(tenantId);
  return `tenant-${tenantId}`;
}
export function migrationJobName(tenantId: string): string {
  assertTenantId(tenantId);
  return `tenant-migration-${tenantId}`;
}

// MySQL
function underscored(tenantId: string): string {
  assertTenantId(tenantId);
  return tenantId.replace(/-/g, '_');
}
export function databaseName(tenantId: string, service: BusinessService): string {
  assertService(service);
  return `${underscored(tenantId)}_${service}_db`;
}

/** Two-letter codes, unique per service, for user names that would overflow MySQL's 32 characters. */
const SERVICE_CODES: Record<BusinessService, string> = {
  auth: 'au',
  products: 'pr',
  orders: 'or',
  baskets: 'ba',
  addresses: 'ad',
  deliveries: 'de',
  newsletters: 'ne',
  sav: 'sa',
  contacts: 'co',
  questions: 'qu',
  websites: 'we',
};

/**
 * The spec's `<tenant>_<service>_user` when it fits MySQL 8's 32 characters, else `<tenant>_<code>_u`
 * (at most 27 + 5 = 32). Both forms are injective: the suffixes `_user` and `_u` never overlap and the
 * tenant part is the whole tenant id, so two tenants or two services never share a user.
 */
export function databaseUserName(tenantId: string, service: BusinessService): string {
  assertService(service);
  const spec = `${underscored(tenantId)}_${service}_user`;
  if (spec.length <= MYSQL_USER_MAX_LENGTH) return spec;
  const short = `${underscored(tenantId)}_${SERVICE_CODES[service]}_u`;
  if (short.length > MYSQL_USER_MAX_LENGTH) {
    throw new ContractError('DATABASE.USER_NAME_TOO_LONG', `user name for ${service} exceeds 32 characters`);
  }
  return short;
}

function assertService(service: string): asserts service is BusinessService {
  if (!(BUSINESS_SERVICES as readonly string[]).includes(service)) {
    throw new ContractError('NAMING.UNKNOWN_SERVICE', `unknown business service ${JSON.stringify(service)}`);
  }
}

// Object storage
export function bucketName(tenantId: string, kind: BucketKind): string {
  assertTenantId(tenantId);
  if (!(BUCKET_KINDS as readonly string[]).includes(kind)) {
    throw new ContractError('NAMING.UNKNOWN_BUCKET', `unknown bucket kind ${JSON.stringify(kind)}`);
  }
  return `${tenantId}-${kind}`;
}
export function storageUserName(tenantId: string): string {
  assertTenantId(tenantId);
  return `${tenantId}-app-user`;
}
export function storagePolicyName(tenantId: string): string {
  assertTenantId(tenantId);
  return `${tenantId}-app-policy`;
}
/**
 * A final backup's id, as the resource services accept it in archive keys (the orchestrator derives UUIDs,
 * which match): letters, digits, `_` and `-`, at most 64.
 */
export const BACKUP_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Prefix of the tenant's final backup inside ARCHIVE_BUCKET. */
export function archivePrefix(tenantId: string): string {
  assertTenantId(tenantId);
  return `${tenantId}/`;
}

// RabbitMQ (tenant side, spec phase 5)
export function vhostName(tenantId: string): string {
  assertTenantId(tenantId);
  return tenantId;
}
export function brokerUserName(tenantId: string): string {
  assertTenantId(tenantId);
  return `${tenantId}-app-user`;
}
export function tenantExchangeName(tenantId: string): string {
  assertTenantId(tenantId);
  return `${tenantId}.events`;
}
export const TENANT_QUEUES = [
  { kind: 'auth', routingKey: 'user.*', arguments: { 'x-message-ttl': 86400000, 'x-max-length': 10000 } },
  { kind: 'products', routingKey: 'product.*', arguments: {} },
  { kind: 'orders', routingKey: 'order.*', arguments: {} },
] as const;
export function tenantQueueName(tenantId: string, kind: (typeof TENANT_QUEUES)[number]['kind']): string {
  assertTenantId(tenantId);
  return `${tenantId}.${kind}`;
}

// Web
/** The store's host. Without the random suffix two customers could collide: intake reserves it (`domainStream`). */
export function domainFor(tenantId: string, attempt = 1): string {
  const slug = tenantSlug(tenantId);
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > 999) {
    throw new ContractError('NAMING.BAD_DOMAIN_ATTEMPT', 'domain attempt must be an integer in 1..999');
  }
  return attempt === 1 ? `${slug}.${PLATFORM_DOMAIN}` : `${slug}-${attempt}.${PLATFORM_DOMAIN}`;
}
export function wwwHost(domain: string): string {
  return `www.${domain}`;
}

// Grafana: tenant-scoped so two customers at the same e-mail domain never share a login.
export function grafanaLogin(tenantId: string): string {
  assertTenantId(tenantId);
  return `${tenantId}-admin`;
}
export function grafanaFolderUid(tenantId: string): string {
  assertTenantId(tenantId);
  return `tenant-${tenantId}`;
}

// Secret store paths (spec 3.3); events carry these references, never the values.
export function databaseSecretPath(tenantId: string, service: BusinessService): string {
  assertTenantId(tenantId);
  assertService(service);
  return `/e-commerce/tenants/${tenantId}/${service}-db`;
}
export function storageSecretPath(tenantId: string): string {
  assertTenantId(tenantId);
  return `/e-commerce/tenants/${tenantId}/minio`;
}
export function brokerSecretPath(tenantId: string): string {
  assertTenantId(tenantId);
  return `/e-commerce/tenants/${tenantId}/rabbitmq`;
}
export function grafanaSecretPath(tenantId: string): string {
  assertTenantId(tenantId);
  return `/e-commerce/tenants/${tenantId}/grafana`;
}
/**
 * The tenant admin's first credentials: written with the auth database (its seeder reads them through the
 * `auth-admin-credentials` ExternalSecret), mailed by the welcome e-mail, changed at first login.
 */
export function adminInitialSecretPath(tenantId: string): string {
  return `${tenantSecretPrefix(tenantId)}admin-initial`;
}
/** Keys of the admin-initial secret, as the auth service's seeder reads them from its environment. */
export const ADMIN_INITIAL_SECRET_KEYS = [
  'ADMIN_LOGIN',
  'TEMPORARY_PASSWORD',
  'MUST_CHANGE_AT_FIRST_LOGIN',
] as const;
export function tenantSecretPrefix(tenantId: string): string {
  assertTenantId(tenantId);
  return `/e-commerce/tenants/${tenantId}/`;
}

// Event store streams (CONVENTIONS.md 5)
export const SUBSCRIPTION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export function tenantStream(tenantId: string): string {
  assertTenantId(tenantId);
  return `tenant-${tenantId}`;
}
export const TENANT_STREAM_CATEGORY = 'tenant';
export function tenantIdFromStream(stream: string): string {
  const id = stream.startsWith('tenant-') ? stream.slice('tenant-'.length) : '';
  assertTenantId(id);
  return id;
}
export function subscriptionStream(subscriptionId: string): string {
  if (!SUBSCRIPTION_ID_PATTERN.test(subscriptionId)) {
    throw new ContractError(
      'NAMING.INVALID_SUBSCRIPTION_ID',
      'subscription id must match [A-Za-z0-9_-]{1,64}',
    );
  }
  return `subscription-${subscriptionId}`;
}
export function domainStream(host: string): string {
  if (!/^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})+$/.test(host)) {
    throw new ContractError('NAMING.INVALID_DOMAIN', 'domain must be a lowercase DNS name');
  }
  return `domain-${host}`;
}
/** Customers are keyed by a hash of their e-mail so the stream name carries no personal data. */
export function customerStream(email: string): string {
  return `customer-${createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32)}`;
}
/**
 * The global stream of the purge guardrails (cap per hour, mass-cancellation breaker). Outside the `tenant`
 * category on purpose: it belongs to no tenant and the orchestrator's tenant subscription must not see it.
 */
export const PURGE_GUARDRAIL_STREAM = 'guardrail-purges';
export function purgeGuardrailStream(): string {
  return PURGE_GUARDRAIL_STREAM;
}
/** The orchestrator's subscription checkpoint lives in this stream's metadata (the stream holds no events). */
export const ORCHESTRATOR_CHECKPOINT_STREAM = 'orchestrator-checkpoint';
/** Compacted states of the guardrail stream (`GuardrailSnapshotData`), newest last; a category of its own. */
export const PURGE_GUARDRAIL_SNAPSHOT_STREAM = 'guardrailsnapshot-purges';
export function purgeGuardrailSnapshotStream(): string {
  return PURGE_GUARDRAIL_SNAPSHOT_STREAM;
}
