import { REFUSAL_CODES } from '@app/lifecycle';
import type { RefusalCodes } from '../errors';

/** Why a drift check or repair approval is refused, as the operators' codes. */
export const DRIFT_REFUSALS: RefusalCodes = {
  [REFUSAL_CODES.TENANT_NOT_FOUND]: 'OPERATION.TENANT_NOT_FOUND',
  [REFUSAL_CODES.TENANT_NOT_ACTIVE]: 'DRIFT.TENANT_NOT_ACTIVE',
  [REFUSAL_CODES.DRIFT_CHECK_IN_PROGRESS]: 'DRIFT.CHECK_IN_PROGRESS',
  [REFUSAL_CODES.DRIFT_NOT_FOUND]: 'DRIFT.NOT_FOUND',
  [REFUSAL_CODES.DRIFT_REPAIR_IN_PROGRESS]: 'DRIFT.REPAIR_IN_PROGRESS',
};
