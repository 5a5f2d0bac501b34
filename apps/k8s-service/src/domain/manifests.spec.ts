import { BUSINESS_SERVICES, TIERS, TIER_CATALOG, parseQuantity } from '@app/contracts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { objectViolations, type KubeObject } from '@app/kube';
import { secretNameForPath } from '@app/secrets';
import { abcCorporation } from '../testing/fixtures';
import {
  INGRESS_ANNOTATIONS,
  apiGatewayDeployment,
  application,
  applicationSet,
  applicationSetElement,
  renderTenantRegistration,
  certificate,
  databaseExternalSecret,
  deployments,
  externalSecrets,
  ingress,
  limitRange,
  markedNamespace,
  migrationJob,
  credentialsSecret,
  namespace,
  resourceQuota,
  services,
  tenantConfigMap,
} from './manifests';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from './render-options';
import {
  KUSTOMIZATION,
  type ManifestFile,
  fileContent,
  ingressFiles,
  namespaceFiles,
  renderIndexes,
  tenantTreeRoot,
  toYaml,
  workloadFiles,
} from './tenant-tree';

const options = DEFAULT_RENDER_OPTIONS;
const tenant = abcCorporation('premium');

function allObjects(tier: (typeof TIERS)[number], opts: RenderOptions = options): KubeObject[] {
  const profile = abcCorporation(tier);
  return [
    ...namespaceFiles(profile, opts),
    ...workloadFiles(profile, opts),
    ...ingressFiles(profile, opts),
  ].flatMap((file) => file.objects);
}

describe('spec 2.1 Namespace', () => {
  it('has the labels and annotations of the spec', () => {
    expect(namespace(tenant, options)).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'e-commerce-abc-corporation-7f3a9c',
        labels: {
          tenant: 'abc-corporation-7f3a9c',
          tier: 'premium',
          environment: 'production',
          'managed-by': 'argocd',
          region: 'us-east',
        },
        annotations: {
          domain: 'abc-corporation.collectverything.com',
          'subscription-id': 'sub_abc123',
          'created-date': '2025-01-15T10:00:00Z',
          'billing-email': 'billing@abc-corp.com',
        },
      },
    });
  });

  it('adds the deprovisioning annotations and the label the purge CronJob selects on', () => {
    const marked = markedNamespace(tenant, options, {
      deprovisioningDate: '2025-06-15T10:00:00Z',
      deletionDate: '2025-07-15T00:00:00Z',
    });
    expect(marked.metadata.annotations).toMatchObject({
      deprovisioning: 'true',
      'deprovisioning-date': '2025-06-15T10:00:00Z',
      'deletion-date': '2025-07-15T00:00:00Z',
      'backup-required': 'true',
      domain: 'abc-corporation.collectverything.com',
    });
    expect(marked.metadata.labels).toMatchObject({
      deprovisioning: 'true',
      tenant: 'abc-corporation-7f3a9c',
    });
    expect(objectViolations(marked)).toEqual([]);
  });
});

describe('spec 2.2 quota and limits', () => {
  it('premium quota is exactly the spec', () => {
    expect(resourceQuota(tenant, options).spec).toEqual({
      hard: {
        'requests.cpu': '6',
        'requests.memory': '12Gi',
        'limits.cpu': '12',
        'limits.memory': '24Gi',
        'requests.storage': '500Gi',
        persistentvolumeclaims: '20',
        'services.loadbalancers': '2',
        'services.nodeports': '0',
        pods: '100',
        replicationcontrollers: '20',
        'deployments.apps': '20',
        'statefulsets.apps': '10',
      },
    });
    expect(resourceQuota(tenant, options).metadata.name).toBe('tenant-quota');
  });

  it.each(TIERS)('%s quota comes from the tier catalog', (tier) => {
    expect(resourceQuota(abcCorporation(tier), options).spec).toEqual({ hard: TIER_CATALOG[tier].quota });
  });

  it('limit range is exactly the spec', () => {
    const lr = limitRange(tenant, options);
    expect(lr.metadata.name).toBe('tenant-limits');
    expect(lr.spec).toEqual({
      limits: [
        {
          max: { cpu: '4', memory: '8Gi' },
          min: { cpu: '100m', memory: '128Mi' },
          default: { cpu: '1', memory: '1Gi' },
          defaultRequest: { cpu: '500m', memory: '512Mi' },
          type: 'Container',
        },
        { max: { storage: '100Gi' }, min: { storage: '1Gi' }, type: 'PersistentVolumeClaim' },
      ],
    });
  });
});

