import { loadConfig } from '@app/platform';
import { z } from 'zod';

/**
 * The console's own settings, validated at start-up with the rest of the app's configuration. Kept beside the
 * console so the feature stays one folder; the schema merges into `configSchema` without change if preferred.
 */
export const consoleConfigSchema = z.object({
  /** Grafana as a browser reaches it; tenant dashboards live in the folder `tenant-<tenantId>`. */
  GRAFANA_PUBLIC_URL: z.url({ protocol: /^https?$/ }).default('http://grafana.e-commerce-monitoring:3000'),
  /** How often a live tenant stream looks for new events. */
  CONSOLE_STREAM_POLL_MS: z.coerce.number().int().min(100).max(10_000).default(500),
});

export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

export function loadConsoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  return loadConfig(consoleConfigSchema, env);
}
