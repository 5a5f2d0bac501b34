/**
 * Where a group's time went, logged at debug level per group (`gitopsGroup`) and per batch of reads
 * (`gitopsReads`): the oldest change's wait for the locks, each phase summed over the attempts, the attempts,
 * the pushes the remote refused, how many of those were rebased (the commit made again on the new tip, only
 * the changes whose paths the other writer touched run again: `rerun` counts them) or redone (the whole group
 * run again on the new tip), and the git processes the group spawned.
 */
export class GroupTimings {
  private readonly started = performance.now();
  private lockedAt = this.started;
  private readonly phases: Record<string, number> = {};
  attempts = 0;
  refused = 0;
  rebased = 0;
  redone = 0;
  rerun = 0;
  processes = 0;

  locked(queuedAt: readonly number[]): void {
    this.lockedAt = performance.now();
    this.phases.lockMs = this.lockedAt - this.started;
    this.phases.queuedMs = this.lockedAt - Math.min(this.lockedAt, ...queuedAt);
  }

  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.phases[phase] = (this.phases[phase] ?? 0) + performance.now() - started;
    }
  }

  done(size: number): Record<string, number> {
    const rounded = Object.fromEntries(
      Object.entries(this.phases).map(([phase, ms]) => [phase, Math.round(ms)]),
    );
    return {
      size,
      attempts: this.attempts,
      refused: this.refused,
      rebased: this.rebased,
      redone: this.redone,
      rerun: this.rerun,
      processes: this.processes,
      ...rounded,
      heldMs: Math.round(performance.now() - this.lockedAt),
    };
  }
}