describe('spec 3.2 / 3.3 database objects', () => {
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

  it('auth-db-credentials is the spec ExternalSecret, keyed by the Secret the secret store writes for the path', () => {
    const key = secretNameForPath('/e-commerce/tenants/abc-corporation-7f3a9c/auth-db');
    expect(key).toMatch(/^e-commerce-tenants-abc-corporation-7f3a9c-auth-db-[0-9a-f]{10}$/);
    expect(databaseExternalSecret(tenant, 'auth', options).spec).toEqual({
      secretStoreRef: { name: 'tenant-secrets', kind: 'ClusterSecretStore' },
      target: { name: 'auth-db-credentials', creationPolicy: 'Owner' },
      data: [
        { secretKey: 'DB_HOST', remoteRef: { key, property: 'host' } },
        { secretKey: 'DB_PORT', remoteRef: { key, property: 'port' } },
        { secretKey: 'DB_DATABASE', remoteRef: { key, property: 'database' } },
        { secretKey: 'DB_USERNAME', remoteRef: { key, property: 'username' } },
        { secretKey: 'DB_PASSWORD', remoteRef: { key, property: 'password' } },
      ],
    });
  });

  it('one ExternalSecret per business service, plus minio, rabbitmq and the admin credentials', () => {
    const names = externalSecrets(tenant, options).map((object) => object.metadata.name);
    expect(names).toEqual([
      ...BUSINESS_SERVICES.map((s) => `${s}-db-credentials`),
      'minio-credentials',
      'rabbitmq-credentials',
      'auth-admin-credentials',
    ]);
  });

  it('minio and rabbitmq credentials extract the whole secret the storage/broker services stored (no value rendered)', () => {
    const byName = Object.fromEntries(externalSecrets(tenant, options).map((o) => [o.metadata.name, o]));
    expect(byName['minio-credentials'].spec).toEqual({
      secretStoreRef: { name: 'tenant-secrets', kind: 'ClusterSecretStore' },
      target: { name: 'minio-credentials', creationPolicy: 'Owner' },
      dataFrom: [{ extract: { key: secretNameForPath('/e-commerce/tenants/abc-corporation-7f3a9c/minio') } }],
    });
    expect((byName['rabbitmq-credentials'].spec as { dataFrom: unknown }).dataFrom).toEqual([
      { extract: { key: secretNameForPath('/e-commerce/tenants/abc-corporation-7f3a9c/rabbitmq') } },
    ]);
    expect((byName['auth-admin-credentials'].spec as { dataFrom: unknown }).dataFrom).toEqual([
      { extract: { key: secretNameForPath('/e-commerce/tenants/abc-corporation-7f3a9c/admin-initial') } },
    ]);
  });

  it('plain Secret mode renders spec 4.3 keys only, from the stored values', () => {
    const secret = credentialsSecret('minio-credentials', tenant, options, {
      MINIO_ENDPOINT: 'minio.e-commerce-shared.svc.cluster.local:9000',
      MINIO_ACCESS_KEY: 'abc-corporation-7f3a9c-app-user',
      MINIO_SECRET_KEY: 's3cr3t',
      MINIO_USE_SSL: 'false',
      MINIO_BUCKET_PRODUCTS: 'abc-corporation-7f3a9c-products',
      MINIO_BUCKET_SAV: 'abc-corporation-7f3a9c-sav',
      MINIO_BUCKET_NEWSLETTERS: 'abc-corporation-7f3a9c-newsletters',
      UNRELATED: 'x',
    });
    expect(Object.keys(secret.stringData as object)).toHaveLength(7);
    expect(secret.type).toBe('Opaque');
    expect(objectViolations(secret)).toEqual([]);
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

describe('spec 7 TLS and ingress', () => {
  it('certificate', () => {
    const cert = certificate(tenant, options);
    expect(cert.metadata.name).toBe('tenant-tls');
    expect(cert.spec).toEqual({
      secretName: 'tenant-tls-secret',
      issuerRef: { name: 'letsencrypt-prod', kind: 'ClusterIssuer' },
      dnsNames: ['abc-corporation.collectverything.com', 'www.abc-corporation.collectverything.com'],
    });
  });

  it('ingress has the seven annotations, nginx class, TLS and both rules to api-gateway:8100', () => {
    const ing = ingress(tenant, options);
    expect(ing.metadata.name).toBe('tenant-ingress');
    expect(ing.metadata.annotations).toEqual({
      'cert-manager.io/cluster-issuer': 'letsencrypt-prod',
      'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
      'nginx.ingress.kubernetes.io/proxy-body-size': '50m',
      'nginx.ingress.kubernetes.io/rate-limit': '100',
      'nginx.ingress.kubernetes.io/proxy-connect-timeout': '30',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '30',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '30',
    });
    expect(Object.keys(INGRESS_ANNOTATIONS)).toHaveLength(7);
    const hosts = ['abc-corporation.collectverything.com', 'www.abc-corporation.collectverything.com'];
    const rule = (host: string) => ({
      host,
      http: {
        paths: [
          {
            path: '/',
            pathType: 'Prefix',
            backend: { service: { name: 'api-gateway', port: { number: 8100 } } },
          },
        ],
      },
    });
    expect(ing.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts, secretName: 'tenant-tls-secret' }],
      rules: hosts.map(rule),
    });
  });
});

describe('spec 2.1 Argo CD', () => {
  const finalizer = 'resources-finalizer.argocd.argoproj.io';
  type AppSpec = { project: string; source: Record<string, unknown>; destination: Record<string, string> };
  type AppSetSpec = {
    goTemplate?: boolean;
    generators: Record<string, unknown>[];
    template: { metadata: Record<string, unknown>; spec: AppSpec };
  };

  it('ApplicationSet: a git files generator over tenants/*/config.json; the template has a kustomize source and the finalizer', () => {
    const appSet = applicationSet(options);
    expect(appSet.metadata).toEqual({ name: 'tenant-applications', namespace: 'argocd' });
    const spec = appSet.spec as AppSetSpec;
    // No tenant in the object: it is the same for every fleet, so a tenant's commit never touches it.
    expect(spec.generators).toEqual([
      {
        git: {
          repoURL: 'https://github.com/company/e-commerce-manifests',
          revision: 'HEAD',
          files: [{ path: 'tenants/*/config.json' }],
        },
      },
    ]);
    // fasttemplate: `{{tenant}}` is a key of the config file, not Go's `{{.tenant}}`.
    expect(spec.goTemplate).toBeUndefined();
    // No `helm` block (it would make Argo CD look for a Helm chart): kustomize is detected from the tree.
    expect(spec.template).toEqual({
      metadata: {
        name: 'tenant-{{tenant}}',
        labels: { tenant: '{{tenant}}', tier: '{{tier}}' },
        finalizers: [finalizer],
      },
      spec: {
        project: 'tenants',
        source: {
          repoURL: 'https://github.com/company/e-commerce-manifests',
          targetRevision: 'HEAD',
          path: 'tenants/{{tenant}}',
        },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'e-commerce-{{tenant}}' },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          syncOptions: ['CreateNamespace=true', 'ApplyOutOfSyncOnly=true'],
        },
      },
    });
    expect(objectViolations(appSet)).toEqual([]);
  });

  it("a tenant's config.json holds the list element's parameters, keys in a fixed order", () => {
    const content = renderTenantRegistration(applicationSetElement(tenant));
    expect(content).toBe(
      '{\n  "tenant": "abc-corporation-7f3a9c",\n  "tier": "premium",\n' +
        '  "domain": "abc-corporation.collectverything.com",\n  "region": "us-east"\n}\n',
    );
    const shuffled = { region: 'us-east', domain: tenant.domain, tier: 'premium', tenant: tenant.tenantId };
    expect(renderTenantRegistration(shuffled)).toBe(content);
  });

  it("the tree's kustomization never lists config.json, and config.json alone makes no kustomization", () => {
    const withConfig = new Set(['namespace.yaml', 'config.json']);
    const rendered = renderIndexes(tenant, options, withConfig)['kustomization.yaml'];
    expect(rendered).toBe(renderIndexes(tenant, options, new Set(['namespace.yaml']))['kustomization.yaml']);
    expect(renderIndexes(tenant, options, new Set(['config.json']))['kustomization.yaml']).toBeNull();
  });

  it('the Application the generator makes from a config.json is the one Application mode commits', () => {
    // What Argo CD's fasttemplate does: every `{{key}}` of the template replaced by the config file's value.
    const parameters = JSON.parse(renderTenantRegistration(applicationSetElement(tenant))) as Record<
      string,
      string
    >;
    const fill = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => parameters[key]);
    const template = (applicationSet(options).spec as AppSetSpec).template;
    const generated = JSON.parse(fill(JSON.stringify(template))) as Record<string, unknown>;
    const app = application(tenant, options);
    expect(generated).toEqual({
      metadata: { ...app.metadata, namespace: undefined },
      spec: app.spec,
    });
  });

  it('per-tenant Application: the same kustomize source, and the finalizer so that deleting it prunes', () => {
    const app = application(tenant, options);
    expect(app.metadata).toEqual({
      name: 'tenant-abc-corporation-7f3a9c',
      namespace: 'argocd',
      labels: { tenant: 'abc-corporation-7f3a9c', tier: 'premium' },
      finalizers: [finalizer],
    });
    expect((app.spec as AppSpec).source).toEqual({
      repoURL: 'https://github.com/company/e-commerce-manifests',
      targetRevision: 'HEAD',
      path: 'tenants/abc-corporation-7f3a9c',
    });
    expect(objectViolations(app)).toEqual([]);
  });

  it('repository, revision, project and namespace come from the options, in both modes', () => {
    const configured: RenderOptions = {
      ...options,
      gitRepoUrl: 'git@git.example.com:platform/shop-manifests.git',
      gitRevision: 'release-7',
      argoProject: 'shops',
      argoNamespace: 'gitops',
    };
    const appSet = applicationSet(configured);
    const app = application(tenant, configured);
    expect(appSet.metadata.namespace).toBe('gitops');
    expect(app.metadata.namespace).toBe('gitops');
    for (const spec of [(appSet.spec as AppSetSpec).template.spec, app.spec as AppSpec]) {
      expect(spec.project).toBe('shops');
      expect(spec.source).toMatchObject({
        repoURL: 'git@git.example.com:platform/shop-manifests.git',
        targetRevision: 'release-7',
      });
      expect(Object.keys(spec.source).sort()).toEqual(['path', 'repoURL', 'targetRevision']);
    }
    expect((appSet.spec as AppSetSpec).generators[0]).toEqual({
      git: {
        repoURL: 'git@git.example.com:platform/shop-manifests.git',
        revision: 'release-7',
        files: [{ path: 'tenants/*/config.json' }],
      },
    });
    expect(objectViolations(appSet)).toEqual([]);
    expect(objectViolations(app)).toEqual([]);
  });

  it("the spec's helm parameters (tenant.id, tenant.tier, tenant.domain) are what the kustomization renders", () => {
    const files = [...namespaceFiles(tenant, options), ...workloadFiles(tenant, options)];
    const index = renderIndexes(tenant, options, new Set(files.map((file) => file.path)))[KUSTOMIZATION];
    const kustomization = parseAllDocuments(index ?? '')[0].toJSON() as {
      commonLabels: Record<string, string>;
      labels: { pairs: Record<string, string> }[];
      configMapGenerator: { name: string; literals: string[] }[];
    };
    expect(kustomization.configMapGenerator[0]).toMatchObject({ name: 'tenant-config' });
    expect(kustomization.configMapGenerator[0].literals).toEqual(
      expect.arrayContaining([
        'TENANT_ID=abc-corporation-7f3a9c',
        'TENANT_TIER=premium',
        'TENANT_DOMAIN=abc-corporation.collectverything.com',
      ]),
    );
    expect(kustomization.commonLabels.tenant).toBe('abc-corporation-7f3a9c');
    expect(kustomization.labels[0].pairs).toEqual({ tier: 'premium' });
  });
});

