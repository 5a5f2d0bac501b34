import { isTenantId, SUBSCRIPTION_ID_PATTERN, TIERS, type Tier, type Violation } from '@app/contracts';

/** One of billing's active subscriptions, as the comparison uses it. */
export interface BillingSubscription {
  subscriptionId: string;
  tier: Tier;
  /** The tenant billing believes holds the subscription, when its export says so. */
  tenantId?: string;
}

/** A list longer than this is refused rather than compared (a runaway export, not a customer base). */
export const MAX_SUBSCRIPTIONS = 100_000;
/** Past this many, the remaining violations are summed up in one line. */
const MAX_REPORTED_VIOLATIONS = 50;
const FIELDS = ['subscription_id', 'tier', 'tenant_id'] as const;
const REQUIRED: readonly string[] = ['subscription_id', 'tier'];

export class SubscriptionListError extends Error {
  constructor(
    message: string,
    readonly violations: Violation[],
  ) {
    super(message);
    this.name = 'SubscriptionListError';
  }
}

/** A value shown in an error: short, quoted, whatever the input held. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function check(record: Record<string, unknown>, label: string, field: string): Violation[] {
  const bad = (rule: string, message: string): Violation[] => [
    { field, rules: [rule], messages: [`${label}: ${message}`] },
  ];
  const violations: Violation[] = [];
  for (const key of Object.keys(record)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      violations.push(
        ...bad('whitelist', `unknown field ${shown(key)} (expected ${FIELDS.join(', ')})`).map((v) => ({
          ...v,
          field: `${field}.${key}`,
        })),
      );
    }
  }
  const id = record['subscription_id'];
  if (typeof id !== 'string' || !SUBSCRIPTION_ID_PATTERN.test(id)) {
    violations.push(
      ...bad('matches', `subscription_id must be 1-64 of letters, digits, _ and - (got ${shown(id)})`).map(
        (v) => ({ ...v, field: `${field}.subscription_id` }),
      ),
    );
  }
  const tier = record['tier'];
  if (typeof tier !== 'string' || !(TIERS as readonly string[]).includes(tier)) {
    violations.push(
      ...bad('isIn', `tier must be one of ${TIERS.join(', ')} (got ${shown(tier)})`).map((v) => ({
        ...v,
        field: `${field}.tier`,
      })),
    );
  }
  const tenantId = record['tenant_id'];
  if (tenantId !== undefined && !isTenantId(tenantId)) {
    violations.push(
      ...bad('matches', `tenant_id must look like abc-corporation-7f3a9c (got ${shown(tenantId)})`).map(
        (v) => ({ ...v, field: `${field}.tenant_id` }),
      ),
    );
  }
  return violations;
}

/** Every record checked, duplicates refused, all violations reported at once (the first 50 in full). */
function validated(
  records: { value: unknown; label: string; field: string; problem?: string }[],
): BillingSubscription[] {
  if (records.length > MAX_SUBSCRIPTIONS) {
    throw new SubscriptionListError(`subscription list too long`, [
      {
        field: 'subscriptions',
        rules: ['maxSize'],
        messages: [`at most ${MAX_SUBSCRIPTIONS} subscriptions (got ${records.length})`],
      },
    ]);
  }
  const violations: Violation[] = [];
  const list: BillingSubscription[] = [];
  const seen = new Map<string, string>();
  for (const { value, label, field, problem } of records) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const message = problem ?? 'must be an object';
      violations.push({ field, rules: ['isObject'], messages: [`${label}: ${message}`] });
      continue;
    }
    const record = value as Record<string, unknown>;
    const own = check(record, label, field);
    violations.push(...own);
    if (own.length > 0) continue;
    const subscriptionId = record['subscription_id'] as string;
    const earlier = seen.get(subscriptionId);
    if (earlier) {
      violations.push({
        field: `${field}.subscription_id`,
        rules: ['unique'],
        messages: [`${label}: subscription ${subscriptionId} is listed twice (also ${earlier})`],
      });
      continue;
    }
    seen.set(subscriptionId, label);
    const tenantId = record['tenant_id'] as string | undefined;
    list.push({ subscriptionId, tier: record['tier'] as Tier, ...(tenantId ? { tenantId } : {}) });
  }
  if (violations.length > MAX_REPORTED_VIOLATIONS) {
    const more = violations.length - MAX_REPORTED_VIOLATIONS;
    violations.splice(MAX_REPORTED_VIOLATIONS, more, {
      field: 'subscriptions',
      rules: ['truncated'],
      messages: [`and ${more} more violations`],
    });
  }
  if (violations.length > 0) throw new SubscriptionListError('invalid subscription list', violations);
  return list;
}

/** Billing's list as JSON: an array of `{ subscription_id, tier, tenant_id? }`, or `{ subscriptions: [...] }`. */
export function parseSubscriptionList(json: unknown): BillingSubscription[] {
  const array =
    json !== null && typeof json === 'object' && !Array.isArray(json)
      ? (json as Record<string, unknown>)['subscriptions']
      : json;
  if (!Array.isArray(array)) {
    throw new SubscriptionListError('invalid subscription list', [
      {
        field: 'subscriptions',
        rules: ['isArray'],
        messages: ['expected an array of subscriptions or an object with a "subscriptions" array'],
      },
    ]);
  }
  return validated(
    array.map((value, index) => ({
      value,
      label: `subscription #${index + 1}`,
      field: `subscriptions[${index}]`,
    })),
  );
}

/** A field as written, its surrounding double quotes removed (the values allowed contain no comma or quote). */
function csvCell(cell: string): string {
  const trimmed = cell.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')
    ? trimmed.slice(1, -1)
    : trimmed;
}

/** Billing's list as CSV with a header naming `subscription_id`, `tier` and optionally `tenant_id`. */
export function parseSubscriptionCsv(text: string): BillingSubscription[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim() !== '');
  const header = lines.shift();
  const columns = header ? header.line.split(',').map(csvCell) : [];
  const headerViolations: Violation[] = [
    ...REQUIRED.filter((name) => !columns.includes(name)).map((name) => `missing column ${name}`),
    ...columns
      .filter((name) => !(FIELDS as readonly string[]).includes(name))
      .map((n) => `unknown column ${shown(n)}`),
    ...columns.filter((name, i) => columns.indexOf(name) !== i).map((name) => `column ${name} appears twice`),
  ].map((message) => ({
    field: 'header',
    rules: ['columns'],
    messages: [`line ${header?.number ?? 1}: ${message} (expected ${FIELDS.join(', ')})`],
  }));
  if (headerViolations.length > 0) {
    throw new SubscriptionListError('invalid subscription list', headerViolations);
  }
  return validated(
    lines.map(({ line, number }) => {
      const cells = line.split(',').map(csvCell);
      const label = `line ${number}`;
      if (cells.length !== columns.length) {
        const problem = `${cells.length} fields, expected ${columns.length}`;
        return { value: null, label, field: label, problem };
      }
      const record: Record<string, string> = {};
      columns.forEach((name, i) => {
        // An empty optional cell means the column says nothing for this record.
        if (cells[i] !== '' || REQUIRED.includes(name)) record[name] = cells[i];
      });
      return { value: record, label, field: label };
    }),
  );
}
