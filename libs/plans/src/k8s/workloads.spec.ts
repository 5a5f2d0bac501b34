import { BUSINESS_SERVICES, TIERS, TIER_CATALOG, parseQuantity } from '@app/contracts';
import { abcCorporation } from '../testing/fixtures';
import { apiGatewayDeployment, deployments, migrationJob, services, tenantConfigMap } from './workloads';
import { DEFAULT_RENDER_OPTIONS } from './render-options';

const options = DEFAULT_RENDER_OPTIONS;
const tenant = abcCorporation('premium');

describe('spec 3.2 migration job', () => {
  it('migration job', () => {
    const job = migrationJob(tenant, options);
    expect(job.metadata.name).toBe('tenant-migration-abc-corporation-7f3a9c');
    // Its pod template is immutable: Argo CD must replace it, not patch it, when the image or tier changes.
    expect(job.metadata.annotations).toEqual({
      'argocd.argoproj.io/sync-options': 'Force=true,Replace=true',
    });
    const spec = job.spec as { backoffLimit: number; template: { spec: Record<string, unknown> } };
    expect(spec.backoffLimit).toBe(3);
    expect(spec.template.spec.restartPolicy).toBe('OnFailure');
    const [container] = spec.template.spec.containers as {
      command: string[];
      env: unknown[];
      name: string;
    }[];
    expect(container.name).toBe('migrate');
    expect(container.command).toEqual([
      '/bin/sh',
      '-c',
      'php artisan migrate --force\nphp artisan db:seed --class=InitialDataSeeder --force\n',
    ]);
    expect(container.env).toEqual([
      { name: 'DB_CONNECTION', value: 'mysql' },
      ...['DB_HOST', 'DB_DATABASE', 'DB_USERNAME', 'DB_PASSWORD'].map((key) => ({
        name: key,
        valueFrom: { secretKeyRef: { name: 'auth-db-credentials', key } },
      })),
    ]);
  });
});

describe('spec 6.2 workloads', () => {
  it('api-gateway (premium) is the spec Deployment', () => {
    expect(apiGatewayDeployment(tenant, options).spec).toEqual({
      replicas: 3,
      selector: { matchLabels: { app: 'api-gateway' } },
      template: {
        metadata: { labels: { app: 'api-gateway', version: 'v1.2.3' } },
        spec: {
          containers: [
            {
              name: 'api-gateway',
              image: 'ecommerce/api-gateway:v1.2.3',
              ports: [
                { containerPort: 8100, name: 'http' },
                { containerPort: 9100, name: 'metrics' },
              ],
              env: [
                {
                  name: 'TENANT_ID',
                  valueFrom: { configMapKeyRef: { name: 'tenant-config', key: 'TENANT_ID' } },
                },
                {
                  name: 'DB_HOST',
                  valueFrom: { secretKeyRef: { name: 'auth-db-credentials', key: 'DB_HOST' } },
                },
                {
                  name: 'RABBITMQ_HOST',
                  valueFrom: { secretKeyRef: { name: 'rabbitmq-credentials', key: 'RABBITMQ_HOST' } },
                },
                {
                  name: 'MINIO_ENDPOINT',
                  valueFrom: { secretKeyRef: { name: 'minio-credentials', key: 'MINIO_ENDPOINT' } },
                },
              ],
              resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } },
              livenessProbe: {
                httpGet: { path: '/health', port: 8100 },
                initialDelaySeconds: 30,
                periodSeconds: 10,
              },
              readinessProbe: {
                httpGet: { path: '/ready', port: 8100 },
                initialDelaySeconds: 10,
                periodSeconds: 5,
              },
            },
          ],
        },
      },
    });
  });

  it('thirteen Deployments and Services: api-gateway, the eleven services, messages-broker', () => {
    const names = deployments(tenant, options).map((d) => d.metadata.name);
    expect(names).toEqual([
      'api-gateway',
      ...BUSINESS_SERVICES.map((s) => `${s}-service`),
      'messages-broker',
    ]);
    expect(services(tenant, options).map((s) => s.metadata.name)).toEqual(names);
    const gateway = services(tenant, options)[0];
    expect((gateway.spec as { ports: unknown[] }).ports[0]).toEqual({
      port: 8100,
      targetPort: 8100,
      name: 'http',
    });
  });

  it.each(TIERS)('%s workloads (and the migration job at LimitRange defaults) fit the tier quota', (tier) => {
    const profile = abcCorporation(tier);
    const quota = TIER_CATALOG[tier].quota;
    let requestsCpu = 0;
    let limitsMemory = 0;
    for (const d of deployments(profile, options)) {
      const spec = d.spec as {
        replicas: number;
        template: {
          spec: { containers: { resources: { requests: { cpu: string }; limits: { memory: string } } }[] };
        };
      };
      const res = spec.template.spec.containers[0].resources;
      requestsCpu += spec.replicas * parseQuantity(res.requests.cpu);
      limitsMemory += spec.replicas * parseQuantity(res.limits.memory);
    }
    requestsCpu += parseQuantity(TIER_CATALOG[tier].limitRange.container.defaultRequest.cpu);
    limitsMemory += parseQuantity(TIER_CATALOG[tier].limitRange.container.default.memory);
    expect(requestsCpu).toBeLessThanOrEqual(parseQuantity(quota['requests.cpu']));
    expect(limitsMemory).toBeLessThanOrEqual(parseQuantity(quota['limits.memory']));
  });

  it('tenant-config holds the six literals', () => {
    expect(tenantConfigMap(tenant, options).data).toEqual({
      TENANT_ID: 'abc-corporation-7f3a9c',
      TENANT_TIER: 'premium',
      TENANT_DOMAIN: 'abc-corporation.collectverything.com',
      APP_ENV: 'production',
      APP_DEBUG: 'false',
      LOG_LEVEL: 'info',
    });
  });
});
