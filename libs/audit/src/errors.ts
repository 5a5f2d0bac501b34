export const AUDIT_ERROR_CODES = {
  NOT_CANONICALIZABLE: 'AUDIT.NOT_CANONICALIZABLE',
  INVALID_CHECKPOINT: 'AUDIT.INVALID_CHECKPOINT',
  INVALID_ARGUMENT: 'AUDIT.INVALID_ARGUMENT',
} as const;

export type AuditErrorCode = (typeof AUDIT_ERROR_CODES)[keyof typeof AUDIT_ERROR_CODES];

export class AuditError extends Error {
  constructor(
    readonly code: AuditErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuditError';
  }
}
