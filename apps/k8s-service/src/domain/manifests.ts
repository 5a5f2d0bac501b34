import {
  BUSINESS_SERVICES,
  type BusinessService,
  TIER_CATALOG,
  type TenantProfile,
  adminInitialSecretPath,
  argoApplicationName,
  brokerSecretPath,
  databaseSecretPath,
  migrationJobName,
  namespaceName,
  storageSecretPath,
  wwwHost,
  type ContainerResources,
} from '@app/contracts';
import type { KubeObject } from '@app/kube';
import { secretNameForPath } from '@app/secrets';
import { DATABASE_SECRET_PROPERTIES, type RenderOptions } from './render-options';
import { EXTERNAL_SECRETS_API_VERSION } from './secret-store';

/**
 * Builders for every Kubernetes object of spec phases 2, 3.2, 3.3, 4.3, 5.3, 6 and 7, with the spec's names,
 * labels, annotations and values, parameterised by the tenant profile and its tier. Pure: no I/O, no clock.
 */

export const API_GATEWAY = 'api-gateway';
export const API_GATEWAY_PORT = 8100;
export const SERVICE_PORT = 8000;
/**
 * Prometheus scrapes the Service port named `metrics` (spec 8.1). It targets a container port of its own, so the
 * NetworkPolicy can open the metrics to the monitoring namespace without opening the application port.
 */
export const METRICS_PORT = 9100;
export const MESSAGES_BROKER = 'messages-broker';
export const TENANT_CONFIG = 'tenant-config';
export const MINIO_CREDENTIALS = 'minio-credentials';
export const RABBITMQ_CREDENTIALS = 'rabbitmq-credentials';
/** The tenant admin's first credentials (ADMIN_LOGIN, TEMPORARY_PASSWORD, …), for the auth seeder. */
export const AUTH_ADMIN_CREDENTIALS = 'auth-admin-credentials';
export const TLS_SECRET = 'tenant-tls-secret';
export const CLUSTER_ISSUER = 'letsencrypt-prod';

export function workloadName(service: BusinessService): string {
  return `${service}-service`;
}
export function dbCredentialsName(service: BusinessService): string {
  return `${service}-db-credentials`;
}
/** Every Deployment of a tenant, in the spec's order (6.1 resources list). */
export function workloadNames(): string[] {
  return [API_GATEWAY, ...BUSINESS_SERVICES.map(workloadName), MESSAGES_BROKER];
}
export function imageName(options: RenderOptions, workload: string): string {
  return `${options.imageRepository}/${workload}`;
}

/** Labels kustomize puts on everything (spec 6.1 commonLabels); rendered explicitly so direct apply matches. */
export function commonLabels(tenant: TenantProfile, options: RenderOptions): Record<string, string> {
  return { tenant: tenant.tenantId, tier: tenant.tier, 'managed-by': options.managedBy };
}

function meta(
  name: string,
  tenant: TenantProfile,
  options: RenderOptions,
  extra: Record<string, unknown> = {},
) {
  return { name, namespace: namespaceName(tenant.tenantId), labels: commonLabels(tenant, options), ...extra };
}

// 2.1 -------------------------------------------------------------------------------------------------------
export function namespace(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: namespaceName(tenant.tenantId),
      labels: {
        tenant: tenant.tenantId,
        tier: tenant.tier,
        environment: 'production',
        'managed-by': options.managedBy,
        region: tenant.region,
      },
      annotations: {
        domain: tenant.domain,
        'subscription-id': tenant.subscriptionId,
        'created-date': tenant.createdAt,
        'billing-email': tenant.billingEmail,
      },
    },
  };
}

// 2.2 -------------------------------------------------------------------------------------------------------
export function resourceQuota(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta('tenant-quota', tenant, options),
    spec: { hard: { ...TIER_CATALOG[tenant.tier].quota } },
  };
}

