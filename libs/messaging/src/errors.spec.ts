import { classifyError, isRetryable, MessagingError, PermanentError, RetryableError } from './errors';

/** A typed error of another lib whose flag is a getter, as @app/rabbitmq-admin's RabbitManagementError. */
class ForeignError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
  get retryable(): boolean {
    return this.status >= 500;
  }
}

describe('error classification', () => {
  it('retries RetryableError and unknown errors, parks PermanentError at once', () => {
    expect(isRetryable(new RetryableError('X.BUSY', 'busy'))).toBe(true);
    expect(isRetryable(new Error('boom'))).toBe(true);
    expect(isRetryable('a string')).toBe(true);
    expect(isRetryable(new PermanentError('X.INVALID', 'invalid'))).toBe(false);
  });

  it('honours a retryable flag carried by other typed errors', () => {
    expect(isRetryable(new ForeignError(400))).toBe(false);
    expect(isRetryable(new ForeignError(503))).toBe(true);
    expect(isRetryable({ code: 'DATABASE.USER_NAME_TOO_LONG', retryable: false })).toBe(false);
  });

  it('extracts a stable code and a bounded message', () => {
    expect(classifyError(new PermanentError('X.INVALID', 'nope'))).toEqual({
      retryable: false,
      code: 'X.INVALID',
      message: 'nope',
    });
    expect(classifyError(new MessagingError('MESSAGING.UNROUTABLE', 'lost')).code).toBe(
      'MESSAGING.UNROUTABLE',
    );
    expect(classifyError(new TypeError('x')).code).toBe('TypeError');
    expect(classifyError(42)).toEqual({ retryable: true, code: 'UNKNOWN', message: '42' });
    expect(classifyError(new Error('y'.repeat(5000))).message.length).toBeLessThanOrEqual(1003);
  });
});
