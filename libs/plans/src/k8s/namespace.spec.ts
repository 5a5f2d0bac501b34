import { TIERS, TIER_CATALOG } from '@app/contracts';
import { objectViolations } from '@app/kube';
import { abcCorporation } from '../testing/fixtures';
import { limitRange, markedNamespace, namespace, resourceQuota } from './namespace';
import { DEFAULT_RENDER_OPTIONS } from './render-options';

const options = DEFAULT_RENDER_OPTIONS;
const tenant = abcCorporation('premium');

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