export function limitRange(tenant: TenantProfile, options: RenderOptions): KubeObject {
  const limits = TIER_CATALOG[tenant.tier].limitRange;
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta('tenant-limits', tenant, options),
    spec: {
      limits: [
        {
          max: { ...limits.container.max },
          min: { ...limits.container.min },
          default: { ...limits.container.default },
          defaultRequest: { ...limits.container.defaultRequest },
          type: 'Container',
        },
        {
          max: { ...limits.persistentVolumeClaim.max },
          min: { ...limits.persistentVolumeClaim.min },
          type: 'PersistentVolumeClaim',
        },
      ],
    },
  };
}

// 2.3 NetworkPolicies: network-policy.ts --------------------------------------------------------------------

// 3.2 -------------------------------------------------------------------------------------------------------
function secretEnv(name: string, secret: string, key = name) {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

/**
 * Argo CD sync option for the migration Job. A Job's pod template is immutable, so a new image tag, or the
 * `tier` label kustomize puts on templates after a tier change, would fail every sync ("field is immutable");
 * `Force=true,Replace=true` makes Argo CD delete and create the Job instead, so the migration runs again for the
 * new image. With the Application's `ApplyOutOfSyncOnly=true` that happens only when the Job itself changed.
 */
export const MIGRATION_JOB_SYNC_OPTIONS = 'Force=true,Replace=true';

/**
 * Spec 3.2. The image is pinned to the configured tag instead of the spec's `:latest` (kustomize's `images`
 * rewrites it to the same tag in GitOps mode; applied directly, `latest` would not be reproducible).
 */
export function migrationJob(tenant: TenantProfile, options: RenderOptions): KubeObject {
  const auth = dbCredentialsName('auth');
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(migrationJobName(tenant.tenantId), tenant, options, {
      annotations: { 'argocd.argoproj.io/sync-options': MIGRATION_JOB_SYNC_OPTIONS },
    }),
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'migrate',
              image: `${imageName(options, workloadName('auth'))}:${options.imageTag}`,
              command: [
                '/bin/sh',
                '-c',
                'php artisan migrate --force\nphp artisan db:seed --class=InitialDataSeeder --force\n',
              ],
              env: [
                { name: 'DB_CONNECTION', value: 'mysql' },
                secretEnv('DB_HOST', auth),
                secretEnv('DB_DATABASE', auth),
                secretEnv('DB_USERNAME', auth),
                secretEnv('DB_PASSWORD', auth),
              ],
              // InitialDataSeeder creates the tenant admin from these (the password the welcome e-mail sends).
              envFrom: [{ secretRef: { name: AUTH_ADMIN_CREDENTIALS } }],
            },
          ],
          restartPolicy: 'OnFailure',
        },
      },
      backoffLimit: 3,
    },
  };
}

// 3.3, 4.3, 5.3 ---------------------------------------------------------------------------------------------
/**
 * Spec 3.3 against the store of secret-store.ts (ESO's kubernetes provider): `remoteRef.key` is the name of
 * the Secret the database-service's KubernetesSecretStore writes for the path, and each property one of the
 * keys it writes there (host, port, database, username, password).
 */
export function databaseExternalSecret(
  tenant: TenantProfile,
  service: BusinessService,
  options: RenderOptions,
): KubeObject {
  const name = dbCredentialsName(service);
  const key = secretNameForPath(databaseSecretPath(tenant.tenantId, service));
  return {
    apiVersion: EXTERNAL_SECRETS_API_VERSION,
    kind: 'ExternalSecret',
    metadata: meta(name, tenant, options),
    spec: {
      secretStoreRef: { name: options.clusterSecretStore, kind: 'ClusterSecretStore' },
      target: { name, creationPolicy: 'Owner' },
      data: DATABASE_SECRET_PROPERTIES.map(([secretKey, property]) => ({
        secretKey,
        remoteRef: { key, property },
      })),
    },
  };
}

/**
 * Spec 4.3 / 5.3 as ExternalSecrets: the storage and broker services store exactly the spec's keys
 * (MINIO_* / RABBITMQ_*) at their secret paths, so the whole Secret written for the path is extracted and no
 * value is rendered. The admin's initial credentials come the same way.
 */
