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

/** Hex HMAC-SHA256 over `<timestamp>.<raw body>`: what billing sends in `X-Signature` (and Stripe in `v1=`). */
export function signWebhook(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

export interface WebhookCredentials {
  authorization?: string;
  /** `X-Signature` and `X-Signature-Timestamp`. */
  signature?: string;
  timestamp?: string;
  /** `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]` (several `v1` while Stripe rolls its secret). */
  stripeSignature?: string;
  rawBody?: Buffer;
}

export interface WebhookAuthSettings {
  /** Signs requests (HMAC); never accepted as a bearer token. */
  signingSecret: string;
  /** The bearer form's secret; undefined turns the bearer form off. */
  bearerSecret?: string;
  /** When true, the bearer form is refused even with `bearerSecret` set. */
  requireSignature: boolean;
  toleranceSeconds: number;
}

export type WebhookRefusal =
  'missing' | 'bad_token' | 'bearer_disabled' | 'bad_signature' | 'bad_timestamp' | 'stale_timestamp';

export type WebhookAuthResult =
  | { ok: true; method: 'bearer' }
  | {
      ok: true;
      method: 'signature';
      /** Identifies this signed request (timestamp and MAC, hashed): seen twice inside the window = a replay. */
      replayKey: string;
      /** When the signature leaves the tolerance window; remembering it longer is useless. */
      expiresAtMs: number;
    }
  | { ok: false; reason: WebhookRefusal };

/** More `v1` values than a rotation ever needs would only cost HMAC comparisons. */
const MAX_STRIPE_SIGNATURES = 8;

interface SignedParts {
  timestamp: string;
  signatures: string[];
}

/** `t=...,v1=...,v1=...`; other schemes (`v0`) are ignored, as Stripe's own libraries do. */
function parseStripeSignature(header: string): SignedParts | undefined {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const equals = item.indexOf('=');
    if (equals <= 0) return undefined;
    const key = item.slice(0, equals).trim();
    const value = item.slice(equals + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) return undefined;
      timestamp = value;
    } else if (key === 'v1') signatures.push(value);
  }
  if (timestamp === undefined || signatures.length > MAX_STRIPE_SIGNATURES) return undefined;
  return { timestamp, signatures };
}

/**
 * Billing's credentials, in one of three forms:
 * - `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`: any `v1` equal to HMAC-SHA256(signing secret, `t.body`);
 * - `X-Signature-Timestamp` + `X-Signature`: the same MAC;
 * - `Authorization: Bearer <WEBHOOK_BEARER_SECRET>` (spec 1.1), only when a bearer secret is configured and
 *   signatures are not required. The signing secret is never a bearer token: a bearer token travels in every
 *   request, and whoever reads one could then sign requests too.
 * A signed request whose timestamp is outside the tolerance window is refused; one replayed inside it is caught
 * by the caller with `replayKey` (this function keeps no state).
 */
export function verifyWebhookCredentials(
  credentials: WebhookCredentials,
  settings: WebhookAuthSettings,
  nowMs: number,
): WebhookAuthResult {
  let signed: SignedParts | undefined;
  if (credentials.stripeSignature !== undefined) {
    signed = parseStripeSignature(credentials.stripeSignature);
    if (signed === undefined) return { ok: false, reason: 'bad_signature' };
  } else if (credentials.signature !== undefined || credentials.timestamp !== undefined) {
    signed = { timestamp: credentials.timestamp ?? '', signatures: [credentials.signature ?? ''] };
  }
  if (signed !== undefined) return verifySignature(signed, credentials.rawBody, settings, nowMs);

  const token = bearerToken(credentials.authorization);
  if (token === undefined) return { ok: false, reason: 'missing' };
  const bearerSecret = settings.requireSignature ? undefined : settings.bearerSecret;
  // Compared even when the bearer form is off, so the answer takes the same time either way.
  const matches = constantTimeEqual(token, bearerSecret ?? settings.signingSecret);
  if (bearerSecret === undefined) return { ok: false, reason: 'bearer_disabled' };
  return matches ? { ok: true, method: 'bearer' } : { ok: false, reason: 'bad_token' };
}

function verifySignature(
  signed: SignedParts,
  rawBody: Buffer | undefined,
  settings: WebhookAuthSettings,
  nowMs: number,
): WebhookAuthResult {
  if (!/^\d{1,12}$/.test(signed.timestamp)) return { ok: false, reason: 'bad_timestamp' };
  const expected = signWebhook(settings.signingSecret, signed.timestamp, rawBody ?? Buffer.alloc(0));
  // Every candidate is compared (no early exit), so timing does not tell which one matched.
  let matched = false;
  for (const candidate of signed.signatures) {
    if (constantTimeEqual(candidate.toLowerCase(), expected)) matched = true;
  }
  // The signature is checked before the clock so that timing does not tell a forger which part was wrong.
  if (!matched) return { ok: false, reason: 'bad_signature' };
  const timestampSeconds = Number(signed.timestamp);
  if (Math.abs(nowMs / 1000 - timestampSeconds) > settings.toleranceSeconds)
    return { ok: false, reason: 'stale_timestamp' };
  return {
    ok: true,
    method: 'signature',
    // Both signed forms carry the same MAC: a request replayed in the other form is the same request.
    replayKey: createHash('sha256').update(`${signed.timestamp}.${expected}`).digest('hex'),
    expiresAtMs: (timestampSeconds + settings.toleranceSeconds) * 1000,
  };
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
