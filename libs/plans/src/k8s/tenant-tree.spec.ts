import { BUSINESS_SERVICES, TIERS } from '@app/contracts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { objectViolations } from '@app/kube';
import { abcCorporation } from '../testing/fixtures';
import { applicationSet, applicationSetElement, renderTenantRegistration } from './argocd-application';
import { DEFAULT_RENDER_OPTIONS } from './render-options';
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
