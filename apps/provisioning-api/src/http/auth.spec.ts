import {
  constantTimeEqual,
  resolvePrincipal,
  signWebhook,
  verifyWebhookCredentials,
  type WebhookAuthSettings,
  type WebhookCredentials,
} from './auth';

const SECRET = 'whsec_0123456789abcdef';
const NOW = Date.parse('2025-01-15T10:00:00Z');
const nowSeconds = String(NOW / 1000);
const body = Buffer.from('{"event":"subscription.created"}');

describe('constantTimeEqual', () => {
  it('is true only for identical strings, including different lengths and empty input', () => {
    expect(constantTimeEqual(SECRET, SECRET)).toBe(true);
    expect(constantTimeEqual(SECRET, `${SECRET}x`)).toBe(false);
    expect(constantTimeEqual(SECRET.slice(0, -1), SECRET)).toBe(false);
    expect(constantTimeEqual('', SECRET)).toBe(false);
    expect(constantTimeEqual(SECRET.toUpperCase(), SECRET)).toBe(false);
  });
});

const SIGNING = SECRET;
const BEARER = 'bearer_fedcba9876543210';
const settings = (overrides: Partial<WebhookAuthSettings> = {}): WebhookAuthSettings => ({
  signingSecret: SIGNING,
  bearerSecret: BEARER,
  requireSignature: false,
  toleranceSeconds: 300,
  ...overrides,
});

