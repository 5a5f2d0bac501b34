import { Writable } from 'node:stream';
import pino from 'pino';
import type { BaseConfig } from './definitions';
import { ShutdownDeadline } from './shutdown.module';

function deadline(seconds: number) {
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }),
  );
  return { lines, guard: new ShutdownDeadline({ SHUTDOWN_TIMEOUT_SECONDS: seconds } as BaseConfig, logger) };
}

describe('ShutdownDeadline', () => {
  afterEach(() => jest.useRealTimers());

  it('exits 1 with an error line once SHUTDOWN_TIMEOUT_SECONDS passed after the signal', () => {
    jest.useFakeTimers();
    const { lines, guard } = deadline(2);
    const exit = jest.fn();
    guard.listen(['SIGUSR2'], exit);
    process.emit('SIGUSR2');
    jest.advanceTimersByTime(1999);
    expect(exit).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(exit).toHaveBeenCalledWith(1);
    expect(lines.join('')).toContain('shutdown did not finish before its deadline');
    void guard.onApplicationShutdown();
  });

  it('is not armed without a signal, and stops listening once the context shut down', async () => {
    jest.useFakeTimers();
    const { guard } = deadline(1);
    const exit = jest.fn();
    const before = process.listenerCount('SIGUSR2');
    guard.listen(['SIGUSR2'], exit);
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    await guard.onApplicationShutdown();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
    jest.advanceTimersByTime(5000);
    expect(exit).not.toHaveBeenCalled();
  });
});
