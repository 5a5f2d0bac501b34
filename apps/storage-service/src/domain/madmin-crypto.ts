import { createCipheriv, createHash, pbkdf2Sync } from 'crypto';

/**
 * MinIO's admin API wants some request bodies (add-user, policy attach) encrypted with madmin's
 * `EncryptData(adminSecretKey, data)`: `salt(32) | AEAD id(1) | nonce(8) | sio-go stream`. madmin's
 * `DecryptData` accepts three key derivations; this implements id 0x02 (PBKDF2-SHA256, 8192 rounds,
 * AES-256-GCM), the one madmin itself uses in FIPS mode, because Node has no Argon2id before 24.7 and the
 * server accepts any of the three ids whatever its own mode.
 *
 * sio-go stream (github.com/secure-io/sio-go): the plaintext is cut into 16 KiB fragments; fragment i
 * (from 1) is sealed with nonce = nonce8 | uint32le(i) and associated data = flag | tag0, where tag0 is the
 * GCM tag of an empty message under nonce8 | uint32le(0) (madmin passes no associated data) and flag is
 * 0x80 for the last fragment (which may be empty), 0x00 otherwise. A full final fragment is still sealed
 * as the last one.
 *
 * Limitation: there is no MinIO server on this machine, so interoperability is asserted by re-deriving this
 * format independently in the unit test, not against a live server.
 */
export const MADMIN_PBKDF2_AES_GCM = 0x02;
export const PBKDF2_ROUNDS = 8192;
export const SIO_BUFFER_SIZE = 16 * 1024;

function seal(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]);
}

function fragmentNonce(nonce8: Buffer, seq: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce8.copy(nonce, 0);
  nonce.writeUInt32LE(seq, 8);
  return nonce;
}

export function madminEncrypt(password: string, data: Buffer, salt: Buffer, nonce8: Buffer): Buffer {
  if (salt.length !== 32 || nonce8.length !== 8) throw new Error('madmin: salt must be 32 bytes, nonce 8');
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, PBKDF2_ROUNDS, 32, 'sha256');
  const tag0 = seal(key, fragmentNonce(nonce8, 0), Buffer.alloc(0), Buffer.alloc(0));
  const parts: Buffer[] = [salt, Buffer.from([MADMIN_PBKDF2_AES_GCM]), nonce8];
  let offset = 0;
  let seq = 1;
  while (data.length - offset > SIO_BUFFER_SIZE) {
    const ad = Buffer.concat([Buffer.from([0x00]), tag0]);
    parts.push(seal(key, fragmentNonce(nonce8, seq), data.subarray(offset, offset + SIO_BUFFER_SIZE), ad));
    offset += SIO_BUFFER_SIZE;
    seq += 1;
  }
  const ad = Buffer.concat([Buffer.from([0x80]), tag0]);
  parts.push(seal(key, fragmentNonce(nonce8, seq), data.subarray(offset), ad));
  return Buffer.concat(parts);
}

/** A short fingerprint for logs and test expectations (never the body itself). */
export function fingerprint(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}
