import { type KubeObject, ManifestError, assertValidObject, objectViolations } from './schema';

const deployment = (labels: Record<string, string> = { app: 'api-gateway' }): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api-gateway', namespace: 'e-commerce-t' },
  spec: {
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: { containers: [{ name: 'api-gateway', image: 'ecommerce/api-gateway:v1.2.3' }] },
    },
  },
});

describe('objectViolations', () => {
  it('accepts a valid object of a known kind', () => {
    expect(objectViolations(deployment())).toEqual([]);
  });

  it('reports an unknown kind', () => {
    expect(objectViolations({ apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual([
      'no schema for v1/Widget',
    ]);
  });

  it('reports what the official schema catches: a wrong field type', () => {
    const broken = { ...deployment(), spec: { ...(deployment().spec as object), replicas: 'three' } };
    expect(objectViolations(broken).join()).toMatch(/^schema: /);
  });

  it('reports bad label values nested in selectors and pod templates', () => {
    const violations = objectViolations(deployment({ app: 'x'.repeat(64) }));
    expect(violations.join('\n')).toMatch(/spec.selector.matchLabels.app/);
    expect(violations.join('\n')).toMatch(/spec.template.metadata.labels.app/);
  });

  it('checks CRD kinds too (ServiceMonitor selector)', () => {
    const monitor: KubeObject = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'tenant-monitoring', namespace: 'e-commerce-t' },
      spec: { selector: { matchLabels: { tenant: 'bad value' } }, endpoints: [{ port: 'metrics' }] },
    };
    expect(objectViolations(monitor).join()).toMatch(/spec.selector.matchLabels.tenant/);
  });
});

describe('assertValidObject', () => {
  it('throws a ManifestError with a stable code and every violation', () => {
    const bad: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Bad_Name' } };
    let thrown: unknown;
    try {
      assertValidObject(bad);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ManifestError);
    expect(thrown).toMatchObject({ code: 'K8S.INVALID_MANIFEST' });
    expect((thrown as ManifestError).violations.join()).toMatch(/DNS-1123 label/);
    expect(() => assertValidObject(deployment())).not.toThrow();
  });
});
