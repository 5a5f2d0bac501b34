import type { Violation } from '@app/contracts';
import { ApiError } from '../http/api-error';

export const GUARDRAIL_ERROR_CODES = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  BREAKER_NOT_OPEN: 'GUARDRAIL.BREAKER_NOT_OPEN',
  CONCURRENCY_EXHAUSTED: 'GUARDRAIL.CONCURRENCY_EXHAUSTED',
} as const;
export type GuardrailErrorCode = (typeof GUARDRAIL_ERROR_CODES)[keyof typeof GUARDRAIL_ERROR_CODES];

const STATUS: Record<GuardrailErrorCode, number> = {
  [GUARDRAIL_ERROR_CODES.VALIDATION_FAILED]: 400,
  [GUARDRAIL_ERROR_CODES.BREAKER_NOT_OPEN]: 409,
  [GUARDRAIL_ERROR_CODES.CONCURRENCY_EXHAUSTED]: 503,
};

/** A guardrail action refused by the use case; the HTTP filter maps the code at the edge. */
export class GuardrailError extends ApiError<GuardrailErrorCode> {
  constructor(code: GuardrailErrorCode, message: string, violations: Violation[] = []) {
    super(code, message, STATUS[code], violations);
  }
}
