import { z } from 'zod';

/**
 * The secret store's variables, spread into the config schema of every app that uses one: where it is
 * (`postgres://…?schema=…` for the encrypted store, `kubernetes://<namespace>` for Kubernetes Secrets,
 * `memory:` for tests) and, for the encrypted store, its key.
 */
export const SECRET_STORE_ENV = {
  SECRET_STORE_URL: z
    .string()
    .min(1)
    .default('postgres://postgres@127.0.0.1:5432/postgres?schema=secret_store'),
  /** Base64 of 32 bytes; required by the PostgreSQL secret store (checked when the store is built). */
  SECRET_STORE_KEY: z.string().optional(),
};
