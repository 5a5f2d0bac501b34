import type { Violation } from '@app/contracts';
import { ApiError } from '../http/api-error';

export const QUERY_ERROR_CODES = {
  INVALID_QUERY: 'VALIDATION_FAILED',
  INVALID_TENANT_ID: 'QUERY.INVALID_TENANT_ID',
  TENANT_NOT_FOUND: 'QUERY.TENANT_NOT_FOUND',
} as const;
export type QueryErrorCode = (typeof QUERY_ERROR_CODES)[keyof typeof QUERY_ERROR_CODES];

const STATUS: Record<QueryErrorCode, number> = {
  [QUERY_ERROR_CODES.INVALID_QUERY]: 400,
  [QUERY_ERROR_CODES.INVALID_TENANT_ID]: 400,
  [QUERY_ERROR_CODES.TENANT_NOT_FOUND]: 404,
};

export class QueryError extends ApiError<QueryErrorCode> {
  constructor(code: QueryErrorCode, message: string, violations: Violation[] = []) {
    super(code, message, STATUS[code], violations);
  }
}
