import {
  Inject,
  Injectable,
  Module,
  type INestApplicationContext,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from 'pino';
import type { BaseConfig } from './definitions';
import { flushTracing } from '../tracing';
import { CONFIG, LOGGER } from './tokens';

export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * The forced-exit deadline: from the first SIGTERM/SIGINT, SHUTDOWN_TIMEOUT_SECONDS until the process exits
 * with code 1 whatever is still pending. A drain that hangs (a handler stuck on a dead socket, a pool that never
 * empties) must not keep a stopping pod alive until the kubelet's SIGKILL, which would also swallow the last
 * log lines.
 */
@Injectable()
export class ShutdownDeadline implements OnApplicationShutdown {
  private readonly listeners: { signal: string; listener: () => void }[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: BaseConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get deadlineMs(): number {
    return this.config.SHUTDOWN_TIMEOUT_SECONDS * 1000;
  }

  /** Arms the deadline on the first of `signals`; listen before Nest's own listeners so it runs first. */
  listen(signals: readonly string[], exit: (code: number) => void = (code) => process.exit(code)): void {
    for (const signal of signals) {
      const listener = () => this.arm(exit);
      process.once(signal, listener);
      this.listeners.push({ signal, listener });
    }
  }

  arm(exit: (code: number) => void): void {
    this.timer ??= setTimeout(() => {
      this.logger.error(
        { deadlineMs: this.deadlineMs },
        'shutdown did not finish before its deadline; exiting anyway',
      );
      exit(1);
    }, this.deadlineMs);
  }

  /** Last of the shutdown hooks: the spans of the final seconds are exported before the process exits. */
  async onApplicationShutdown(): Promise<void> {
    for (const { signal, listener } of this.listeners.splice(0)) process.removeListener(signal, listener);
    await flushTracing();
  }
}

@Module({ providers: [ShutdownDeadline], exports: [ShutdownDeadline] })
export class ShutdownModule {}

/**
 * SIGTERM or SIGINT closes the context (its `beforeApplicationShutdown` and `onApplicationShutdown` hooks drain
 * and close) and exits 0, or 1 if a hook failed or the deadline passed first.
 */
export function enableGracefulShutdown(app: INestApplicationContext): void {
  app.get(ShutdownDeadline).listen(SHUTDOWN_SIGNALS);
  app.enableShutdownHooks([...SHUTDOWN_SIGNALS], { useProcessExit: true });
}
