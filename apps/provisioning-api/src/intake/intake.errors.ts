import type { Violation } from '@app/contracts';

export const INTAKE_ERROR_CODES = {
  VALIDATION_FAILED: 'INTAKE.VALIDATION_FAILED',
  TENANT_NOT_FOUND: 'INTAKE.TENANT_NOT_FOUND',
  SUBSCRIPTION_MISMATCH: 'INTAKE.SUBSCRIPTION_MISMATCH',
  TENANT_PURGED: 'INTAKE.TENANT_PURGED',
  DOMAIN_EXHAUSTED: 'INTAKE.DOMAIN_EXHAUSTED',
  CONCURRENCY_EXHAUSTED: 'INTAKE.CONCURRENCY_EXHAUSTED',
  TENANT_ID_EXHAUSTED: 'INTAKE.TENANT_ID_EXHAUSTED',
  TENANT_ID_COLLISION: 'INTAKE.TENANT_ID_COLLISION',
  /** The tenant's status does not allow the change (e.g. a tier change while in its grace period). */
  TENANT_NOT_ACTIVE: 'INTAKE.TENANT_NOT_ACTIVE',
  /** An earlier change of the same kind is still being applied; billing should retry later. */
  CHANGE_IN_PROGRESS: 'INTAKE.CHANGE_IN_PROGRESS',
  /** A reactivation for a tenant that is not in its grace period. */
  NOT_IN_GRACE_PERIOD: 'INTAKE.NOT_IN_GRACE_PERIOD',
} as const;
export type IntakeErrorCode = (typeof INTAKE_ERROR_CODES)[keyof typeof INTAKE_ERROR_CODES];

/** A billing request intake refuses; mapped to an HTTP status (or a parked message) only at the edge. */
export class IntakeError extends Error {
  constructor(
    readonly code: IntakeErrorCode,
    message: string,
    readonly violations: Violation[] = [],
  ) {
    super(message);
    this.name = 'IntakeError';
  }
}
