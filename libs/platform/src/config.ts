import { z } from 'zod';

/** Raised at start-up when the environment does not satisfy an app's schema; names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads an app's configuration once, from the environment (twelve-factor), with local defaults in the
 * schema. Error messages name the variable but never echo its value (it may be a secret).
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: issue.path.join('.') || '(root)',
        message: issue.message,
      })),
    );
  }
  return result.data;
}

/** Boolean environment variables: `true/false/1/0/yes/no`. */
export const envBoolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((value) => (value === undefined ? fallback : ['true', '1', 'yes'].includes(value)));

/**
 * A credential with a default for local development only: under `NODE_ENV=production` the variable is
 * required, so a deployment that forgot it fails at start-up (naming it) instead of running with a
 * well-known value.
 */
export function localCredential(
  schema: z.ZodString,
  localValue: string,
  env: NodeJS.ProcessEnv = process.env,
) {
  return env.NODE_ENV === 'production' ? schema : schema.default(localValue);
}
