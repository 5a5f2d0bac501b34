import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretStoreError } from './errors';
import type { SecretValues } from './secret-store.port';

export const SECRET_STORE_KEY_VARIABLE = 'SECRET_STORE_KEY';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SealedSecret {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** Decodes SECRET_STORE_KEY (base64 of 32 bytes); refuses anything else so a typo cannot weaken the key. */
export function parseSecretStoreKey(encoded: string | undefined): Buffer {
  if (encoded === undefined || encoded.trim() === '') {
    throw new SecretStoreError(
      'SECRETS.KEY_MISSING',
      `${SECRET_STORE_KEY_VARIABLE} is not set: expected base64 of ${KEY_BYTES} random bytes (openssl rand -base64 32)`,
    );
  }
  const trimmed = encoded.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new SecretStoreError('SECRETS.KEY_INVALID', `${SECRET_STORE_KEY_VARIABLE} is not valid base64`);
  }
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new SecretStoreError(
      'SECRETS.KEY_INVALID',
      `${SECRET_STORE_KEY_VARIABLE} decodes to ${key.length} bytes, expected ${KEY_BYTES}`,
    );
  }
  return key;
}

/**
 * AES-256-GCM with a fresh 12-byte IV per write. The path is the additional authenticated data, so a row
 * copied to another path (or a swapped ciphertext) fails authentication instead of leaking a credential.
 */
export class SecretCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw new SecretStoreError('SECRETS.KEY_INVALID', `secret store key must be ${KEY_BYTES} bytes`);
    }
  }

  seal(path: string, values: SecretValues): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(path, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return { iv, tag: cipher.getAuthTag(), ciphertext };
  }

  open(path: string, sealed: SealedSecret): SecretValues {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(path, 'utf8'));
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
