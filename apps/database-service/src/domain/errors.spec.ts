import { ContractError } from '@app/contracts';
import { domainRefusal, refusingInvalid } from './errors';
import { SqlBuilderError } from '@app/plans';

describe('domainRefusal', () => {
  it("makes the app's typed refusals permanent with their codes", () => {
    expect(domainRefusal(new SqlBuilderError('DATABASE.INVALID_BACKUP_ID', 'bad id'))).toMatchObject({
      code: 'DATABASE.INVALID_BACKUP_ID',
      retryable: false,
      message: 'bad id',
    });
    expect(domainRefusal(new ContractError('CONTRACT.INVALID_TENANT_ID', 'bad tenant'))).toMatchObject({
      code: 'CONTRACT.INVALID_TENANT_ID',
      retryable: false,
    });
  });

  it('leaves any other error to the caller', () => {
    expect(domainRefusal(new Error('connect ECONNREFUSED'))).toBeUndefined();
  });
});

describe('refusingInvalid', () => {
  it('returns the value, turns a typed refusal into a StepError and rethrows anything else as it is', () => {
    expect(refusingInvalid(() => 42)).toBe(42);
    expect(() =>
      refusingInvalid(() => {
        throw new SqlBuilderError('DATABASE.BAD_TIMESTAMP', 'not a date');
      }),
    ).toThrow(expect.objectContaining({ code: 'DATABASE.BAD_TIMESTAMP', retryable: false }));
    const other = new RangeError('other');
    expect(() =>
      refusingInvalid(() => {
        throw other;
      }),
    ).toThrow(other);
  });
});
