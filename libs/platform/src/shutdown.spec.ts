import pino from 'pino';
import { shutdownWithDeadline } from './shutdown';

const logger = pino({ level: 'silent' });

describe('shutdownWithDeadline', () => {
  it('exits 0 once the stop resolves', async () => {
    const codes: number[] = [];
    await shutdownWithDeadline(async () => undefined, {
      deadlineMs: 1000,
      logger,
      exit: (c) => codes.push(c),
    });
    expect(codes).toEqual([0]);
  });

  it('exits 1 at the deadline when the stop never finishes, and only once', async () => {
    const codes: number[] = [];
    await shutdownWithDeadline(() => new Promise<void>(() => undefined), {
      deadlineMs: 50,
      logger,
      exit: (c) => codes.push(c),
    });
    expect(codes).toEqual([1]);
  });

  it('exits 1 when the stop fails, whether it throws or rejects', async () => {
    const codes: number[] = [];
    const exit = (c: number) => codes.push(c);
    await shutdownWithDeadline(() => Promise.reject(new Error('pool end failed')), {
      deadlineMs: 1000,
      logger,
      exit,
    });
    await shutdownWithDeadline(
      () => {
        throw new Error('synchronous');
      },
      { deadlineMs: 1000, logger, exit },
    );
    expect(codes).toEqual([1, 1]);
  });
});
