import { constantTimeEqual, resolvePrincipal, signWebhook, verifyWebhookCredentials } from './auth';

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

describe('verifyWebhookCredentials (bearer)', () => {
  const check = (authorization?: string) => verifyWebhookCredentials({ authorization }, SECRET, 300, NOW);

  it('accepts the configured secret', () => {
    expect(check(`Bearer ${SECRET}`)).toEqual({ ok: true, method: 'bearer' });
    expect(check(`bearer ${SECRET}`)).toEqual({ ok: true, method: 'bearer' });
  });

  it('refuses a missing header, another scheme, a wrong, shorter or longer secret', () => {
    expect(check(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(check(`Basic ${SECRET}`)).toEqual({ ok: false, reason: 'missing' });
    expect(check('Bearer ')).toEqual({ ok: false, reason: 'missing' });
    expect(check('Bearer wrong-secret-of-some-length')).toEqual({ ok: false, reason: 'bad_token' });
    expect(check(`Bearer ${SECRET.slice(0, 4)}`)).toEqual({ ok: false, reason: 'bad_token' });
    expect(check(`Bearer ${SECRET}0`)).toEqual({ ok: false, reason: 'bad_token' });
  });
});

describe('verifyWebhookCredentials (HMAC signature)', () => {
  const signed = (timestamp: string, payload: Buffer = body, secret = SECRET) => ({
    timestamp,
    signature: signWebhook(secret, timestamp, payload),
    rawBody: body,
  });

  it('accepts a fresh signature over timestamp and raw body', () => {
    expect(verifyWebhookCredentials(signed(nowSeconds), SECRET, 300, NOW)).toEqual({
      ok: true,
      method: 'signature',
    });
    expect(verifyWebhookCredentials(signed(String(NOW / 1000 - 299)), SECRET, 300, NOW).ok).toBe(true);
    expect(verifyWebhookCredentials(signed(String(NOW / 1000 + 299)), SECRET, 300, NOW).ok).toBe(true);
  });

  it('refuses the replay of a captured request once its timestamp is outside the window', () => {
    const captured = signed(String(NOW / 1000 - 301));
    expect(verifyWebhookCredentials(captured, SECRET, 300, NOW)).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(verifyWebhookCredentials(signed(String(NOW / 1000 + 301)), SECRET, 300, NOW)).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
  });

  it('refuses a signature over another body, another timestamp or with another secret', () => {
    expect(verifyWebhookCredentials(signed(nowSeconds, Buffer.from('{}')), SECRET, 300, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const moved = { ...signed(String(NOW / 1000 - 1000)), timestamp: nowSeconds };
    expect(verifyWebhookCredentials(moved, SECRET, 300, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(
      verifyWebhookCredentials(signed(nowSeconds, body, 'another-secret-0123456'), SECRET, 300, NOW).ok,
    ).toBe(false);
  });

  it('refuses a malformed timestamp or a missing signature, even with a valid bearer token', () => {
    const base = { authorization: `Bearer ${SECRET}`, rawBody: body };
    expect(
      verifyWebhookCredentials({ ...base, timestamp: '12.5', signature: 'aa' }, SECRET, 300, NOW),
    ).toEqual({
      ok: false,
      reason: 'bad_timestamp',
    });
    expect(verifyWebhookCredentials({ ...base, timestamp: nowSeconds }, SECRET, 300, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
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
