import { randomBytes } from 'node:crypto';
import { parseSecretStoreKey, SecretCipher } from './secret-cipher';

describe('parseSecretStoreKey', () => {
  it('accepts base64 of 32 bytes', () => {
    const raw = randomBytes(32);
    expect(parseSecretStoreKey(raw.toString('base64')).equals(raw)).toBe(true);
  });
  it.each([
    [undefined, 'SECRETS.KEY_MISSING'],
    ['', 'SECRETS.KEY_MISSING'],
    [randomBytes(16).toString('base64'), 'SECRETS.KEY_INVALID'],
    [randomBytes(33).toString('base64'), 'SECRETS.KEY_INVALID'],
    ['not base64 at all!', 'SECRETS.KEY_INVALID'],
  ])('refuses %p with a message naming SECRET_STORE_KEY', (value, code) => {
    expect(() => parseSecretStoreKey(value)).toThrow(expect.objectContaining({ code }));
    expect(() => parseSecretStoreKey(value)).toThrow(/SECRET_STORE_KEY/);
  });
});

describe('SecretCipher', () => {
  const cipher = new SecretCipher(randomBytes(32));
  const values = { username: 'u', password: 'p@ss-w0rd-very-secret' };

  it('round-trips and uses a fresh IV per write', () => {
    const a = cipher.seal('/e-commerce/tenants/x/auth-db', values);
    const b = cipher.seal('/e-commerce/tenants/x/auth-db', values);
    expect(a.iv).toHaveLength(12);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.toString('latin1')).not.toContain('p@ss');
    expect(cipher.open('/e-commerce/tenants/x/auth-db', a)).toEqual(values);
  });

  it('refuses a ciphertext moved to another path (path is authenticated)', () => {
    const sealed = cipher.seal('/e-commerce/tenants/x/auth-db', values);
    expect(() => cipher.open('/e-commerce/tenants/y/auth-db', sealed)).toThrow(
      expect.objectContaining({ code: 'SECRETS.DECRYPTION_FAILED' }),
    );
  });

  it('refuses a flipped bit and a different key without echoing the plaintext', () => {
    const sealed = cipher.seal('/p', values);
    const tampered = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext) };
    tampered.ciphertext[0] ^= 1;
    expect(() => cipher.open('/p', tampered)).toThrow(/cannot be decrypted/);
    const other = new SecretCipher(randomBytes(32));
    let message = '';
    try {
      other.open('/p', sealed);
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain('SecretStoreError');
    expect(message).not.toContain('p@ss');
  });
});
