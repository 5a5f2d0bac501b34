import { gitOpsEnv, kubeEnv } from '@app/kube';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';
import { NAMESPACE_PLACEHOLDER, type TenantDataSourceSettings } from '@app/plans';

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

/** The tenant's data source must carry its namespace, in a header or in the URL, or it would see every tenant. */
function checkTenantDataSource(
  config: { GRAFANA_TENANT_DATASOURCE_URL: string; GRAFANA_TENANT_DATASOURCE_HEADER: string },
  ctx: z.RefinementCtx,
): void {
  const template = config.GRAFANA_TENANT_DATASOURCE_URL;
  let url: URL | undefined;
  try {
    url = new URL(template.split(NAMESPACE_PLACEHOLDER).join('namespace'));
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol)) {
    ctx.addIssue({
      code: 'custom',
      path: ['GRAFANA_TENANT_DATASOURCE_URL'],
      message: `an http(s) URL, ${NAMESPACE_PLACEHOLDER} standing for the tenant's namespace`,
    });
  } else if (config.GRAFANA_TENANT_DATASOURCE_HEADER === '' && !template.includes(NAMESPACE_PLACEHOLDER)) {
    ctx.addIssue({
      code: 'custom',
      path: ['GRAFANA_TENANT_DATASOURCE_URL'],
      message:
        `with GRAFANA_TENANT_DATASOURCE_HEADER empty, the URL must contain ${NAMESPACE_PLACEHOLDER}: ` +
        'a tenant data source without its namespace would read every tenant',
    });
  }
}

/** How tenant data sources reach Prometheus, from a validated configuration. */
export function tenantDataSourceSettingsFrom(config: MonitoringConfig): TenantDataSourceSettings {
  return {
    urlTemplate: config.GRAFANA_TENANT_DATASOURCE_URL,
    header: config.GRAFANA_TENANT_DATASOURCE_HEADER,
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
      // The main organisation: where Grafana's auto_assign_org puts new users by default, and where tenants
      // shared one organisation before each got its own (their folders are removed from it with the tenant).
      GRAFANA_ORG_ID: int(1),
      // The label-enforcing proxy in front of Prometheus (prom-label-proxy `-label namespace`), see
      // `TenantDataSourceSettings`: by default it reads the namespace from a header Grafana sets.
      GRAFANA_TENANT_DATASOURCE_URL: z
        .string()
        .min(1)
        .default('http://prom-label-proxy.e-commerce-monitoring:8080'),
      GRAFANA_TENANT_DATASOURCE_HEADER: z
        .string()
        .regex(/^([A-Za-z0-9-]+)?$/, 'an HTTP header name, or empty for none')
        .default('X-Namespace'),
      // Grafana viewer passwords must outlive the process and be shared by every replica: never memory by default.
      ...SECRET_STORE_ENV,
    })
    .superRefine(checkGrafanaCredentials(env.NODE_ENV === 'production'))
    .superRefine(checkTenantDataSource);
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
