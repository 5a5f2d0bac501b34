import { ConfigError, loadConfig } from '@app/platform';
import { configSchema } from './config';
import { renderOptionsFrom } from './wiring';

describe('k8s-service configuration', () => {
  it('does not trust a commit as proof of health unless told to (fails closed)', () => {
    expect(loadConfig(configSchema, {}).K8S_VERIFY_TRUST_COMMIT).toBe(false);
    expect(loadConfig(configSchema, { K8S_VERIFY_TRUST_COMMIT: 'true' }).K8S_VERIFY_TRUST_COMMIT).toBe(true);
  });
});

describe('k8s-service secret store configuration', () => {
  it('names a ClusterSecretStore of this project by default, reading e-commerce-shared', () => {
    const config = loadConfig(configSchema, {});
    expect(config.CLUSTER_SECRET_STORE).toBe('tenant-secrets');
    expect(config.CLUSTER_SECRET_STORE_NAMESPACE).toBe('e-commerce-shared');
  });

  it('refuses a store namespace other than the one the Kubernetes secret store writes to', () => {
    const env = { SECRET_STORE_URL: 'kubernetes://e-commerce-shared' };
    expect(loadConfig(configSchema, env).CLUSTER_SECRET_STORE_NAMESPACE).toBe('e-commerce-shared');
    expect(() => loadConfig(configSchema, { ...env, CLUSTER_SECRET_STORE_NAMESPACE: 'elsewhere' })).toThrow(
      /CLUSTER_SECRET_STORE_NAMESPACE/,
    );
  });
});

describe('k8s-service Argo CD configuration', () => {
  const issues = (env: NodeJS.ProcessEnv): { variable: string; message: string }[] => {
    try {
      loadConfig(configSchema, env);
    } catch (error) {
      if (error instanceof ConfigError) return error.issues;
      throw error;
    }
    return [];
  };

  it('refuses ARGOCD_SOURCE_TYPE=helm at start-up, saying why; kustomize or unset is accepted', () => {
    expect(issues({ ARGOCD_SOURCE_TYPE: 'helm' })).toEqual([
      {
        variable: 'ARGOCD_SOURCE_TYPE',
        message: expect.stringMatching(/kustomize tree.*helm block as a Helm chart/),
      },
    ]);
    expect(issues({ ARGOCD_SOURCE_TYPE: 'kustomize' })).toEqual([]);
    expect(issues({})).toEqual([]);
  });

  it('requires ARGOCD_REPO_URL under NODE_ENV=production with gitops delivery, naming it', () => {
    expect(issues({ NODE_ENV: 'production' })).toContainEqual({
      variable: 'ARGOCD_REPO_URL',
      message: expect.stringMatching(/required under NODE_ENV=production/),
    });
    // Reported alongside another bad variable, not only once the others are fixed.
    expect(
      issues({ NODE_ENV: 'production', ARGOCD_PROJECT: 'Bad_Name' })
        .map((i) => i.variable)
        .sort(),
    ).toEqual(['ARGOCD_PROJECT', 'ARGOCD_REPO_URL']);
    const url = 'git@git.example.com:platform/shop-manifests.git';
    expect(loadConfig(configSchema, { NODE_ENV: 'production', ARGOCD_REPO_URL: url }).ARGOCD_REPO_URL).toBe(
      url,
    );
    expect(issues({ NODE_ENV: 'production', K8S_DELIVERY: 'direct' }).map((i) => i.variable)).not.toContain(
      'ARGOCD_REPO_URL',
    );
    // Local runs keep the spec's example repository (wiring's render options fill it in).
    expect(loadConfig(configSchema, {}).ARGOCD_REPO_URL).toBeUndefined();
  });

  it('validates the repository URL (without echoing it), the revision and the DNS-1123 names', () => {
    const secretUrl = 'https://deploy:s3cr3t@git.example.com/platform/manifests.git';
    const refused = issues({ ARGOCD_REPO_URL: secretUrl });
    expect(refused.map((issue) => issue.variable)).toEqual(['ARGOCD_REPO_URL']);
    expect(JSON.stringify(refused)).not.toContain('s3cr3t');
    expect(issues({ ARGOCD_REPO_URL: 'github.com/company/manifests' })[0]?.variable).toBe('ARGOCD_REPO_URL');
    expect(issues({ ARGOCD_REVISION: 'main..x' })[0]?.variable).toBe('ARGOCD_REVISION');
    expect(issues({ ARGOCD_PROJECT: 'Tenants_Prod' })[0]?.variable).toBe('ARGOCD_PROJECT');
    expect(issues({ ARGOCD_NAMESPACE: 'argo.cd' })[0]?.variable).toBe('ARGOCD_NAMESPACE');
    expect(
      loadConfig(configSchema, {
        ARGOCD_PROJECT: 'shops',
        ARGOCD_NAMESPACE: 'gitops',
        ARGOCD_REVISION: 'v2',
      }),
    ).toMatchObject({ ARGOCD_PROJECT: 'shops', ARGOCD_NAMESPACE: 'gitops', ARGOCD_REVISION: 'v2' });
  });
});

