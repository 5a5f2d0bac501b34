export const ANCHOR_ERROR_CODES = {
  /** A signing or verification key is missing, unreadable, or not an Ed25519 key of the expected kind. */
  KEY_INVALID: 'AUDIT.ANCHOR_KEY_INVALID',
  /** The archive bucket cannot hold anchors as configured (no Object Lock where it is required). */
  BUCKET_UNPROTECTED: 'AUDIT.ANCHOR_BUCKET_UNPROTECTED',
} as const;

export type AnchorErrorCode = (typeof ANCHOR_ERROR_CODES)[keyof typeof ANCHOR_ERROR_CODES];

/** Messages name the variable or file at fault, never a key's content. */
export class AnchorError extends Error {
  constructor(
    readonly code: AnchorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AnchorError';
  }
}