export function extractedExternalSecret(
  name: string,
  path: string,
  tenant: TenantProfile,
  options: RenderOptions,
): KubeObject {
  return {
    apiVersion: EXTERNAL_SECRETS_API_VERSION,
    kind: 'ExternalSecret',
    metadata: meta(name, tenant, options),
    spec: {
      secretStoreRef: { name: options.clusterSecretStore, kind: 'ClusterSecretStore' },
      target: { name, creationPolicy: 'Owner' },
      dataFrom: [{ extract: { key: secretNameForPath(path) } }],
    },
  };
}
export function minioCredentialsExternalSecret(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return extractedExternalSecret(MINIO_CREDENTIALS, storageSecretPath(tenant.tenantId), tenant, options);
}
export function rabbitmqCredentialsExternalSecret(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return extractedExternalSecret(RABBITMQ_CREDENTIALS, brokerSecretPath(tenant.tenantId), tenant, options);
}
export function authAdminCredentialsExternalSecret(
  tenant: TenantProfile,
  options: RenderOptions,
): KubeObject {
  return extractedExternalSecret(
    AUTH_ADMIN_CREDENTIALS,
    adminInitialSecretPath(tenant.tenantId),
    tenant,
    options,
  );
}

/** Keys of spec 4.3 and 5.3, the only ones a plain Secret may carry. */
export const MINIO_SECRET_KEYS = [
  'MINIO_ENDPOINT',
  'MINIO_ACCESS_KEY',
  'MINIO_SECRET_KEY',
  'MINIO_USE_SSL',
  'MINIO_BUCKET_PRODUCTS',
  'MINIO_BUCKET_SAV',
  'MINIO_BUCKET_NEWSLETTERS',
] as const;
export const RABBITMQ_SECRET_KEYS = [
  'RABBITMQ_HOST',
  'RABBITMQ_PORT',
  'RABBITMQ_USER',
  'RABBITMQ_PASSWORD',
  'RABBITMQ_VHOST',
  'RABBITMQ_EXCHANGE',
] as const;

/** Spec 4.3 / 5.3 as plain Secrets, values read from the secret store (direct mode only: never in Git). */
export function credentialsSecret(
  name: typeof MINIO_CREDENTIALS | typeof RABBITMQ_CREDENTIALS,
  tenant: TenantProfile,
  options: RenderOptions,
  values: Record<string, string>,
): KubeObject {
  const keys: readonly string[] = name === MINIO_CREDENTIALS ? MINIO_SECRET_KEYS : RABBITMQ_SECRET_KEYS;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(name, tenant, options),
    type: 'Opaque',
    stringData: Object.fromEntries(
      keys.filter((key) => values[key] !== undefined).map((key) => [key, values[key]]),
    ),
  };
}

export function externalSecrets(tenant: TenantProfile, options: RenderOptions): KubeObject[] {
  return [
    ...BUSINESS_SERVICES.map((service) => databaseExternalSecret(tenant, service, options)),
    minioCredentialsExternalSecret(tenant, options),
    rabbitmqCredentialsExternalSecret(tenant, options),
    authAdminCredentialsExternalSecret(tenant, options),
  ];
}

// 6.1 ConfigMap (kustomize generates it in GitOps mode; applied directly it is rendered) --------------------
export function tenantConfigLiterals(tenant: TenantProfile): [string, string][] {
  return [
    ['TENANT_ID', tenant.tenantId],
    ['TENANT_TIER', tenant.tier],
    ['TENANT_DOMAIN', tenant.domain],
    ['APP_ENV', 'production'],
    ['APP_DEBUG', 'false'],
    ['LOG_LEVEL', 'info'],
  ];
}
export function tenantConfigMap(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(TENANT_CONFIG, tenant, options),
    data: Object.fromEntries(tenantConfigLiterals(tenant)),
  };
}

// 6.2 -------------------------------------------------------------------------------------------------------
function probes(port: number) {
  return {
    livenessProbe: { httpGet: { path: '/health', port }, initialDelaySeconds: 30, periodSeconds: 10 },
    readinessProbe: { httpGet: { path: '/ready', port }, initialDelaySeconds: 10, periodSeconds: 5 },
  };
}
function resources(spec: ContainerResources) {
  return { requests: { ...spec.requests }, limits: { ...spec.limits } };
}

