import { TIERS } from '@app/contracts';
import { objectViolations, type KubeObject } from '@app/kube';
import { abcCorporation } from '../testing/fixtures';
import { apiGatewayDeployment, namespace, resourceQuota } from './manifests';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from './render-options';
import { ingressFiles, namespaceFiles, workloadFiles } from './tenant-tree';

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
