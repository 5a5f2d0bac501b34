import { abcCorporation } from '../testing/fixtures';
import { INGRESS_ANNOTATIONS, certificate, ingress } from './ingress';
import { DEFAULT_RENDER_OPTIONS } from './render-options';

const options = DEFAULT_RENDER_OPTIONS;
const tenant = abcCorporation('premium');

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
