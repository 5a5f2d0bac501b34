/**
 * The naming rules of every metric the control plane's processes serve (Prometheus's naming guide): the
 * application prefix, base units, `_total` on counters and only on them, and labels whose values come from fixed
 * sets, whatever the number of tenants. Shared by the registry check (test/deploy/metric-names.spec.ts) and the
 * end-to-end scrape of the running apps (test/e2e/lifecycle.e2e-spec.ts).
 */

/** The application prefix of every metric the control plane serves (deploy/base/monitoring queries these). */
export const METRIC_PREFIX = 'provisioning_';

/** Label names and where their values come from: each a fixed set, whatever the number of tenants. */
export const BOUNDED_LABELS: Record<string, string> = {
  app: 'the process (one of the eight apps)',
  subscription: 'event store subscriptions, named by the code',
  queue: "the consuming queues (a service's, the API intake's)",
  reason: 'park reasons (ParkReason)',
  command: 'COMMAND_CATALOG',
  outcome: 'fixed outcome names',
  step: 'step kinds (stepLabel: step keys without their sequence numbers)',
  state: 'tenant statuses',
  type: "Node's libuv handle and resource types",
  space: "V8's heap spaces",
  kind: "V8's garbage collection kinds; drift kinds (DRIFT_KINDS)",
  version: 'the Node.js version',
  major: 'the Node.js version',
  minor: 'the Node.js version',
  patch: 'the Node.js version',
  le: 'histogram buckets',
};
/** Units that are not base units, as name tokens. */
const NON_BASE_UNITS = new Set([
  'ms',
  'milliseconds',
  'us',
  'microseconds',
  'ns',
  'nanoseconds',
  'minutes',
  'hours',
  'days',
  'kb',
  'kilobytes',
  'mb',
  'megabytes',
  'gb',
  'gigabytes',
  'kib',
  'mib',
  'gib',
  'percent',
  'bits',
]);
/** Name tokens that say a quantity has a unit, and that unit's base form. */
const TIME_WORDS = new Set(['duration', 'latency', 'age', 'lag', 'delay', 'time', 'timeout', 'elapsed']);
const SIZE_WORDS = new Set(['memory', 'heap', 'size']);

/** Each way `name` (of Prometheus type `type`: counter, gauge, histogram, summary) breaks the rules. */
export function nameProblems(name: string, type: string): string[] {
  const problems: string[] = [];
  const tokens = name.split('_');
  if (!name.startsWith(METRIC_PREFIX)) problems.push(`${name}: no ${METRIC_PREFIX} prefix`);
  if (!/^[a-z][a-z0-9_]*$/.test(name)) problems.push(`${name}: not snake_case`);
  for (const token of tokens.filter((t) => NON_BASE_UNITS.has(t))) {
    problems.push(`${name}: ${token} is not a base unit (seconds, bytes)`);
  }
  const unitPart = name.replace(/_(total|info)$/, '');
  if (tokens.some((t) => TIME_WORDS.has(t)) && !unitPart.endsWith('_seconds')) {
    problems.push(`${name}: a time must be in _seconds`);
  }
  if (tokens.some((t) => SIZE_WORDS.has(t)) && !unitPart.endsWith('_bytes')) {
    problems.push(`${name}: a size must be in _bytes`);
  }
  if (type === 'counter' && !name.endsWith('_total')) problems.push(`${name}: a counter must end in _total`);
  if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: only counters end in _total`);
  return problems;
}

/** One metric family of a text exposition: its name, type and each sample's labels. */
export interface ScrapedFamily {
  name: string;
  type: string;
  samples: Record<string, string>[];
}

/** A sample line: its name, its labels (in braces, values quoted with `\\`, `\"` and `\n` escapes), its value. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
/** Series a histogram or summary family writes under its name. */
const FAMILY_SUFFIXES = ['_bucket', '_sum', '_count', '_created'];

/**
 * The Prometheus text exposition format (version 0.0.4), read into families. Hand-written: the one parser on
 * the registry, parse-prometheus-text-format 1.1.1, drops the labels (and sums, counts) of labelled histograms
 * and summaries, the very series whose labels this check is about. Throws on a line it cannot read, so a
 * malformed answer fails the check instead of passing it unread.
 */
export function parseExposition(text: string): ScrapedFamily[] {
  const families = new Map<string, ScrapedFamily>();
  const familyOf = (sample: string): ScrapedFamily => {
    const own = families.get(sample);
    if (own) return own;
    for (const suffix of FAMILY_SUFFIXES) {
      const family = sample.endsWith(suffix) ? families.get(sample.slice(0, -suffix.length)) : undefined;
      if (family && family.type !== 'counter' && family.type !== 'gauge') return family;
    }
    const untyped = { name: sample, type: 'untyped', samples: [] };
    families.set(sample, untyped);
    return untyped;
  };
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      families.set(type[1], { name: type[1], type: type[2], samples: [] });
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a sample line of the text exposition format: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, raw] of (sample[2] ?? '').matchAll(LABEL)) {
      labels[name] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    familyOf(sample[1]).samples.push(labels);
  }
  return [...families.values()];
}

/**
 * What breaks the rules in one app's `/metrics` answer: names, labels outside the bounded sets, and any label
 * value naming one of `tenantIds` (per-tenant detail belongs in the events and the read model).
 */
export function expositionProblems(app: string, text: string, tenantIds: readonly string[]): string[] {
  const problems: string[] = [];
  for (const family of parseExposition(text)) {
    problems.push(...nameProblems(family.name, family.type).map((p) => `${app}: ${p}`));
    for (const labels of family.samples) {
      for (const [label, value] of Object.entries(labels)) {
        if (!(label in BOUNDED_LABELS))
          problems.push(`${app}: ${family.name}: label ${label} has no bounded set`);
        const tenant = tenantIds.find((tenantId) => value.includes(tenantId));
        if (tenant) problems.push(`${app}: ${family.name}{${label}="${value}"} names tenant ${tenant}`);
      }
    }
  }
  return [...new Set(problems)];
}