describe('validation', () => {
  it.each(TIERS)('every %s object passes its official schema and the API server name rules', (tier) => {
    for (const object of allObjects(tier))
      expect({ name: object.metadata.name, violations: objectViolations(object) }).toEqual({
        name: object.metadata.name,
        violations: [],
      });
  });

  it('rejects what the schemas let through: a bad namespace name, a long label value', () => {
    const bad = {
      ...namespace(tenant, options),
      metadata: { ...namespace(tenant, options).metadata, name: 'Bad_Name' },
    };
    expect(objectViolations(bad).join()).toMatch(/DNS-1123 label/);
    const longLabel = {
      ...namespace(tenant, options),
      metadata: { ...namespace(tenant, options).metadata, labels: { tenant: 'x'.repeat(64) } },
    };
    expect(objectViolations(longLabel).join()).toMatch(/not a valid label value/);
    const badSelector = apiGatewayDeployment(tenant, options);
    (badSelector.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels.app =
      'a b';
    expect(objectViolations(badSelector).join()).toMatch(/spec.selector.matchLabels/);
  });

  it('rejects what the schema catches: a wrong field type', () => {
    const broken = { ...resourceQuota(tenant, options), spec: { hard: 'lots' } };
    expect(objectViolations(broken as KubeObject).join()).toMatch(/schema/);
  });
});

describe('kustomize tree (spec 6.1)', () => {
  function present(files: ManifestFile[]): Set<string> {
    return new Set(files.map((file) => file.path));
  }

  it('kustomization lists the spec resources in order, images at the configured tag, tenant-config', () => {
    const files = [
      ...namespaceFiles(tenant, options),
      ...workloadFiles(tenant, options),
      ...ingressFiles(tenant, options),
    ];
    const indexes = renderIndexes(tenant, options, present(files));
    const [doc] = parseAllDocuments(indexes[KUSTOMIZATION]!).map((d) => d.toJSON());
    expect(doc.namespace).toBe('e-commerce-abc-corporation-7f3a9c');
    // Only the stable labels reach selectors: `tier` changes with UpdateQuota and selectors are immutable.
    expect(doc.commonLabels).toEqual({ tenant: 'abc-corporation-7f3a9c', 'managed-by': 'argocd' });
    expect(doc.labels).toEqual([
      { pairs: { tier: 'premium' }, includeSelectors: false, includeTemplates: true },
    ]);
    expect(doc.resources).toEqual([
      'namespace.yaml',
      'resource-quota.yaml',
      'limit-range.yaml',
      'network-policy.yaml',
      'external-secrets.yaml',
      'deployments/api-gateway.yaml',
      ...BUSINESS_SERVICES.map((s) => `deployments/${s}-service.yaml`),
      'deployments/messages-broker.yaml',
      'services/',
      'ingress.yaml',
      'certificate.yaml',
      'migration-job.yaml',
    ]);
    expect(doc.images[0]).toEqual({ name: 'ecommerce/api-gateway', newTag: 'v1.2.3' });
    expect(doc.images).toHaveLength(13);
    expect(doc.configMapGenerator).toEqual([
      {
        name: 'tenant-config',
        literals: [
          'TENANT_ID=abc-corporation-7f3a9c',
          'TENANT_TIER=premium',
          'TENANT_DOMAIN=abc-corporation.collectverything.com',
          'APP_ENV=production',
          'APP_DEBUG=false',
          'LOG_LEVEL=info',
        ],
      },
    ]);
    expect(parseAllDocuments(indexes['services/kustomization.yaml']!)[0].toJSON().resources).toHaveLength(13);
  });

  it('before the workloads step only the namespace files are listed; with nothing left, no index', () => {
    const indexes = renderIndexes(tenant, options, present(namespaceFiles(tenant, options)));
    expect(parseAllDocuments(indexes[KUSTOMIZATION]!)[0].toJSON().resources).toEqual([
      'namespace.yaml',
      'resource-quota.yaml',
      'limit-range.yaml',
      'network-policy.yaml',
    ]);
    expect(indexes['services/kustomization.yaml']).toBeNull();
    expect(renderIndexes(tenant, options, new Set())[KUSTOMIZATION]).toBeNull();
  });

  it('lists monitoring/ once the monitoring service wrote its kustomization', () => {
    const paths = present(namespaceFiles(tenant, options));
    paths.add('monitoring/kustomization.yaml');
    expect(
      parseAllDocuments(renderIndexes(tenant, options, paths)[KUSTOMIZATION]!)[0].toJSON().resources,
    ).toContain('monitoring/');
  });
});

/** Golden files: everything a tenant gets, per tier, for a reviewer to read. UPDATE_GOLDEN=1 rewrites them. */
describe('golden files', () => {
  it.each(TIERS)('%s', (tier) => {
    const profile = abcCorporation(tier);
    const files = [
      ...namespaceFiles(profile, options),
      ...workloadFiles(profile, options),
      ...ingressFiles(profile, options),
    ];
    const indexes = renderIndexes(profile, options, new Set(files.map((f) => f.path)));
    const root = tenantTreeRoot(profile.tenantId);
    const sections = [
      ...Object.entries(indexes)
        .sort(([a], [b]) => a.length - b.length)
        .map(([path, content]) => `# ${root}/${path}\n${content ?? ''}`),
      ...files.map((file) => `# ${root}/${file.path}\n${fileContent(file)}`),
      `# ${root}/config.json\n${renderTenantRegistration(applicationSetElement(profile))}`,
      `# applicationsets/tenant-applications.yaml\n${toYaml([applicationSet(options)])}`,
    ];
    const rendered = sections.join('---\n');
    for (const file of files) for (const object of file.objects) expect(objectViolations(object)).toEqual([]);
    // The golden file parses back into exactly the rendered objects.
    const parsed = parseAllDocuments(rendered).map((doc) => doc.toJSON());
    expect(parsed.filter((d) => d.kind === 'Deployment')).toHaveLength(13);
    const path = join(__dirname, '__golden__', `${tier}.yaml`);
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(join(__dirname, '__golden__'), { recursive: true });
      writeFileSync(path, rendered);
    }
    // A missing golden file fails (it is never silently recreated): UPDATE_GOLDEN=1 writes it on purpose.
    expect(existsSync(path)).toBe(true);
    expect(rendered).toBe(readFileSync(path, 'utf8'));
  });
});
