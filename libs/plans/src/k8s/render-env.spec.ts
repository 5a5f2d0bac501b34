import { foldTenant, LifecycleRefusal } from '@app/lifecycle';
import { ConfigError } from '@app/platform';
import { provisionedTenant } from '@app/tenancy';
import { computePlan } from '../plan/compute-plan';
import type { PlanChange, TenantPlan } from '../plan/plan.types';
import { CUSTOM_RENDER_ENV } from '../testing/fixtures';
import { K8S_SERVICE_FIELD_MANAGER, loadRenderOptions } from './render-env';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from './render-options';

function issues(env: NodeJS.ProcessEnv): { variable: string; message: string }[] {
  try {
    loadRenderOptions(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('the render variables', () => {
  it("unset, give the builders' defaults", () => {
    expect(loadRenderOptions({})).toEqual(DEFAULT_RENDER_OPTIONS);
  });

  it('map every variable into the render options', () => {
    expect(loadRenderOptions(CUSTOM_RENDER_ENV)).toEqual({
      ...DEFAULT_RENDER_OPTIONS,
      imageTag: 'v7.1.0',
      imageRepository: 'registry.example.com/shops',
      gitRepoUrl: 'git@git.example.com:platform/shop-manifests.git',
      gitRevision: 'release/7',
      credentialsMode: 'secret',
      clusterSecretStore: 'shop-secrets',
      managedBy: K8S_SERVICE_FIELD_MANAGER,
      network: {
        ...DEFAULT_RENDER_OPTIONS.network,
        sharedCidrs: { mysql: ['10.20.0.0/24'], rabbitmq: [], minio: [] },
        ingressControllerNamespace: 'kube-system',
        ingressControllerPodLabels: { 'app.kubernetes.io/name': 'traefik' },
        podCidrs: ['10.42.0.0/16'],
        serviceCidrs: ['10.43.0.0/16'],
      },
    } satisfies RenderOptions);
  });

  it('refuses bad values naming each variable, never echoing a repository URL', () => {
    const refused = issues({
      IMAGE_TAG: 'v1;rm',
      IMAGE_REPOSITORY: 'Registry/Shops',
      ARGOCD_REPO_URL: 'https://deploy:s3cr3t@git.example.com/manifests.git',
      NETWORK_POLICY_POD_CIDRS: '10.42.0.1/16',
      K8S_DELIVERY: 'kubectl',
    });
    expect(refused.map((issue) => issue.variable).sort()).toEqual([
      'ARGOCD_REPO_URL',
      'IMAGE_REPOSITORY',
      'IMAGE_TAG',
      'K8S_DELIVERY',
      'NETWORK_POLICY_POD_CIDRS',
    ]);
    expect(JSON.stringify(refused)).not.toContain('s3cr3t');
  });
});

describe('a plan rendered with the render variables', () => {
  const state = foldTenant(
    provisionedTenant('render-shop-7e1a2b', 'standard', '2025-03-01T10:00:00Z', 20_000).events.map(
      (event) => ({
        ...event,
        metadata: event.metadata ?? {},
      }),
    ),
  );
  const plan = (change: PlanChange, options: RenderOptions): TenantPlan => {
    const result = computePlan(state, change, {
      options,
      now: new Date('2025-03-10T12:00:00.000Z'),
      gracePeriodDays: 30,
    });
    if (result instanceof LifecycleRefusal) throw result;
    return result;
  };
  const gateway = (result: TenantPlan) =>
    result.kubernetes.changes.find((change) => change.kind === 'Deployment' && change.name === 'api-gateway');

  it("shows the configured image repository and tag as the workloads' current images", () => {
    const result = plan({ kind: 'image-tag', imageTag: 'v8.0.0' }, loadRenderOptions(CUSTOM_RENDER_ENV));
    expect(gateway(result)?.fields).toContainEqual({
      path: 'spec.template.spec.containers[0].image',
      before: 'registry.example.com/shops/api-gateway:v7.1.0',
      after: 'registry.example.com/shops/api-gateway:v8.0.0',
    });
    const defaults = plan({ kind: 'image-tag', imageTag: 'v8.0.0' }, loadRenderOptions({}));
    expect(gateway(defaults)?.fields).toContainEqual(
      expect.objectContaining({ before: `ecommerce/api-gateway:${DEFAULT_RENDER_OPTIONS.imageTag}` }),
    );
  });

  it('labels the objects as the delivery mode does (managed-by the service when applied directly)', () => {
    const direct = gateway(plan({ kind: 'tier', tier: 'premium' }, loadRenderOptions(CUSTOM_RENDER_ENV)));
    expect(direct?.diff).toContain(`managed-by: ${K8S_SERVICE_FIELD_MANAGER}`);
    const gitops = gateway(plan({ kind: 'tier', tier: 'premium' }, loadRenderOptions({})));
    expect(gitops?.diff).toContain('managed-by: argocd');
    expect(gitops?.diff).not.toContain(K8S_SERVICE_FIELD_MANAGER);
  });
});
