import { retryWhileUnavailable } from './startup-retry';

class Down extends Error {}

function failing(times: number, error: Error = new Down('refused')) {
  let calls = 0;
  const attempt = jest.fn(async () => {
    calls += 1;
    if (calls <= times) throw error;
    return 'up';
  });
  return attempt;
}

const isUnavailable = (error: unknown) => error instanceof Down;

describe('retryWhileUnavailable', () => {
  it('tries once when the timeout is 0', async () => {
    const attempt = failing(1);
    await expect(retryWhileUnavailable(attempt, { timeoutMs: 0, isUnavailable, what: 'x' })).rejects.toThrow(
      'refused',
    );
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('tries again while the server is unavailable, logging each retry, and returns once it answers', async () => {
    const attempt = failing(2);
    const warn = jest.fn();
    const logger = { warn } as unknown as Parameters<typeof retryWhileUnavailable>[1]['logger'];
    await expect(
      retryWhileUnavailable(attempt, { timeoutMs: 5_000, isUnavailable, what: 'db', logger }),
    ).resolves.toBe('up');
    expect(attempt).toHaveBeenCalledTimes(3);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[0][1]).toBe('db unavailable at start-up; trying again');
  });

  it('fails at once on any other error', async () => {
    const attempt = failing(1, new Error('password authentication failed'));
    await expect(
      retryWhileUnavailable(attempt, { timeoutMs: 5_000, isUnavailable, what: 'x' }),
    ).rejects.toThrow('password authentication failed');
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('gives up with the last error once the timeout has passed', async () => {
    const attempt = failing(Number.MAX_SAFE_INTEGER);
    await expect(
      retryWhileUnavailable(attempt, { timeoutMs: 600, isUnavailable, what: 'x' }),
    ).rejects.toThrow('refused');
    expect(attempt.mock.calls.length).toBeGreaterThanOrEqual(2);
  });
});
