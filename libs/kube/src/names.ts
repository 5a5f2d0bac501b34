/**
 * Name rules the API server enforces and the OpenAPI schemas do not (DESIGN.md section 6: `Bad_Name` passes
 * the `kubernetes-models` validators). Sources: k8s.io/apimachinery/pkg/util/validation.
 */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL_MAX = 63;
export const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS1123_SUBDOMAIN_MAX = 253;
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
export const LABEL_VALUE_MAX = 63;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export function isDns1123Label(value: string): boolean {
  return value.length <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(value);
}
export function isDns1035Label(value: string): boolean {
  return value.length <= DNS1123_LABEL_MAX && DNS1035_LABEL.test(value);
}
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= DNS1123_SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.test(value);
}
export function isLabelValue(value: string): boolean {
  return value.length <= LABEL_VALUE_MAX && LABEL_VALUE.test(value);
}
/** Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name a 63-character qualified name. */
export function isQualifiedKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  if (parts.length === 2 && !isDns1123Subdomain(parts[0])) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

/** Kinds whose names the API server checks as a DNS-1123 label rather than a subdomain. */
const LABEL_NAMED_KINDS = new Set(['Namespace']);
/** Kinds whose names must be DNS-1035 labels (they become DNS names inside the cluster). */
const DNS1035_NAMED_KINDS = new Set(['Service']);
/** Kinds whose name is copied into a label value by their controller (Job → `job-name`), so 63 at most. */
const LABEL_VALUE_NAMED_KINDS = new Set(['Job']);

interface MetaLike {
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; labels?: unknown; annotations?: unknown };
}

/** Every name rule the object violates, as human-readable messages (empty when valid). */
export function nameViolations(object: MetaLike): string[] {
  const violations: string[] = [];
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const meta = object.metadata ?? {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (name === '') violations.push('metadata.name: required');
  else if (LABEL_NAMED_KINDS.has(kind) && !isDns1123Label(name)) {
    violations.push(`metadata.name: ${JSON.stringify(name)} must be a DNS-1123 label (a-z0-9-, at most 63)`);
  } else if (DNS1035_NAMED_KINDS.has(kind) && !isDns1035Label(name)) {
    violations.push(`metadata.name: ${JSON.stringify(name)} must be a DNS-1035 label`);
  } else if (!isDns1123Subdomain(name)) {
    violations.push(`metadata.name: ${JSON.stringify(name)} must be a DNS-1123 subdomain (at most 253)`);
  }
  if (LABEL_VALUE_NAMED_KINDS.has(kind) && name !== '' && !isLabelValue(name)) {
    violations.push(`metadata.name: ${JSON.stringify(name)} must also be a valid label value (at most 63)`);
  }
  if (
    meta.namespace !== undefined &&
    (typeof meta.namespace !== 'string' || !isDns1123Label(meta.namespace))
  ) {
    violations.push(`metadata.namespace: ${JSON.stringify(meta.namespace)} must be a DNS-1123 label`);
  }
  violations.push(...mapViolations('metadata.labels', meta.labels, true));
  violations.push(...mapViolations('metadata.annotations', meta.annotations, false));
  return violations;
}

/** Checks a label map found anywhere (selectors, pod templates). */
export function mapViolations(path: string, map: unknown, valuesAreLabels: boolean): string[] {
  if (map === undefined) return [];
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return [`${path}: must be a map`];
  const out: string[] = [];
  for (const [key, value] of Object.entries(map as Record<string, unknown>)) {
    if (!isQualifiedKey(key)) out.push(`${path}: key ${JSON.stringify(key)} is not a qualified name`);
    if (typeof value !== 'string') out.push(`${path}.${key}: must be a string`);
    else if (valuesAreLabels && !isLabelValue(value)) {
      out.push(
        `${path}.${key}: ${JSON.stringify(value)} is not a valid label value (at most 63, [A-Za-z0-9-_.])`,
      );
    }
  }
  return out;
}
