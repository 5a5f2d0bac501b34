import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LEGACY_KEY_ID, parseSecretStoreKey, parseSecretStoreKeys, SecretCipher } from './secret-cipher';

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

describe('parseSecretStoreKeys', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  const c = randomBytes(32);

  it('takes SECRET_STORE_KEY as the key with id "legacy", which then also writes', () => {
    const ring = parseSecretStoreKeys({ key: a.toString('base64') });
    expect([...ring.keys.keys()]).toEqual([LEGACY_KEY_ID]);
    expect(ring.keys.get('legacy')!.equals(a)).toBe(true);
    expect(ring.writeKeyId).toBe('legacy');
  });

  it('adds SECRET_STORE_KEYS after it, the last one writing unless SECRET_STORE_KEY_ID says otherwise', () => {
    const keys = `k1:${b.toString('base64')}, k-2:${c.toString('base64')}`;
    const ring = parseSecretStoreKeys({ key: a.toString('base64'), keys });
    expect([...ring.keys.keys()]).toEqual(['legacy', 'k1', 'k-2']);
    expect(ring.keys.get('k-2')!.equals(c)).toBe(true);
    expect(ring.writeKeyId).toBe('k-2');
    expect(parseSecretStoreKeys({ keys, keyId: 'k1' }).writeKeyId).toBe('k1');
    expect(parseSecretStoreKeys({ keys: `legacy:${a.toString('base64')}` }).writeKeyId).toBe('legacy');
  });

  it.each([
    [{}, 'SECRETS.KEY_MISSING', /SECRET_STORE_KEY is not set \(nor SECRET_STORE_KEYS\)/],
    [{ keys: a.toString('base64') }, 'SECRETS.KEY_INVALID', /SECRET_STORE_KEYS entry #1 must be <key id>:/],
    [{ keys: `K1:${a.toString('base64')}` }, 'SECRETS.KEY_INVALID', /entry #1 .*\[a-z0-9-\]\{1,32\}/],
    [{ keys: `${'x'.repeat(33)}:${a.toString('base64')}` }, 'SECRETS.KEY_INVALID', /entry #1/],
    [
      { keys: `k1:${a.toString('base64')},k2:AAAA` },
      'SECRETS.KEY_INVALID',
      /SECRET_STORE_KEYS key "k2" decodes/,
    ],
    [
      { keys: `k1:${a.toString('base64')},k1:${b.toString('base64')}` },
      'SECRETS.KEY_INVALID',
      /lists key id "k1" twice/,
    ],
    [
      { key: a.toString('base64'), keys: `legacy:${b.toString('base64')}` },
      'SECRETS.KEY_INVALID',
      /key id "legacy", which SECRET_STORE_KEY already is/,
    ],
    [
      { keys: `k1:${a.toString('base64')}`, keyId: 'k9' },
      'SECRETS.KEY_INVALID',
      /SECRET_STORE_KEY_ID "k9" is not a configured key id \(k1\)/,
    ],
  ])('refuses %#, naming the variable and never a key', (settings, code, message) => {
    let caught: unknown;
    try {
      parseSecretStoreKeys(settings);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code });
    expect(String(caught)).toMatch(message);
    for (const key of [a, b]) expect(String(caught)).not.toContain(key.toString('base64'));
  });
});

describe('SecretCipher with several keys', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const path = '/e-commerce/tenants/x/auth-db';
  const values = { username: 'u', password: 'p@ss-w0rd-very-secret' };
  const ring = (writeKeyId: string, keys: [string, Buffer][]) =>
    new SecretCipher({ keys: new Map(keys), writeKeyId });
  const both = ring('k2', [
    ['legacy', oldKey],
    ['k2', newKey],
  ]);

  /** Exactly what the store wrote before key ids: AES-256-GCM, the path alone as additional data. */
  function sealAsBefore(key: Buffer, at: string, plain: object) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    cipher.setAAD(Buffer.from(at, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
    return { iv, tag: cipher.getAuthTag(), ciphertext };
  }

  it('reads a ciphertext from before key ids with the legacy key', () => {
    expect(both.open(path, { keyId: null, ...sealAsBefore(oldKey, path, values) })).toEqual(values);
  });

  it('seals new writes under the write key and carries its id; every configured key reads', () => {
    const sealed = both.seal(path, values);
    expect(sealed.keyId).toBe('k2');
    expect(both.open(path, sealed)).toEqual(values);
    const older = ring('legacy', [['legacy', oldKey]]).seal(path, values);
    expect(both.open(path, older)).toEqual(values);
    expect(both.isCurrent('k2')).toBe(true);
    expect(both.isCurrent(null)).toBe(false);
  });

  it('writes format 0 under the legacy key, so the code from before key ids still reads it', () => {
    const sealed = new SecretCipher(oldKey).seal(path, values);
    expect(sealed.keyId).toBeNull();
    const decipher = createDecipheriv('aes-256-gcm', oldKey, sealed.iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(path, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    const plain = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    expect(JSON.parse(plain)).toEqual(values);
  });

  it('refuses a relabelled key id, even to a key with the same bytes (the id is authenticated)', () => {
    const twins = ring('k2', [
      ['k1', newKey],
      ['k2', newKey],
      ['legacy', newKey],
    ]);
    const sealed = twins.seal(path, values);
    for (const keyId of ['k1', 'legacy', null]) {
      expect(() => twins.open(path, { ...sealed, keyId })).toThrow(
        expect.objectContaining({ code: 'SECRETS.DECRYPTION_FAILED' }),
      );
    }
    const format0 = new SecretCipher(newKey).seal(path, values);
    expect(() => twins.open(path, { ...format0, keyId: 'legacy' })).toThrow(
      expect.objectContaining({ code: 'SECRETS.DECRYPTION_FAILED' }),
    );
  });

  it('names an unknown key id (not the value), and a missing legacy key', () => {
    const onlyNew = ring('k2', [['k2', newKey]]);
    const sealed = ring('k9', [['k9', oldKey]]).seal(path, values);
    expect(() => onlyNew.open(path, sealed)).toThrow(
      expect.objectContaining({
        code: 'SECRETS.UNKNOWN_KEY',
        message: `secret at ${path} is encrypted with key id "k9", which is not configured (SECRET_STORE_KEYS)`,
      }),
    );
    expect(() => onlyNew.open(path, { ...sealed, keyId: 'Evil\u001b[2J' })).toThrow(/a malformed key id/);
    expect(() => onlyNew.open(path, { keyId: null, ...sealAsBefore(oldKey, path, values) })).toThrow(
      expect.objectContaining({
        code: 'SECRETS.UNKNOWN_KEY',
        message: expect.stringMatching(/needs key id "legacy"/),
      }),
    );
  });
});
