import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ANCHOR_ERROR_CODES, AnchorError } from './anchor-errors';

/** The anchor signing key and what names it; the PEM text it came from is not kept. */
export interface AnchorSigningKey {
  keyId: string;
  privateKey: KeyObject;
}

/**
 * `ed25519:` and the first 16 hex digits of the SHA-256 of the public key (SPKI DER): derived, never configured,
 * so an anchor cannot claim the id of a key other than the one that signed it.
 */
export function anchorKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

function invalid(source: string, why: string): AnchorError {
  return new AnchorError(ANCHOR_ERROR_CODES.KEY_INVALID, `${source}: ${why}`);
}

/** Parses a PKCS#8 PEM Ed25519 private key; `source` names where it came from (a variable or a file). */
export function parseAnchorPrivateKey(pem: string, source: string): AnchorSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // OpenSSL's message could quote the input: the key's text must never reach a log or a terminal.
    throw invalid(source, 'not a PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw invalid(source, `an ${privateKey.asymmetricKeyType ?? 'unknown'} key, expected Ed25519`);
  return { keyId: anchorKeyId(createPublicKey(privateKey)), privateKey };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * The verification keys of a PEM text holding one or more `PUBLIC KEY` blocks (several during a key rotation:
 * anchors signed by the old key keep verifying), by key id. A private key is refused: a verifier never needs it.
 */
export function parseAnchorPublicKeys(pemText: string, source: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const [block, label] of pemText.matchAll(PEM_BLOCK)) {
    if (label !== 'PUBLIC KEY') throw invalid(source, `holds a ${label} block; give public keys only`);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: block, format: 'pem' });
    } catch {
      throw invalid(source, 'a PUBLIC KEY block does not parse');
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw invalid(source, `an ${key.asymmetricKeyType ?? 'unknown'} key, expected Ed25519`);
    keys.set(anchorKeyId(key), key);
  }
  if (keys.size === 0) throw invalid(source, 'no PUBLIC KEY block');
  return keys;
}