function deployment(
  tenant: TenantProfile,
  options: RenderOptions,
  name: string,
  replicas: number,
  port: number,
  env: unknown[],
  sizing: ContainerResources,
  envFrom?: unknown[],
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name, tenant, options),
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, version: options.imageTag } },
        spec: {
          containers: [
            {
              name,
              image: `${imageName(options, name)}:${options.imageTag}`,
              ports: [
                { containerPort: port, name: 'http' },
                { containerPort: METRICS_PORT, name: 'metrics' },
              ],
              ...(envFrom ? { envFrom } : {}),
              env,
              resources: resources(sizing),
              ...probes(port),
            },
          ],
        },
      },
    },
  };
}

/** Spec 6.2, with replicas and resources from the tier catalog (premium is the spec's 3 / 500m-2 / 512Mi-2Gi). */
export function apiGatewayDeployment(tenant: TenantProfile, options: RenderOptions): KubeObject {
  const sizing = TIER_CATALOG[tenant.tier].workloads.apiGateway;
  return deployment(
    tenant,
    options,
    API_GATEWAY,
    sizing.replicas,
    API_GATEWAY_PORT,
    [
      { name: 'TENANT_ID', valueFrom: { configMapKeyRef: { name: TENANT_CONFIG, key: 'TENANT_ID' } } },
      secretEnv('DB_HOST', dbCredentialsName('auth')),
      secretEnv('RABBITMQ_HOST', RABBITMQ_CREDENTIALS),
      secretEnv('MINIO_ENDPOINT', MINIO_CREDENTIALS),
    ],
    sizing.resources,
  );
}

/** A business service: its own database credentials, the broker and storage credentials, the tenant config. */
export function serviceDeployment(
  tenant: TenantProfile,
  service: BusinessService,
  options: RenderOptions,
): KubeObject {
  const sizing = TIER_CATALOG[tenant.tier].workloads.service;
  return deployment(
    tenant,
    options,
    workloadName(service),
    sizing.replicas,
    SERVICE_PORT,
    [{ name: 'DB_CONNECTION', value: 'mysql' }],
    sizing.resources,
    [
      { configMapRef: { name: TENANT_CONFIG } },
      { secretRef: { name: dbCredentialsName(service) } },
      { secretRef: { name: RABBITMQ_CREDENTIALS } },
      { secretRef: { name: MINIO_CREDENTIALS } },
      // The auth service forces the change of the initial password at first login (MUST_CHANGE_AT_FIRST_LOGIN).
      ...(service === 'auth' ? [{ secretRef: { name: AUTH_ADMIN_CREDENTIALS } }] : []),
    ],
  );
}

export function messagesBrokerDeployment(tenant: TenantProfile, options: RenderOptions): KubeObject {
  const sizing = TIER_CATALOG[tenant.tier].workloads.service;
  return deployment(tenant, options, MESSAGES_BROKER, sizing.replicas, SERVICE_PORT, [], sizing.resources, [
    { configMapRef: { name: TENANT_CONFIG } },
    { secretRef: { name: RABBITMQ_CREDENTIALS } },
  ]);
}

export function deployments(tenant: TenantProfile, options: RenderOptions): KubeObject[] {
  return [
    apiGatewayDeployment(tenant, options),
    ...BUSINESS_SERVICES.map((service) => serviceDeployment(tenant, service, options)),
    messagesBrokerDeployment(tenant, options),
  ];
}

/** Spec 6.2's Service, plus the `metrics` port the ServiceMonitor of 8.1 scrapes. */
export function service(tenant: TenantProfile, options: RenderOptions, name: string): KubeObject {
  const port = name === API_GATEWAY ? API_GATEWAY_PORT : SERVICE_PORT;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name, tenant, options),
    spec: {
      selector: { app: name },
      ports: [
        { port, targetPort: port, name: 'http' },
        { port: METRICS_PORT, targetPort: 'metrics', name: 'metrics' },
      ],
      type: 'ClusterIP',
    },
  };
}
export function services(tenant: TenantProfile, options: RenderOptions): KubeObject[] {
  return workloadNames().map((name) => service(tenant, options, name));
}

