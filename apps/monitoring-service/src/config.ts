import { gitOpsEnv, kubeEnv } from '@app/kube';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** An unset variable may reach the process as an empty string (compose files, Helm values). */
const optionalCredential = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z.string().min(1).optional(),
);

/**
 * How the service authenticates to Grafana. It calls the server admin API (`/api/admin/users`: create, delete,
 * set a password), which in Grafana OSS only a server administrator reached through basic auth may call:
 * service accounts are limited to an organisation and cannot be granted server admin. So basic auth
 * (GRAFANA_ADMIN_USER + GRAFANA_ADMIN_PASSWORD) is the form for Grafana OSS; GRAFANA_ADMIN_TOKEN remains for
 * a Grafana whose access control lets a token call that API (Enterprise RBAC).
 */
export type GrafanaCredentials = { token: string } | { user: string; password: string };

const BOTH_FORMS =
  'GRAFANA_ADMIN_USER with GRAFANA_ADMIN_PASSWORD (a Grafana server admin, basic auth) or GRAFANA_ADMIN_TOKEN';

function checkGrafanaCredentials(production: boolean) {
  return (
    config: { GRAFANA_ADMIN_TOKEN?: string; GRAFANA_ADMIN_USER?: string; GRAFANA_ADMIN_PASSWORD?: string },
    ctx: z.RefinementCtx,
  ): void => {
    const { GRAFANA_ADMIN_TOKEN: token, GRAFANA_ADMIN_USER: user, GRAFANA_ADMIN_PASSWORD: password } = config;
    if ((user === undefined) !== (password === undefined)) {
      const [missing, present] =
        user === undefined
          ? ['GRAFANA_ADMIN_USER', 'GRAFANA_ADMIN_PASSWORD']
          : ['GRAFANA_ADMIN_PASSWORD', 'GRAFANA_ADMIN_USER'];
      ctx.addIssue({ code: 'custom', path: [missing], message: `required with ${present} (basic auth)` });
      return;
    }
    if (token !== undefined && user !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['GRAFANA_ADMIN_TOKEN'],
        message: `set exactly one form of Grafana credentials, not both: ${BOTH_FORMS}`,
      });
      return;
    }
    if (production && token === undefined && user === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['GRAFANA_ADMIN_TOKEN'],
        message: `Grafana credentials are required under NODE_ENV=production: set ${BOTH_FORMS}`,
      });
    }
  };
}

/**
 * The schema; under `NODE_ENV=production` (read when it is built, as `localCredential` does) one form of
 * Grafana credentials is required, elsewhere none is (a local Grafana then sees an empty token).
 */
export function buildConfigSchema(env: NodeJS.ProcessEnv = process.env) {
  return z
    .object({
      MONITORING_DELIVERY: z.enum(['gitops', 'direct']).default('gitops'),
      ...gitOpsEnv('monitoring-service'),
      ...kubeEnv(),
      GRAFANA_URL: z.string().url().default('http://grafana.e-commerce-monitoring:3000'),
      GRAFANA_ADMIN_TOKEN: optionalCredential,
      GRAFANA_ADMIN_USER: optionalCredential,
      GRAFANA_ADMIN_PASSWORD: optionalCredential,
      GRAFANA_ORG_ID: int(1),
      // Grafana viewer passwords must outlive the process and be shared by every replica: never memory by default.
      ...SECRET_STORE_ENV,
    })
    .superRefine(checkGrafanaCredentials(env.NODE_ENV === 'production'));
}

export const configSchema = buildConfigSchema();
export type MonitoringConfig = z.infer<typeof configSchema>;

/** The credentials a validated configuration gives: basic auth when a user is set, else the token. */
export function grafanaCredentialsFrom(config: MonitoringConfig): GrafanaCredentials {
  if (config.GRAFANA_ADMIN_USER !== undefined && config.GRAFANA_ADMIN_PASSWORD !== undefined) {
    return { user: config.GRAFANA_ADMIN_USER, password: config.GRAFANA_ADMIN_PASSWORD };
  }
  return { token: config.GRAFANA_ADMIN_TOKEN ?? '' };
}
