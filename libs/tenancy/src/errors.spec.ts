import { LifecycleRefusal, REFUSAL_CODES } from '@app/lifecycle';
import { ERROR_STATUS, refusalError, UseCaseError } from './errors';

describe('UseCaseError', () => {
  it('keeps the wire codes and statuses clients match on', () => {
    expect(ERROR_STATUS).toEqual({
      VALIDATION_FAILED: 400,
      'INTAKE.TENANT_NOT_FOUND': 404,
      'INTAKE.SUBSCRIPTION_MISMATCH': 409,
      'INTAKE.TENANT_PURGED': 409,
      'INTAKE.TENANT_ID_COLLISION': 409,
      'INTAKE.DOMAIN_EXHAUSTED': 409,
      'INTAKE.TENANT_NOT_ACTIVE': 409,
      'INTAKE.CHANGE_IN_PROGRESS': 409,
      'INTAKE.NOT_IN_GRACE_PERIOD': 409,
      'INTAKE.CONCURRENCY_EXHAUSTED': 503,
      'INTAKE.TENANT_ID_EXHAUSTED': 503,
      'OPERATION.TENANT_NOT_FOUND': 404,
      'OPERATION.STEP_NOT_RETRYABLE': 409,
      'OPERATION.NOT_CANCELLABLE': 409,
      'OPERATION.NOT_IN_GRACE_PERIOD': 409,
      'OPERATION.PURGE_ALREADY_REQUESTED': 409,
      'OPERATION.IDEMPOTENCY_KEY_REUSED': 422,
      'OPERATION.IDEMPOTENCY_KEY_IN_FLIGHT': 409,
      'OPERATION.CONCURRENCY_EXHAUSTED': 503,
      'QUERY.INVALID_TENANT_ID': 400,
      'QUERY.TENANT_NOT_FOUND': 404,
      'GUARDRAIL.BREAKER_NOT_OPEN': 409,
      'GUARDRAIL.CONCURRENCY_EXHAUSTED': 503,
      'WEBHOOK.REPLAYED': 409,
      'OPERATION.PROVISIONING_IN_PROGRESS': 409,
      'OPERATION.ROLLBACK_NOT_COMPLETE': 409,
      'OPERATION.TENANT_ACTIVE': 409,
      'OPERATION.TENANT_CANCELLED': 409,
      'INTAKE.ROLLBACK_NOT_COMPLETE': 409,
      'RECONCILIATION.NOT_FOUND': 404,
      'RECONCILIATION.ACTION_NOT_FOUND': 404,
      'RECONCILIATION.ACTION_ALREADY_DECIDED': 409,
      'RECONCILIATION.ACTION_REFUSED': 409,
      'RECONCILIATION.SOURCE_UNAVAILABLE': 502,
      'RECONCILIATION.SOURCE_TOO_LARGE': 502,
      'RECONCILIATION.SOURCE_INVALID': 502,
      'RECONCILIATION.SOURCE_TIMEOUT': 504,
      'RECONCILIATION.CONCURRENCY_EXHAUSTED': 503,
    });
    expect(new UseCaseError('OPERATION.IDEMPOTENCY_KEY_REUSED', 'reused')).toMatchObject({
      code: 'OPERATION.IDEMPOTENCY_KEY_REUSED',
      status: 422,
      violations: [],
    });
  });

  it("maps a lifecycle refusal by its side's table, and treats a refusal the table lacks as a bug", () => {
    const refusal = new LifecycleRefusal(REFUSAL_CODES.NOT_CANCELLABLE, 'tenant x is purged');
    expect(refusalError(refusal, { NOT_CANCELLABLE: 'OPERATION.NOT_CANCELLABLE' })).toMatchObject({
      code: 'OPERATION.NOT_CANCELLABLE',
      status: 409,
      message: 'tenant x is purged',
    });
    expect(() => refusalError(refusal, {})).toThrow('unexpected code NOT_CANCELLABLE');
  });
});
