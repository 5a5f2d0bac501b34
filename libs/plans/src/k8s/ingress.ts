import { type TenantProfile, wwwHost } from '@app/contracts';
import type { KubeObject } from '@app/kube';
import type { RenderOptions } from './render-options';
import { API_GATEWAY, API_GATEWAY_PORT, objectMeta } from './tenant-objects';

/** The tenant's TLS certificate and ingress (spec 7.1, 7.2). */

export const TLS_SECRET = 'tenant-tls-secret';
export const CLUSTER_ISSUER = 'letsencrypt-prod';

export function certificate(tenant: TenantProfile, options: RenderOptions): KubeObject {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: objectMeta('tenant-tls', tenant, options),
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
    metadata: objectMeta('tenant-ingress', tenant, options, { annotations: { ...INGRESS_ANNOTATIONS } }),
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
