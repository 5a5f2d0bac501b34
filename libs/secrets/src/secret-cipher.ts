import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretStoreError } from './errors';
import type { SecretValues } from './secret-store.port';

export const SECRET_STORE_KEY_VARIABLE = 'SECRET_STORE_KEY';
export const SECRET_STORE_KEYS_VARIABLE = 'SECRET_STORE_KEYS';
export const SECRET_STORE_KEY_ID_VARIABLE = 'SECRET_STORE_KEY_ID';
/**
 * The id of SECRET_STORE_KEY, and the key of every ciphertext that carries no key id (those written before key
 * ids existed, and those it writes itself). Listing `legacy:<base64>` in SECRET_STORE_KEYS names the same key.
 */
export const LEGACY_KEY_ID = 'legacy';
export const KEY_ID_PATTERN = /^[a-z0-9-]{1,32}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Prefix of the additional authenticated data of every ciphertext that carries a key id (format 1). */
const FORMAT_1 = 'secret-store:v1';

export interface SealedSecret {
  /** The key that sealed it; `null` for format 0 (no key id: the `legacy` key). */
  keyId: string | null;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** Every key the store may read with, and the one that seals new writes. */
export interface SecretKeyring {
  keys: ReadonlyMap<string, Buffer>;
  writeKeyId: string;
}

/** The variables as read from the environment (each may be unset). */
export interface SecretKeySettings {
  /** SECRET_STORE_KEY: one key, whose id is `legacy`. */
  key?: string;
  /** SECRET_STORE_KEYS: `id:base64,id:base64`; the last entry seals new writes unless `keyId` says otherwise. */
  keys?: string;
  /** SECRET_STORE_KEY_ID: the id of the key that seals new writes. */
  keyId?: string;
}

/** Decodes SECRET_STORE_KEY (base64 of 32 bytes); refuses anything else so a typo cannot weaken the key. */
export function parseSecretStoreKey(
  encoded: string | undefined,
  variable: string = SECRET_STORE_KEY_VARIABLE,
): Buffer {
  if (encoded === undefined || encoded.trim() === '') {
    throw new SecretStoreError(
      'SECRETS.KEY_MISSING',
      `${variable} is not set: expected base64 of ${KEY_BYTES} random bytes (openssl rand -base64 32)`,
    );
  }
  const trimmed = encoded.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new SecretStoreError('SECRETS.KEY_INVALID', `${variable} is not valid base64`);
  }
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new SecretStoreError(
      'SECRETS.KEY_INVALID',
      `${variable} decodes to ${key.length} bytes, expected ${KEY_BYTES}`,
    );
  }
  return key;
}

/**
 * Builds the keyring from SECRET_STORE_KEY (id `legacy`) and SECRET_STORE_KEYS (`id:base64,…`, in that order).
 * New writes use SECRET_STORE_KEY_ID when set, else the last key listed. Messages name entries by position or
 * by a validated id, never by what an entry holds: a malformed entry may be key material.
 */
export function parseSecretStoreKeys(settings: SecretKeySettings): SecretKeyring {
  const keys = new Map<string, Buffer>();
  const legacy = settings.key?.trim() ? settings.key : undefined;
  if (legacy !== undefined) keys.set(LEGACY_KEY_ID, parseSecretStoreKey(legacy));
  const entries = (settings.keys ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!KEY_ID_PATTERN.test(id)) {
      throw new SecretStoreError(
        'SECRETS.KEY_INVALID',
        `${SECRET_STORE_KEYS_VARIABLE} entry #${index + 1} must be <key id>:<base64 of ${KEY_BYTES} bytes>, the key id matching ${KEY_ID_PATTERN.source}`,
      );
    }
    if (keys.has(id)) {
      throw new SecretStoreError(
        'SECRETS.KEY_INVALID',
        id === LEGACY_KEY_ID && legacy !== undefined
          ? `${SECRET_STORE_KEYS_VARIABLE} lists key id "${LEGACY_KEY_ID}", which ${SECRET_STORE_KEY_VARIABLE} already is: set one of them`
          : `${SECRET_STORE_KEYS_VARIABLE} lists key id "${id}" twice`,
      );
    }
    keys.set(id, parseSecretStoreKey(entry.slice(colon + 1), `${SECRET_STORE_KEYS_VARIABLE} key "${id}"`));
  });
  if (keys.size === 0) {
    throw new SecretStoreError(
      'SECRETS.KEY_MISSING',
      `${SECRET_STORE_KEY_VARIABLE} is not set (nor ${SECRET_STORE_KEYS_VARIABLE}): expected base64 of ${KEY_BYTES} random bytes (openssl rand -base64 32)`,
    );
  }
  const keyId = settings.keyId?.trim() ? settings.keyId.trim() : undefined;
  if (keyId !== undefined && !keys.has(keyId)) {
    throw new SecretStoreError(
      'SECRETS.KEY_INVALID',
      KEY_ID_PATTERN.test(keyId)
        ? `${SECRET_STORE_KEY_ID_VARIABLE} "${keyId}" is not a configured key id (${[...keys.keys()].join(', ')})`
        : `${SECRET_STORE_KEY_ID_VARIABLE} must match ${KEY_ID_PATTERN.source}`,
    );
  }
  return { keys, writeKeyId: keyId ?? [...keys.keys()][keys.size - 1] };
}

