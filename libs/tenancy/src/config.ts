import { baseConfigSchema } from '@app/platform';
import { z } from 'zod';

/**
 * The variables of the tenancy use cases, read alike by the API and tenantctl: where the event store and the
 * read model live, and the grace period an operator's cancellation starts.
 */
export const TENANCY_ENV = {
  /** `postgres://...`, `esdb://...` or `memory:` (DESIGN.md section 4), checked as in every other process. */
  EVENTSTORE_URL: baseConfigSchema.shape.EVENTSTORE_URL,
  EVENTSTORE_SCHEMA: baseConfigSchema.shape.EVENTSTORE_SCHEMA,
  /** Where the tenant read model lives: a PostgreSQL URL or `memory:`. */
  READ_MODEL_URL: z.string().min(1).default('postgres://postgres@127.0.0.1:5432/provisioning'),
  READ_MODEL_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('provisioning_api'),
  GRACE_PERIOD_DAYS: z.coerce.number().int().min(1).max(365).default(30),
};

/** pino's levels; each program picks its default (the API `info`, tenantctl `warn`). */
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