// 7.1, 7.2 --------------------------------------------------------------------------------------------------
export function certificate(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: meta('tenant-tls', tenant, options),
    spec: {
      secretName: TLS_SECRET,
      issuerRef: { name: CLUSTER_ISSUER, kind: 'ClusterIssuer' },
      dnsNames: [tenant.domain, wwwHost(tenant.domain)],
    },
  };
}

export const INGRESS_ANNOTATIONS: Readonly<Record<string, string>> = {
  'cert-manager.io/cluster-issuer': CLUSTER_ISSUER,
  'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
  'nginx.ingress.kubernetes.io/proxy-body-size': '50m',
  'nginx.ingress.kubernetes.io/rate-limit': '100',
  'nginx.ingress.kubernetes.io/proxy-connect-timeout': '30',
  'nginx.ingress.kubernetes.io/proxy-send-timeout': '30',
  'nginx.ingress.kubernetes.io/proxy-read-timeout': '30',
};

export function ingress(tenant: TenantProfile, options: RenderOptions): KubeObject {
  const hosts = [tenant.domain, wwwHost(tenant.domain)];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta('tenant-ingress', tenant, options, { annotations: { ...INGRESS_ANNOTATIONS } }),
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts, secretName: TLS_SECRET }],
      rules: hosts.map((host) => ({
        host,
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: API_GATEWAY, port: { number: API_GATEWAY_PORT } } },
            },
          ],
        },
      })),
    },
  };
}

// 2.1 Argo CD ----------------------------------------------------------------------------------------------
/** The cluster Argo CD runs in, as Argo CD names it. */
export const ARGOCD_IN_CLUSTER = 'https://kubernetes.default.svc';
/**
 * While an Application carries this finalizer, deleting it makes Argo CD delete the resources it synced first;
 * without it the tenant's namespace and workloads outlive the Application.
 */
export const ARGOCD_RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/**
 * A tenant's parameters for the ApplicationSet (spec 2.1's list element), committed as the tenant's own
 * `tenants/<id>/config.json`, which the git files generator reads: Argo CD flattens its keys into `{{tenant}}`,
 * `{{tier}}`, `{{domain}}`, `{{region}}`, exactly the parameters the list generator gave.
 */
export interface ApplicationSetElement {
  tenant: string;
  tier: string;
  domain: string;
  region: string;
}
export function applicationSetElement(tenant: TenantProfile): ApplicationSetElement {
  return { tenant: tenant.tenantId, tier: tenant.tier, domain: tenant.domain, region: tenant.region };
}

/** The file's name inside the tenant's tree; kustomize ignores it (the tree's kustomization never lists it). */
export const TENANT_REGISTRATION_FILE = 'config.json';
/** What the git files generator matches: one file per tenant, so a tenant's commit touches only its tree. */
export const TENANT_REGISTRATION_GLOB = `tenants/*/${TENANT_REGISTRATION_FILE}`;

/** `config.json`: the element's keys in a fixed order, so a re-registration writes the same bytes. */
export function renderTenantRegistration(element: ApplicationSetElement): string {
  const { tenant, tier, domain, region } = element;
  return `${JSON.stringify({ tenant, tier, domain, region }, null, 2)}\n`;
}

/**
 * The tenant's Application spec. The source has no tool block: Argo CD detects kustomize from the tree's
 * `kustomization.yaml`, while the spec's `helm` block would force Helm, which fails on a directory without
 * `Chart.yaml`. An empty `kustomize: {}` would change nothing (Argo CD normalises it away) and a filled one
 * would repeat the kustomization. The spec's helm parameters are what the kustomization already does:
 * TENANT_ID, TENANT_TIER and TENANT_DOMAIN in the generated `tenant-config` ConfigMap, the tenant and tier
 * labels, the images' tag.
 */
