import { createCipheriv, createDecipheriv, pbkdf2Sync } from 'crypto';
import { madminEncrypt, SIO_BUFFER_SIZE } from './madmin-crypto';

/**
 * An independent reader of madmin's format, written from sio-go's DecReader: it checks every fragment's
 * tag with the expected nonce and associated data, so a wrong layout fails here.
 */
function madminDecrypt(password: string, data: Buffer): Buffer {
  const salt = data.subarray(0, 32);
  expect(data[32]).toBe(0x02);
  const nonce8 = data.subarray(33, 41);
  const key = pbkdf2Sync(password, salt, 8192, 32, 'sha256');
  const nonceFor = (seq: number) => {
    const n = Buffer.alloc(12);
    nonce8.copy(n);
    n.writeUInt32LE(seq, 8);
    return n;
  };
  const tag0Cipher = createCipheriv('aes-256-gcm', key, nonceFor(0));
  tag0Cipher.final();
  const tag0: Buffer = tag0Cipher.getAuthTag();
  const body = data.subarray(41);
  const fragment = SIO_BUFFER_SIZE + 16;
  const out: Buffer[] = [];
  let offset = 0;
  let seq = 1;
  while (offset < body.length) {
    const last = body.length - offset <= fragment;
    const chunk = body.subarray(offset, last ? body.length : offset + fragment);
    const decipher = createDecipheriv('aes-256-gcm', key, nonceFor(seq));
    decipher.setAAD(Buffer.concat([Buffer.from([last ? 0x80 : 0x00]), tag0]));
    decipher.setAuthTag(chunk.subarray(chunk.length - 16));
    out.push(decipher.update(chunk.subarray(0, chunk.length - 16)), decipher.final());
    offset += chunk.length;
    seq += 1;
  }
  return Buffer.concat(out);
}

describe('madmin EncryptData (PBKDF2 + AES-256-GCM, sio-go stream)', () => {
  const salt = Buffer.alloc(32, 7);
  const nonce = Buffer.alloc(8, 9);

  it('lays out salt | id 0x02 | nonce | sealed fragments', () => {
    const data = Buffer.from('{"secretKey":"s3cr3t-value","status":"enabled"}');
    const encrypted = madminEncrypt('admin-secret', data, salt, nonce);
    expect(encrypted.subarray(0, 32)).toEqual(salt);
    expect(encrypted[32]).toBe(0x02);
    expect(encrypted.subarray(33, 41)).toEqual(nonce);
    expect(encrypted.length).toBe(41 + data.length + 16);
    expect(madminDecrypt('admin-secret', encrypted)).toEqual(data);
    expect(encrypted.toString('latin1')).not.toContain('s3cr3t');
  });

  it('splits long bodies into 16 KiB fragments, the last flagged (also when exactly full)', () => {
    for (const size of [0, SIO_BUFFER_SIZE, SIO_BUFFER_SIZE + 1, 3 * SIO_BUFFER_SIZE + 5]) {
      const data = Buffer.alloc(size, 0x61);
      const encrypted = madminEncrypt('pw', data, salt, nonce);
      const fragments = Math.max(1, Math.ceil(size / SIO_BUFFER_SIZE));
      expect(encrypted.length).toBe(41 + size + 16 * fragments);
      expect(madminDecrypt('pw', encrypted)).toEqual(data);
    }
  });

  it('cannot be read with another password', () => {
    const encrypted = madminEncrypt('right', Buffer.from('x'), salt, nonce);
    expect(() => madminDecrypt('wrong', encrypted)).toThrow();
  });
});