/**
 * AES-256-GCM with a fresh 12-byte IV per write, under the keyring's write key; every configured key reads.
 * The additional authenticated data binds the format, the key id and the path: a row copied to another path, a
 * swapped ciphertext, or a key id relabelled (even to a key that exists) fails authentication instead of
 * leaking a credential or being opened with a key that did not seal it. Format 0 (no key id) authenticates the
 * path alone and is opened with the `legacy` key; relabelling it either way changes the format, so it fails too.
 */
export class SecretCipher {
  private readonly keyring: SecretKeyring;

  /** A bare key is a keyring of one: the `legacy` key, which then also seals. */
  constructor(keys: Buffer | SecretKeyring) {
    this.keyring = Buffer.isBuffer(keys)
      ? { keys: new Map([[LEGACY_KEY_ID, keys]]), writeKeyId: LEGACY_KEY_ID }
      : keys;
    for (const [id, key] of this.keyring.keys) {
      if (!KEY_ID_PATTERN.test(id)) {
        throw new SecretStoreError('SECRETS.KEY_INVALID', `key id must match ${KEY_ID_PATTERN.source}`);
      }
      if (key.length !== KEY_BYTES) {
        throw new SecretStoreError(
          'SECRETS.KEY_INVALID',
          `secret store key "${id}" must be ${KEY_BYTES} bytes`,
        );
      }
    }
    if (!this.keyring.keys.has(this.keyring.writeKeyId)) {
      throw new SecretStoreError('SECRETS.KEY_INVALID', 'the write key id is not in the keyring');
    }
  }

  /** The id new writes are sealed under; rotation moves every ciphertext to it. */
  get writeKeyId(): string {
    return this.keyring.writeKeyId;
  }

  get keyIds(): string[] {
    return [...this.keyring.keys.keys()];
  }

  /** Whether a ciphertext is sealed under the write key (format 0 counts as `legacy`). */
  isCurrent(keyId: string | null): boolean {
    return (keyId ?? LEGACY_KEY_ID) === this.keyring.writeKeyId;
  }

  /**
   * Under the `legacy` key the ciphertext keeps format 0 (no key id), which the code from before key ids also
   * reads: an upgrade can then roll out one process at a time. Every other key writes format 1.
   */
  seal(path: string, values: SecretValues): SealedSecret {
    const writeKeyId = this.keyring.writeKeyId;
    const keyId = writeKeyId === LEGACY_KEY_ID ? null : writeKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keyOf(writeKeyId, path), iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(additionalData(keyId, path));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return { keyId, iv, tag: cipher.getAuthTag(), ciphertext };
  }

  open(path: string, sealed: SealedSecret): SecretValues {
    const key = this.keyOf(sealed.keyId ?? LEGACY_KEY_ID, path, sealed.keyId === null);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(sealed.keyId, path));
      decipher.setAuthTag(sealed.tag);
      const plain = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
      return parseValues(plain);
    } catch (error) {
      // The cause is dropped on purpose: it cannot help an operator and must not carry partial plaintext.
      void error;
      throw new SecretStoreError(
        'SECRETS.DECRYPTION_FAILED',
        `secret at ${path} cannot be decrypted: wrong key, tampered data or moved row`,
      );
    }
  }

  private keyOf(keyId: string, path: string, legacyFormat = false): Buffer {
    const key = this.keyring.keys.get(keyId);
    if (key) return key;
    // The id comes from storage: echoed only when it has the shape of an id, never as arbitrary bytes.
    const named = KEY_ID_PATTERN.test(keyId) ? `key id "${keyId}"` : 'a malformed key id';
    throw new SecretStoreError(
      'SECRETS.UNKNOWN_KEY',
      legacyFormat
        ? `secret at ${path} predates key ids and needs key id "${LEGACY_KEY_ID}" (${SECRET_STORE_KEY_VARIABLE}, or "${LEGACY_KEY_ID}:…" in ${SECRET_STORE_KEYS_VARIABLE}), which is not configured`
        : `secret at ${path} is encrypted with ${named}, which is not configured (${SECRET_STORE_KEYS_VARIABLE})`,
    );
  }
}

function additionalData(keyId: string | null, path: string): Buffer {
  if (keyId === null) return Buffer.from(path, 'utf8');
  return Buffer.from(`${FORMAT_1}\0${keyId}\0${path}`, 'utf8');
}

function parseValues(plain: string): SecretValues {
  const parsed: unknown = JSON.parse(plain);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('not an object');
  const values: SecretValues = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Error('non-string value');
    values[key] = value;
  }
  return values;
}
