import { permanent, toFailureReason } from './step-error';

describe('toFailureReason', () => {
  it('keeps a StepError as it was written', () => {
    expect(toFailureReason(permanent('DATABASE.REFUSED', 'grant refused'))).toEqual({
      code: 'DATABASE.REFUSED',
      message: 'grant refused',
      retryable: false,
    });
  });

  it('never copies the message of another error into the reason that events keep', () => {
    const driver = new TypeError('request failed: {"password":"hunter2-secret"}');
    const reason = toFailureReason(driver);
    expect(reason).toEqual({
      code: 'UNEXPECTED',
      message: 'unexpected TypeError (details in the service log)',
      retryable: true,
    });
    expect(JSON.stringify(toFailureReason('token=abc123'))).not.toContain('abc123');
  });
});