function applicationSpec(options: RenderOptions, tenant: string) {
  return {
    project: options.argoProject,
    source: { repoURL: options.gitRepoUrl, targetRevision: options.gitRevision, path: `tenants/${tenant}` },
    destination: { server: ARGOCD_IN_CLUSTER, namespace: `e-commerce-${tenant}` },
    // ApplyOutOfSyncOnly: a sync applies only what changed, so the migration Job (Force/Replace) is recreated
    // only when it changed itself, and a large tree is not re-applied whole on every commit.
    syncPolicy: {
      automated: { prune: true, selfHeal: true },
      syncOptions: ['CreateNamespace=true', 'ApplyOutOfSyncOnly=true'],
    },
  };
}

/**
 * Spec 2.1's ApplicationSet with a git files generator instead of the list: one Application per
 * `tenants/<id>/config.json`, so the object is the same whatever the fleet and a tenant is added or removed by its
 * own directory alone. The template is the list generator's, unchanged: fasttemplate (no `goTemplate`), where
 * `{{tenant}}` and `{{tier}}` are the config file's keys (the generator's own `{{path}}`, `{{path.basename}}`
 * parameters are not used). The name stays `tenant-applications`: renaming it would delete the old object and
 * with it every Application it owns.
 * The ApplicationSet controller adds the resources finalizer itself only while the template has no finalizers and
 * `preserveResourcesOnDeletion` is off; the template states it, so removing a tenant's config file prunes its
 * resources whatever that setting says.
 */
export function applicationSet(options: RenderOptions): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: 'tenant-applications', namespace: options.argoNamespace },
    spec: {
      generators: [
        {
          git: {
            repoURL: options.gitRepoUrl,
            revision: options.gitRevision,
            files: [{ path: TENANT_REGISTRATION_GLOB }],
          },
        },
      ],
      template: {
        metadata: {
          name: 'tenant-{{tenant}}',
          labels: { tenant: '{{tenant}}', tier: '{{tier}}' },
          finalizers: [ARGOCD_RESOURCES_FINALIZER],
        },
        spec: applicationSpec(options, '{{tenant}}'),
      },
    },
  };
}

/** The alternative to the ApplicationSet: one Application per tenant, named as the spec's rollback deletes it. */
export function application(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: argoApplicationName(tenant.tenantId),
      namespace: options.argoNamespace,
      labels: { tenant: tenant.tenantId, tier: tenant.tier },
      finalizers: [ARGOCD_RESOURCES_FINALIZER],
    },
    spec: applicationSpec(options, tenant.tenantId),
  };
}

// Deprovisioning (spec "Annotation Namespace") ------------------------------------------------------------
/**
 * The spec's four annotations, plus a `deprovisioning: "true"` label: the spec's purge CronJob selects
 * namespaces with `-l deprovisioning=true`, a label selector, which annotations alone would never match.
 */
export function deprovisioningMetadata(dates: { deprovisioningDate: string; deletionDate: string }): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  return {
    labels: { deprovisioning: 'true' },
    annotations: {
      deprovisioning: 'true',
      'deprovisioning-date': dates.deprovisioningDate,
      'deletion-date': dates.deletionDate,
      'backup-required': 'true',
    },
  };
}

/** The Namespace with the deprovisioning marks merged in (what GitOps commits and direct mode applies). */
export function markedNamespace(
  tenant: TenantProfile,
  options: RenderOptions,
  dates: { deprovisioningDate: string; deletionDate: string } | undefined,
): KubeObject {
  const base = namespace(tenant, options);
  if (!dates) return base;
  const marks = deprovisioningMetadata(dates);
  return {
    ...base,
    metadata: {
      ...base.metadata,
      labels: { ...base.metadata.labels, ...marks.labels },
      annotations: { ...base.metadata.annotations, ...marks.annotations },
    },
  };
}

/** Every tenant workload at zero replicas (suspension keeps the objects, stops the pods). */
export function withReplicas(objects: KubeObject[], replicas: number): KubeObject[] {
  return objects.map((object) =>
    object.kind === 'Deployment'
      ? { ...object, spec: { ...(object.spec as Record<string, unknown>), replicas } }
      : object,
  );
}
