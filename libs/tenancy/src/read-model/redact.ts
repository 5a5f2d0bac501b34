/**
 * Defence in depth for the audit API: events never carry secrets by design, but a key that looks like one is
 * masked anyway. References that merely name a secret (paths, object keys) are allowed through.
 */
const SECRET_KEY = /password|secret|token|key$/i;
const ALLOWED_KEYS: ReadonlySet<string> = new Set([
  'secretPath',
  'secretPaths',
  'secretPrefix',
  'secretRef',
  'manifestKey',
  'routingKey',
  'objectKey',
]);
export const REDACTED = '[redacted]';

export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
      key,
      SECRET_KEY.test(key) && !ALLOWED_KEYS.has(key) ? REDACTED : redactSecrets(inner),
    ]),
  );
}
