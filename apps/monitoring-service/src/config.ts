import { localCredential } from '@app/platform';
import { gitOpsEnv, kubeEnv } from '@app/kube';
import { SECRET_STORE_ENV } from '@app/secrets';
import { z } from 'zod';

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const configSchema = z.object({
  MONITORING_DELIVERY: z.enum(['gitops', 'direct']).default('gitops'),
  ...gitOpsEnv('monitoring-service'),
  ...kubeEnv(),
  GRAFANA_URL: z.string().url().default('http://grafana.e-commerce-monitoring:3000'),
  GRAFANA_ADMIN_TOKEN: localCredential(z.string(), ''),
  GRAFANA_ORG_ID: int(1),
  // Grafana viewer passwords must outlive the process and be shared by every replica: never memory by default.
  ...SECRET_STORE_ENV,
});
export type MonitoringConfig = z.infer<typeof configSchema>;