describe('k8s-service NetworkPolicy configuration', () => {
  const issueVariables = (env: NodeJS.ProcessEnv): string[] => {
    try {
      loadConfig(configSchema, env);
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.map((issue) => issue.variable);
      throw error;
    }
    return [];
  };

  it('defaults to the documented cluster facts, mapped into the render options', () => {
    expect(renderOptionsFrom(loadConfig(configSchema, {})).network).toEqual({
      sharedNamespace: 'e-commerce-shared',
      sharedCidrs: { mysql: [], rabbitmq: [], minio: [] },
      ingressControllerNamespace: 'ingress-nginx',
      ingressControllerPodLabels: { 'app.kubernetes.io/name': 'ingress-nginx' },
      monitoringNamespace: 'monitoring',
      podCidrs: ['10.244.0.0/16'],
      serviceCidrs: ['10.96.0.0/12'],
      privateCidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'],
    });
  });

  it('reads every variable: comma-separated CIDRs, key=value pod labels, namespace names', () => {
    const network = renderOptionsFrom(
      loadConfig(configSchema, {
        NETWORK_POLICY_SHARED_NAMESPACE: 'platform-data',
        NETWORK_POLICY_MYSQL_CIDRS: '10.20.0.0/24, 10.21.0.0/24',
        NETWORK_POLICY_RABBITMQ_CIDRS: '10.30.0.0/28',
        NETWORK_POLICY_MINIO_CIDRS: '10.40.0.4/32',
        NETWORK_POLICY_INGRESS_NAMESPACE: 'kube-system',
        NETWORK_POLICY_INGRESS_POD_LABELS:
          'app.kubernetes.io/name=traefik,app.kubernetes.io/instance=traefik',
        NETWORK_POLICY_MONITORING_NAMESPACE: 'observability',
        NETWORK_POLICY_POD_CIDRS: '10.42.0.0/16',
        NETWORK_POLICY_SERVICE_CIDRS: '10.43.0.0/16',
        NETWORK_POLICY_PRIVATE_CIDRS: '',
      }),
    ).network;
    expect(network).toEqual({
      sharedNamespace: 'platform-data',
      sharedCidrs: {
        mysql: ['10.20.0.0/24', '10.21.0.0/24'],
        rabbitmq: ['10.30.0.0/28'],
        minio: ['10.40.0.4/32'],
      },
      ingressControllerNamespace: 'kube-system',
      ingressControllerPodLabels: {
        'app.kubernetes.io/name': 'traefik',
        'app.kubernetes.io/instance': 'traefik',
      },
      monitoringNamespace: 'observability',
      podCidrs: ['10.42.0.0/16'],
      serviceCidrs: ['10.43.0.0/16'],
      privateCidrs: [],
    });
  });

  it.each([
    ['NETWORK_POLICY_POD_CIDRS', '10.244.0.1/16'],
    ['NETWORK_POLICY_SERVICE_CIDRS', '10.96.0.0/33'],
    ['NETWORK_POLICY_PRIVATE_CIDRS', '10.0.0.0/8,fd00::/8'],
    ['NETWORK_POLICY_MYSQL_CIDRS', '0.0.0.0/0'],
    ['NETWORK_POLICY_MINIO_CIDRS', '10.40.0.4'],
    ['NETWORK_POLICY_SHARED_NAMESPACE', 'E-Commerce_Shared'],
    ['NETWORK_POLICY_INGRESS_NAMESPACE', 'ingress.nginx'],
    ['NETWORK_POLICY_MONITORING_NAMESPACE', ''],
    ['NETWORK_POLICY_INGRESS_POD_LABELS', 'app.kubernetes.io/name'],
    ['NETWORK_POLICY_INGRESS_POD_LABELS', ''],
    ['NETWORK_POLICY_INGRESS_POD_LABELS', 'bad key=ingress-nginx'],
  ])('refuses %s=%j at start-up, naming the variable', (variable, value) => {
    expect(issueVariables({ [variable]: value })).toEqual([variable]);
  });
});
