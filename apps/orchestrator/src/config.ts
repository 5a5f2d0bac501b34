import { z } from 'zod';

export const orchestratorConfigSchema = z.object({
  /** How often due timers (step deadlines, grace periods, purge retries) are checked. */
  TIMER_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** Attempts of a provisioning step whose failure is retryable, before rolling back. */
  STEP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(2),
  COMPENSATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  GRACE_PERIOD_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  PURGE_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** Guardrail: at most this many purges start per rolling hour, across every tenant. */
  PURGES_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(50),
  /** Guardrail: more than this many cancellations within the window trip the breaker (purges pause). */
  PURGE_BREAKER_CANCELLATIONS: z.coerce.number().int().min(1).max(100_000).default(20),
  PURGE_BREAKER_WINDOW_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(60),
  /** Guardrail: a compacted snapshot of the guardrail stream is written every this many of its events. */
  GUARDRAIL_SNAPSHOT_EVERY: z.coerce.number().int().min(1).max(1_000_000).default(500),
  /** Multiplies every step deadline (e.g. 0.05 in fault-injection tests, so a silent service times out fast). */
  DEADLINE_SCALE: z.coerce.number().positive().max(100).default(1),
  /**
   * Optional file holding an ISO instant or a millisecond offset (`+86400000`) that shifts the orchestrator's
   * clock: lets the demo and the lifecycle tests cross a 30-day grace period without waiting 30 days.
   */
  CLOCK_FILE: z.string().optional(),
  /** How often the staged fleet rollouts are advanced (their tenants observed, the next ones started). */
  ROLLOUT_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  /** Every active tenant is verified again once per this period (seconds), spread evenly; 0: no schedule. */
  ORCHESTRATOR_DRIFT_CHECK_PERIOD_S: z.coerce
    .number()
    .int()
    .min(0)
    .max(90 * 24 * 3600)
    .default(24 * 3600),
  /** Drift checks and repairs in flight at most. */
  ORCHESTRATOR_DRIFT_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).default(4),
  /** No drift check starts while more than this many other commands (provisioning first) are in flight. */
  ORCHESTRATOR_DRIFT_MAX_BUSY_COMMANDS: z.coerce.number().int().min(0).max(100_000).default(20),
});
