import type { CommandType, FailureReason } from '@app/contracts';

/**
 * What a drift check verifies and how a drift is repaired: per resource, the verify command the services already
 * run at provisioning, and the idempotent provision command that puts the resource back as provisioned.
 */
export const DRIFT_RESOURCES = [
  { resource: 'databases', verify: 'VerifyDatabases', repair: 'ProvisionDatabases' },
  { resource: 'storage', verify: 'VerifyStorage', repair: 'ProvisionStorage' },
  { resource: 'broker', verify: 'VerifyBroker', repair: 'ProvisionBroker' },
  { resource: 'kubernetes', verify: 'VerifyKubernetes', repair: 'DeployWorkloads' },
] as const satisfies readonly { resource: string; verify: CommandType; repair: CommandType }[];
export type DriftResource = (typeof DRIFT_RESOURCES)[number]['resource'];

export function driftResource(resource: string): (typeof DRIFT_RESOURCES)[number] | undefined {
  return DRIFT_RESOURCES.find((entry) => entry.resource === resource);
}

/**
 * Kinds of drift, a fixed set (a metric label). `safe` kinds are repaired without an operator: re-running the
 * provision command restores them without losing or exposing anything (a permission, a queue or exchange of the
 * declared topology, a bucket policy). The others may hide a deliberate change or lost data: an operator approves.
 */
export const DRIFT_KINDS = {
  'broker-permissions': { safe: true, description: "the broker user's permissions on its vhost" },
  'broker-topology': { safe: true, description: 'an exchange, queue or binding of the declared topology' },
  'storage-bucket-policy': { safe: true, description: 'a bucket policy (public prefix, private objects)' },
  'broker-vhost': { safe: false, description: 'the vhost itself or its default exchanges' },
  'broker-limits': { safe: false, description: "the vhost's limits differ from the tier's" },
  'broker-credentials': { safe: false, description: 'the stored credentials or AMQP access' },
  'database-grants': { safe: false, description: "an account's grants differ from least privilege" },
  'database-limits': { safe: false, description: "an account's connection limit differs from the tier's" },
  'database-schema': { safe: false, description: 'a database is missing or has another character set' },
  'database-credentials': { safe: false, description: 'the stored credentials no longer connect' },
  'storage-bucket': { safe: false, description: 'a bucket is missing or not versioned' },
  'storage-quota': { safe: false, description: "a quota differs from the tier's" },
  'storage-lifecycle': { safe: false, description: "the products bucket's lifecycle rules" },
  'storage-access': { safe: false, description: "the tenant's own keys cannot write or read its buckets" },
  'kubernetes-workloads': { safe: false, description: 'the namespace, workloads or their health' },
  other: { safe: false, description: 'a verification failure this version does not classify' },
} as const satisfies Record<string, { safe: boolean; description: string }>;
export type DriftKind = keyof typeof DRIFT_KINDS;
export const DRIFT_KIND_NAMES = Object.keys(DRIFT_KINDS) as DriftKind[];

export function isDriftKind(value: unknown): value is DriftKind {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DRIFT_KINDS, value);
}

export interface DriftClassification {
  /** The kind that decides the repair: the first one needing an operator, else the first safe one. */
  kind: DriftKind;
  /** Every kind the failed checks show, in the order of the checks. */
  kinds: DriftKind[];
  /** Repaired without an operator: every kind is safe. */
  automatic: boolean;
  /** The verify's failed check names (empty when the failure names none). */
  checks: string[];
}

const FAILED_CHECKS = /failed checks: (.+)$/;
/** Check names as the verify handlers write them: letters, digits and `_ . : / -`. */
const CHECK_NAME = /^[A-Za-z0-9_.:/-]{1,200}$/;

/** The check names of a `<SERVICE>.VERIFICATION_FAILED` message (`failed checks: a, b`). */
export function failedChecks(message: string): string[] {
  const match = FAILED_CHECKS.exec(message);
  if (!match) return [];
  return match[1]
    .split(',')
    .map((name) => name.trim())
    .filter((name) => CHECK_NAME.test(name));
}

function databaseCheckKind(check: string): DriftKind {
  const aspect = check.slice(check.lastIndexOf(':') + 1);
  switch (aspect) {
    case 'grants':
    case 'no-drop':
    case 'foreign-refused':
      return 'database-grants';
    case 'max-connections':
      return 'database-limits';
    case 'exists':
    case 'charset':
      return 'database-schema';
    case 'secret':
    case 'connect':
    case 'own-database':
      return 'database-credentials';
    default:
      return 'other';
  }
}

function brokerCheckKind(check: string): DriftKind {
  if (check === 'user:permissions-own-vhost-only') return 'broker-permissions';
  if (/^(exchange|queue|binding):/.test(check)) return 'broker-topology';
  if (check.startsWith('vhost:limit:')) return 'broker-limits';
  if (check.startsWith('vhost:')) return 'broker-vhost';
  if (check === 'secret:stored' || check.startsWith('amqp:')) return 'broker-credentials';
  return 'other';
}

const STORAGE_CODES: Record<string, DriftKind> = {
  'STORAGE.PUBLIC_READ_BROKEN': 'storage-bucket-policy',
  'STORAGE.PRIVATE_OBJECT_EXPOSED': 'storage-bucket-policy',
  'STORAGE.BUCKET_MISSING': 'storage-bucket',
  'STORAGE.VERSIONING_OFF': 'storage-bucket',
  'STORAGE.QUOTA_MISMATCH': 'storage-quota',
  'STORAGE.LIFECYCLE_MISSING': 'storage-lifecycle',
  'STORAGE.LIFECYCLE_EXPIRES_CURRENT_OBJECTS': 'storage-lifecycle',
  'STORAGE.TENANT_ACCESS_DENIED': 'storage-access',
  'STORAGE.READBACK_MISMATCH': 'storage-access',
};

/**
 * A verify failure's checks as kinds. The broker's AMQP probe publishes through the tenant's topology with its
 * permissions, so its failure next to a topology or permission failure is their consequence, not a credential
 * problem of its own; likewise a database account that cannot use its own database when its grants changed.
 */
function checkKinds(resource: string, error: FailureReason, checks: string[]): DriftKind[] {
  switch (resource) {
    case 'databases': {
      const kinds = checks.map(databaseCheckKind);
      const grants = kinds.includes('database-grants');
      return kinds.filter((_kind, i) => !(grants && checks[i].endsWith(':own-database')));
    }
    case 'broker': {
      const kinds = checks.map(brokerCheckKind);
      const cause = kinds.some((kind) => kind === 'broker-topology' || kind === 'broker-permissions');
      return kinds.filter((_kind, i) => !(cause && checks[i].startsWith('amqp:')));
    }
    case 'storage':
      return [
        STORAGE_CODES[error.code] ?? (error.code.startsWith('STORAGE.SECRET') ? 'storage-access' : 'other'),
      ];
    case 'kubernetes':
      return [error.code.startsWith('K8S.') ? 'kubernetes-workloads' : 'other'];
    default:
      return ['other'];
  }
}

/** The kind of a failed verify command of `resource`, from its failure code and the checks its message names. */
export function classifyDrift(resource: string, error: FailureReason): DriftClassification {
  const checks = failedChecks(error.message);
  const found = checkKinds(resource, error, checks);
  const kinds = [...new Set(found.length > 0 ? found : (['other'] as DriftKind[]))];
  const unsafe = kinds.find((kind) => !DRIFT_KINDS[kind].safe);
  return { kind: unsafe ?? kinds[0], kinds, automatic: unsafe === undefined, checks };
}
