import type { Checkpoint, SubscriptionStats } from './types';

/** What every adapter's subscription knows about its progress. */
export interface SubscriptionProgress {
  name: string;
  checkpoint: Checkpoint | undefined;
  delivered: number;
  caughtUp: boolean;
  /** When the last delivered event was recorded (undefined before the first). */
  lastRecordedAt: Date | undefined;
  stopped: boolean;
}

/** Stats of a subscription: the lag is the age of the last delivered event while not caught up, else 0. */
export function subscriptionStats(progress: SubscriptionProgress, now = Date.now()): SubscriptionStats {
  const { lastRecordedAt } = progress;
  const lagMs = progress.caughtUp || !lastRecordedAt ? 0 : Math.max(0, now - lastRecordedAt.getTime());
  return {
    name: progress.name,
    checkpoint: progress.checkpoint,
    delivered: progress.delivered,
    caughtUp: progress.caughtUp,
    lagMs,
    stopped: progress.stopped,
  };
}