describe('verifyWebhookCredentials (bearer)', () => {
  const check = (authorization?: string, options?: Partial<WebhookAuthSettings>) =>
    verifyWebhookCredentials({ authorization }, settings(options), NOW);

  it('accepts the bearer secret', () => {
    expect(check(`Bearer ${BEARER}`)).toEqual({ ok: true, method: 'bearer' });
    expect(check(`bearer ${BEARER}`)).toEqual({ ok: true, method: 'bearer' });
  });

  it('refuses the signing secret as a bearer token', () => {
    expect(check(`Bearer ${SIGNING}`)).toEqual({ ok: false, reason: 'bad_token' });
  });

  it('refuses every bearer token when signatures are required or no bearer secret is set', () => {
    expect(check(`Bearer ${BEARER}`, { requireSignature: true })).toEqual({
      ok: false,
      reason: 'bearer_disabled',
    });
    expect(check(`Bearer ${BEARER}`, { bearerSecret: undefined })).toEqual({
      ok: false,
      reason: 'bearer_disabled',
    });
    expect(check(`Bearer ${SIGNING}`, { bearerSecret: undefined })).toEqual({
      ok: false,
      reason: 'bearer_disabled',
    });
  });

  it('refuses a missing header, another scheme, a wrong, shorter or longer secret', () => {
    expect(check(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(check(`Basic ${BEARER}`)).toEqual({ ok: false, reason: 'missing' });
    expect(check('Bearer ')).toEqual({ ok: false, reason: 'missing' });
    expect(check('Bearer wrong-secret-of-some-length')).toEqual({ ok: false, reason: 'bad_token' });
    expect(check(`Bearer ${BEARER.slice(0, 4)}`)).toEqual({ ok: false, reason: 'bad_token' });
    expect(check(`Bearer ${BEARER}0`)).toEqual({ ok: false, reason: 'bad_token' });
  });
});

describe('verifyWebhookCredentials (HMAC signature)', () => {
  const signed = (timestamp: string, payload: Buffer = body, secret = SECRET) => ({
    timestamp,
    signature: signWebhook(secret, timestamp, payload),
    rawBody: body,
  });
  const verify = (credentials: WebhookCredentials, options?: Partial<WebhookAuthSettings>) =>
    verifyWebhookCredentials(credentials, settings(options), NOW);

  it('accepts a fresh signature over timestamp and raw body, with a replay key valid for the window', () => {
    expect(verify(signed(nowSeconds))).toEqual({
      ok: true,
      method: 'signature',
      replayKey: expect.stringMatching(/^[0-9a-f]{64}$/),
      expiresAtMs: NOW + 300_000,
    });
    expect(verify(signed(String(NOW / 1000 - 299))).ok).toBe(true);
    expect(verify(signed(String(NOW / 1000 + 299))).ok).toBe(true);
    expect(verify(signed(nowSeconds), { requireSignature: true, bearerSecret: undefined }).ok).toBe(true);
  });

  it('gives each signed request its own replay key, the same in both signed forms', () => {
    const first = verify(signed(nowSeconds));
    const retry = verify(signed(String(NOW / 1000 + 1)));
    const stripe = verify({
      stripeSignature: `t=${nowSeconds},v1=${signWebhook(SECRET, nowSeconds, body)}`,
      rawBody: body,
    });
    if (!first.ok || first.method !== 'signature' || !retry.ok || retry.method !== 'signature')
      throw new Error('expected signatures');
    expect(retry.replayKey).not.toBe(first.replayKey);
    expect(stripe).toMatchObject({ ok: true, replayKey: first.replayKey });
  });

  it('refuses the replay of a captured request once its timestamp is outside the window', () => {
    expect(verify(signed(String(NOW / 1000 - 301)))).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verify(signed(String(NOW / 1000 + 301)))).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('refuses a signature over another body, another timestamp or with another secret', () => {
    expect(verify(signed(nowSeconds, Buffer.from('{}')))).toEqual({ ok: false, reason: 'bad_signature' });
    const moved = { ...signed(String(NOW / 1000 - 1000)), timestamp: nowSeconds };
    expect(verify(moved)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify(signed(nowSeconds, body, 'another-secret-0123456')).ok).toBe(false);
    expect(verify(signed(nowSeconds, body, BEARER))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a malformed timestamp or a missing signature, even with a valid bearer token', () => {
    const base = { authorization: `Bearer ${BEARER}`, rawBody: body };
    expect(verify({ ...base, timestamp: '12.5', signature: 'aa' })).toEqual({
      ok: false,
      reason: 'bad_timestamp',
    });
    expect(verify({ ...base, timestamp: nowSeconds })).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

describe('verifyWebhookCredentials (Stripe-Signature)', () => {
  const OLD_SECRET = 'whsec_previous_0123456789';
  const v1 = (secret: string, timestamp = nowSeconds, payload: Buffer = body) =>
    `v1=${signWebhook(secret, timestamp, payload)}`;
  const verify = (header: string, options?: Partial<WebhookAuthSettings>) =>
    verifyWebhookCredentials({ stripeSignature: header, rawBody: body }, settings(options), NOW);

  it('accepts t=...,v1=... with one v1 signed by the signing secret', () => {
    expect(verify(`t=${nowSeconds},${v1(SECRET)}`)).toMatchObject({ ok: true, method: 'signature' });
    expect(verify(`t=${nowSeconds}, ${v1(SECRET)}, v0=deadbeef`)).toMatchObject({ ok: true });
  });

  it('accepts two v1 values during a rotation, whichever of them is ours', () => {
    expect(verify(`t=${nowSeconds},${v1(OLD_SECRET)},${v1(SECRET)}`)).toMatchObject({ ok: true });
    expect(verify(`t=${nowSeconds},${v1(SECRET)},${v1(OLD_SECRET)}`)).toMatchObject({ ok: true });
  });

  it('refuses v1 values that are all wrong, over another body, or a v0 alone', () => {
    const refused = { ok: false, reason: 'bad_signature' };
    expect(verify(`t=${nowSeconds},${v1(OLD_SECRET)}`)).toEqual(refused);
    expect(verify(`t=${nowSeconds},${v1(OLD_SECRET)},v1=${'ab'.repeat(32)}`)).toEqual(refused);
    expect(verify(`t=${nowSeconds},${v1(SECRET, nowSeconds, Buffer.from('{}'))}`)).toEqual(refused);
    expect(verify(`t=${nowSeconds},v0=${signWebhook(SECRET, nowSeconds, body)}`)).toEqual(refused);
    expect(verify(`t=${nowSeconds},${v1(BEARER)}`)).toEqual(refused);
  });

  it('refuses a header without t, with two t, malformed, or with too many v1', () => {
    expect(verify(v1(SECRET))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify(`t=${nowSeconds},t=${nowSeconds},${v1(SECRET)}`)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verify(`t=${nowSeconds};${v1(SECRET)}`).ok).toBe(false);
    expect(verify(`t=x${nowSeconds},${v1(SECRET)}`)).toEqual({ ok: false, reason: 'bad_timestamp' });
    const many = Array.from({ length: 9 }, () => v1(SECRET)).join(',');
    expect(verify(`t=${nowSeconds},${many}`).ok).toBe(false);
  });

  it('refuses a correct v1 outside the tolerance window', () => {
    const old = String(NOW / 1000 - 301);
    expect(verify(`t=${old},${v1(SECRET, old)}`)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verify(`t=${old},${v1(SECRET, old)}`, { toleranceSeconds: 600 }).ok).toBe(true);
  });
});

describe('resolvePrincipal', () => {
  const tokens = [
    { name: 'alice', token: 'operator-token-aaaaaaaa', role: 'operator' as const },
    { name: 'audrey', token: 'auditor-token-bbbbbbbbb', role: 'auditor' as const },
  ];

  it('names the caller and role of a known token', () => {
    expect(resolvePrincipal('Bearer operator-token-aaaaaaaa', tokens)).toEqual({
      name: 'alice',
      role: 'operator',
    });
    expect(resolvePrincipal('Bearer auditor-token-bbbbbbbbb', tokens)).toEqual({
      name: 'audrey',
      role: 'auditor',
    });
  });

  it('knows no caller without a header, with an unknown token or with no configured tokens', () => {
    expect(resolvePrincipal(undefined, tokens)).toBeUndefined();
    expect(resolvePrincipal('Bearer operator-token-aaaaaaab', tokens)).toBeUndefined();
    expect(resolvePrincipal('Bearer operator-token-aaaaaaaa', [])).toBeUndefined();
  });
});
