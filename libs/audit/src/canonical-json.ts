import { AUDIT_ERROR_CODES, AuditError } from './errors';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): object members sorted by the UTF-16 code units of their names,
 * numbers in ECMAScript `Number.prototype.toString` form, strings escaped as `JSON.stringify` does, no
 * whitespace. Values follow `JSON.stringify` (toJSON is honoured, undefined members are dropped) so that an
 * event hashes the same before and after a round trip through a store; what JSON cannot carry faithfully
 * (NaN, Infinity, bigint, lone surrogates, cycles) is refused rather than silently changed.
 */
export function canonicalJson(value: unknown): string {
  const out = serialize(value, new Set<object>(), '$');
  if (out === undefined) {
    throw new AuditError(AUDIT_ERROR_CODES.NOT_CANONICALIZABLE, 'top-level value is not JSON');
  }
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(text: string, path: string): string {
  if (LONE_SURROGATE.test(text)) {
    throw new AuditError(AUDIT_ERROR_CODES.NOT_CANONICALIZABLE, `lone surrogate in string at ${path}`);
  }
  // ES2019 JSON.stringify escapes exactly what JCS requires: ", \, and control characters (short forms or \u00xx).
  return JSON.stringify(text);
}

function serialize(input: unknown, ancestors: Set<object>, path: string): string | undefined {
  let value = input;
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    value = (value as { toJSON: (key: string) => unknown }).toJSON('');
  }
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new AuditError(AUDIT_ERROR_CODES.NOT_CANONICALIZABLE, `bigint at ${path}`);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new AuditError(AUDIT_ERROR_CODES.NOT_CANONICALIZABLE, `non-finite number at ${path}`);
      }
      // JSON.stringify of a finite number is Number.prototype.toString, which is what JCS prescribes (-0 → "0").
      return JSON.stringify(value);
    case 'string':
      return serializeString(value, path);
    case 'object':
      break;
  }
  if (value === null) return 'null';
  const object = value as object;
  if (ancestors.has(object)) {
    throw new AuditError(AUDIT_ERROR_CODES.NOT_CANONICALIZABLE, `cycle at ${path}`);
  }
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const items = object.map(
        (item: unknown, index) => serialize(item, ancestors, `${path}[${index}]`) ?? 'null',
      );
      return `[${items.join(',')}]`;
    }
    const record = object as Record<string, unknown>;
    // Default sort compares UTF-16 code units, the order RFC 8785 section 3.2.3 requires.
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const member = serialize(record[key], ancestors, `${path}.${key}`);
      if (member !== undefined) members.push(`${serializeString(key, path)}:${member}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}
