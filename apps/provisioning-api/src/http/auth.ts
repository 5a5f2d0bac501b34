import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Credential checks, free of framework code so they are unit-tested directly. Comparisons go through SHA-256
 * digests: equal-length buffers for `timingSafeEqual`, so neither content nor length leaks through timing.
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(authorization ?? '');
  return match?.[1];
}

/** Hex HMAC-SHA256 over `<timestamp>.<raw body>`: what billing sends in `X-Signature`. */
export function signWebhook(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

export interface WebhookCredentials {
  authorization?: string;
  signature?: string;
  timestamp?: string;
  rawBody?: Buffer;
}

export type WebhookAuthResult =
  | { ok: true; method: 'bearer' | 'signature' }
  | { ok: false; reason: 'missing' | 'bad_token' | 'bad_signature' | 'bad_timestamp' | 'stale_timestamp' };

/**
 * Accepts `Authorization: Bearer <secret>` (spec 1.1) or a signed request (`X-Signature-Timestamp`,
 * `X-Signature`). The signature covers the timestamp, and a timestamp outside the tolerance window is refused,
 * so a captured request cannot be replayed later (within the window intake is idempotent anyway).
 */
export function verifyWebhookCredentials(
  credentials: WebhookCredentials,
  secret: string,
  toleranceSeconds: number,
  nowMs: number,
): WebhookAuthResult {
  if (credentials.signature !== undefined || credentials.timestamp !== undefined) {
    const timestamp = credentials.timestamp ?? '';
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' };
    const expected = signWebhook(secret, timestamp, credentials.rawBody ?? Buffer.alloc(0));
    // The signature is checked before the clock so that timing does not tell a forger which part was wrong.
    if (!constantTimeEqual((credentials.signature ?? '').toLowerCase(), expected)) {
      return { ok: false, reason: 'bad_signature' };
    }
    if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds)
      return { ok: false, reason: 'stale_timestamp' };
    return { ok: true, method: 'signature' };
  }
  const token = bearerToken(credentials.authorization);
  if (token === undefined) return { ok: false, reason: 'missing' };
  return constantTimeEqual(token, secret)
    ? { ok: true, method: 'bearer' }
    : { ok: false, reason: 'bad_token' };
}

export type Role = 'operator' | 'auditor';

export interface Principal {
  name: string;
  role: Role;
}

export interface RoleToken {
  name: string;
  token: string;
  role: Role;
}

/** The caller a bearer token names. Every known token is compared (no early exit), in constant time each. */
export function resolvePrincipal(
  authorization: string | undefined,
  tokens: readonly RoleToken[],
): Principal | undefined {
  const given = bearerToken(authorization);
  if (given === undefined) return undefined;
  let found: Principal | undefined;
  for (const candidate of tokens) {
    if (constantTimeEqual(given, candidate.token) && !found)
      found = { name: candidate.name, role: candidate.role };
  }
  return found;
}
