import { isTenantId, type Violation } from '@app/contracts';
import { Command } from '@nestjs/cqrs';
import { invalidRequest } from '../errors';
import {
  idempotencyKeyOf,
  idempotencyViolations,
  keyedEventId,
  REASON_MAX_LENGTH,
  operatorViolations,
  type CancelRequest,
  type ValidOperatorRequest,
} from '../operations/operator-request';

/** An operator's re-provisioning has the cancellation's shape: a tenant, a reason, an optional idempotency key. */
export type ReprovisionRequest = CancelRequest;

export interface ReprovisioningAccepted {
  tenantId: string;
  /** The number of the provisioning run the request started (the first run is 1). */
  run: number;
  eventId: string;
  /** True when this Idempotency-Key was already used for the same request: nothing new was appended. */
  duplicate: boolean;
}

/**
 * Provision again a tenant whose last provisioning run failed and was rolled back: a fresh run of the same
 * tenant id and domain, the failed run kept in the history.
 */
export class RequestReprovisioning extends Command<ReprovisioningAccepted> {
  constructor(readonly request: ReprovisionRequest) {
    super();
  }
}

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * The request's fields checked by the rules of every operator request (every violation at once), and its event
 * id: derived from the idempotency key when one is given (a repeat finds the first event), else new.
 */
export function validReprovisionRequest(
  request: ReprovisionRequest,
  newId: () => string,
): ValidOperatorRequest {
  const { tenantId, reason, operator, idempotencyKey } = request;
  const violations: Violation[] = [
    ...(isTenantId(tenantId)
      ? []
      : violation('tenant_id', 'matches', 'tenant id must look like abc-corporation-7f3a9c')),
    ...reasonViolations(reason),
    ...operatorViolations(operator),
    ...idempotencyViolations(idempotencyKey),
  ];
  if (violations.length > 0) throw invalidRequest('invalid request', violations);
  const key = idempotencyKeyOf(idempotencyKey);
  return {
    tenantId,
    operator,
    reason: (reason as string).trim(),
    eventId: keyedEventId('operator-reprovision', tenantId, operator, key, newId),
    ...(key ? { idempotencyKey: key } : {}),
  };
}

function reasonViolations(reason: unknown): Violation[] {
  if (typeof reason !== 'string' || reason.trim().length === 0) {
    return violation('reason', 'isNotEmpty', 'reason is required');
  }
  if (reason.length > REASON_MAX_LENGTH) {
    return violation('reason', 'maxLength', `reason must be at most ${REASON_MAX_LENGTH} characters`);
  }
  return CONTROL_CHARACTERS.test(reason)
    ? violation('reason', 'noControlCharacters', 'reason must be a single line of text')
    : [];
}

function violation(field: string, rule: string, message: string): Violation[] {
  return [{ field, rules: [rule], messages: [message] }];
}
