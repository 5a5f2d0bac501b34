import { TIER_CATALOG, type TenantProfile, type Tier } from '@app/contracts';

/** The spec's example tenant (phase 1.1), at any tier: the builders' golden files are rendered for it. */
export function abcCorporation(tier: Tier = 'premium'): TenantProfile {
  return {
    tenantId: 'abc-corporation-7f3a9c',
    companyName: 'ABC Corporation',
    adminEmail: 'admin@abc-corp.com',
    billingEmail: 'billing@abc-corp.com',
    tier,
    region: 'us-east',
    domain: 'abc-corporation.collectverything.com',
    subscriptionId: 'sub_abc123',
    plan: { price: TIER_CATALOG[tier].plan.monthlyPriceEur, currency: 'EUR', billingPeriod: 'monthly' },
    companySize: '50-200',
    industry: 'retail',
    createdAt: '2025-01-15T10:00:00Z',
  };
}

/** The example tenant under another id, domain and subscription: a neighbour, or a unique tenant to create. */
export function suffixedTenant(suffixHex: string, tier: Tier = 'standard'): TenantProfile {
  return {
    ...abcCorporation(tier),
    tenantId: `test-co-${suffixHex}`,
    companyName: 'Test Co',
    domain: `test-co-${suffixHex}.collectverything.com`,
    subscriptionId: `sub_${suffixHex}`,
  };
}

/**
 * Render variables that differ from every default that shows in a plan (image repository and tag, delivery,
 * hence `managed-by`) and from some that do not (the cluster's network facts): the tests prove the API,
 * tenantctl and the k8s-service read them alike.
 */
export const CUSTOM_RENDER_ENV = {
  K8S_DELIVERY: 'direct',
  CREDENTIALS_MODE: 'secret',
  IMAGE_REPOSITORY: 'registry.example.com/shops',
  IMAGE_TAG: 'v7.1.0',
  ARGOCD_REPO_URL: 'git@git.example.com:platform/shop-manifests.git',
  ARGOCD_REVISION: 'release/7',
  CLUSTER_SECRET_STORE: 'shop-secrets',
  NETWORK_POLICY_INGRESS_NAMESPACE: 'kube-system',
  NETWORK_POLICY_INGRESS_POD_LABELS: 'app.kubernetes.io/name=traefik',
  NETWORK_POLICY_MYSQL_CIDRS: '10.20.0.0/24',
  NETWORK_POLICY_POD_CIDRS: '10.42.0.0/16',
  NETWORK_POLICY_SERVICE_CIDRS: '10.43.0.0/16',
} as const satisfies Record<string, string>;
