import type { Violation } from '@app/contracts';
import { ApiError } from '../http/api-error';

export const OPERATION_ERROR_CODES = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  TENANT_NOT_FOUND: 'OPERATION.TENANT_NOT_FOUND',
  STEP_NOT_RETRYABLE: 'OPERATION.STEP_NOT_RETRYABLE',
  NOT_CANCELLABLE: 'OPERATION.NOT_CANCELLABLE',
  IDEMPOTENCY_KEY_REUSED: 'OPERATION.IDEMPOTENCY_KEY_REUSED',
  CONCURRENCY_EXHAUSTED: 'OPERATION.CONCURRENCY_EXHAUSTED',
} as const;
export type OperationErrorCode = (typeof OPERATION_ERROR_CODES)[keyof typeof OPERATION_ERROR_CODES];

const STATUS: Record<OperationErrorCode, number> = {
  [OPERATION_ERROR_CODES.VALIDATION_FAILED]: 400,
  [OPERATION_ERROR_CODES.TENANT_NOT_FOUND]: 404,
  [OPERATION_ERROR_CODES.STEP_NOT_RETRYABLE]: 409,
  [OPERATION_ERROR_CODES.NOT_CANCELLABLE]: 409,
  [OPERATION_ERROR_CODES.IDEMPOTENCY_KEY_REUSED]: 422,
  [OPERATION_ERROR_CODES.CONCURRENCY_EXHAUSTED]: 503,
};

/** An operator action refused by the use case; the HTTP filter and the CLI map the code at their edge. */
export class OperationError extends ApiError<OperationErrorCode> {
  constructor(code: OperationErrorCode, message: string, violations: Violation[] = []) {
    super(code, message, STATUS[code], violations);
  }
}
