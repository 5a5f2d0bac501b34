import { parseAllDocuments } from 'yaml';
import { objectViolations } from '@app/kube';
import { abcCorporation } from '../testing/fixtures';
import {
  application,
  applicationSet,
  applicationSetElement,
  renderTenantRegistration,
} from './argocd-application';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from './render-options';
import { KUSTOMIZATION, namespaceFiles, renderIndexes, workloadFiles } from './tenant-tree';

const options = DEFAULT_RENDER_OPTIONS;
const tenant = abcCorporation('premium');

describe('spec 2.1 Argo CD', () => {
  const finalizer = 'resources-finalizer.argocd.argoproj.io';
  type AppSpec = { project: string; source: Record<string, unknown>; destination: Record<string, string> };
  type AppSetSpec = {
    goTemplate?: boolean;
    generators: Record<string, unknown>[];
    template: { metadata: Record<string, unknown>; spec: AppSpec };
  };

  it('ApplicationSet: a git files generator over tenants/*/config.json; the template has a kustomize source and the finalizer', () => {
    const appSet = applicationSet(options);
    expect(appSet.metadata).toEqual({ name: 'tenant-applications', namespace: 'argocd' });
    const spec = appSet.spec as AppSetSpec;
    // No tenant in the object: it is the same for every fleet, so a tenant's commit never touches it.
    expect(spec.generators).toEqual([
      {
        git: {
          repoURL: 'https://github.com/company/e-commerce-manifests',
          revision: 'HEAD',
          files: [{ path: 'tenants/*/config.json' }],
        },
      },
    ]);
    // fasttemplate: `{{tenant}}` is a key of the config file, not Go's `{{.tenant}}`.
    expect(spec.goTemplate).toBeUndefined();
    // No `helm` block (it would make Argo CD look for a Helm chart): kustomize is detected from the tree.
    expect(spec.template).toEqual({
      metadata: {
        name: 'tenant-{{tenant}}',
        labels: { tenant: '{{tenant}}', tier: '{{tier}}' },
        finalizers: [finalizer],
      },
      spec: {
        project: 'tenants',
        source: {
          repoURL: 'https://github.com/company/e-commerce-manifests',
          targetRevision: 'HEAD',
          path: 'tenants/{{tenant}}',
        },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'e-commerce-{{tenant}}' },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          syncOptions: ['CreateNamespace=true', 'ApplyOutOfSyncOnly=true'],
        },
      },
    });
    expect(objectViolations(appSet)).toEqual([]);
  });

  it("a tenant's config.json holds the list element's parameters, keys in a fixed order", () => {
    const content = renderTenantRegistration(applicationSetElement(tenant));
    expect(content).toBe(
      '{\n  "tenant": "abc-corporation-7f3a9c",\n  "tier": "premium",\n' +
        '  "domain": "abc-corporation.collectverything.com",\n  "region": "us-east"\n}\n',
    );
    const shuffled = { region: 'us-east', domain: tenant.domain, tier: 'premium', tenant: tenant.tenantId };
    expect(renderTenantRegistration(shuffled)).toBe(content);
  });

  it("the tree's kustomization never lists config.json, and config.json alone makes no kustomization", () => {
    const withConfig = new Set(['namespace.yaml', 'config.json']);
    const rendered = renderIndexes(tenant, options, withConfig)['kustomization.yaml'];
    expect(rendered).toBe(renderIndexes(tenant, options, new Set(['namespace.yaml']))['kustomization.yaml']);
    expect(renderIndexes(tenant, options, new Set(['config.json']))['kustomization.yaml']).toBeNull();
  });

  it('the Application the generator makes from a config.json is the one Application mode commits', () => {
    // What Argo CD's fasttemplate does: every `{{key}}` of the template replaced by the config file's value.
    const parameters = JSON.parse(renderTenantRegistration(applicationSetElement(tenant))) as Record<
      string,
      string
    >;
    const fill = (text: string) => text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => parameters[key]);
    const template = (applicationSet(options).spec as AppSetSpec).template;
    const generated = JSON.parse(fill(JSON.stringify(template))) as Record<string, unknown>;
    const app = application(tenant, options);
    expect(generated).toEqual({
      metadata: { ...app.metadata, namespace: undefined },
      spec: app.spec,
    });
  });

  it('per-tenant Application: the same kustomize source, and the finalizer so that deleting it prunes', () => {
    const app = application(tenant, options);
    expect(app.metadata).toEqual({
      name: 'tenant-abc-corporation-7f3a9c',
      namespace: 'argocd',
      labels: { tenant: 'abc-corporation-7f3a9c', tier: 'premium' },
      finalizers: [finalizer],
    });
    expect((app.spec as AppSpec).source).toEqual({
      repoURL: 'https://github.com/company/e-commerce-manifests',
      targetRevision: 'HEAD',
      path: 'tenants/abc-corporation-7f3a9c',
    });
    expect(objectViolations(app)).toEqual([]);
  });

  it('repository, revision, project and namespace come from the options, in both modes', () => {
    const configured: RenderOptions = {
      ...options,
      gitRepoUrl: 'git@git.example.com:platform/shop-manifests.git',
      gitRevision: 'release-7',
      argoProject: 'shops',
      argoNamespace: 'gitops',
    };
    const appSet = applicationSet(configured);
    const app = application(tenant, configured);
    expect(appSet.metadata.namespace).toBe('gitops');
    expect(app.metadata.namespace).toBe('gitops');
    for (const spec of [(appSet.spec as AppSetSpec).template.spec, app.spec as AppSpec]) {
      expect(spec.project).toBe('shops');
      expect(spec.source).toMatchObject({
        repoURL: 'git@git.example.com:platform/shop-manifests.git',
        targetRevision: 'release-7',
      });
      expect(Object.keys(spec.source).sort()).toEqual(['path', 'repoURL', 'targetRevision']);
    }
    expect((appSet.spec as AppSetSpec).generators[0]).toEqual({
      git: {
        repoURL: 'git@git.example.com:platform/shop-manifests.git',
        revision: 'release-7',
        files: [{ path: 'tenants/*/config.json' }],
      },
    });
    expect(objectViolations(appSet)).toEqual([]);
    expect(objectViolations(app)).toEqual([]);
  });

  it("the spec's helm parameters (tenant.id, tenant.tier, tenant.domain) are what the kustomization renders", () => {
    const files = [...namespaceFiles(tenant, options), ...workloadFiles(tenant, options)];
    const index = renderIndexes(tenant, options, new Set(files.map((file) => file.path)))[KUSTOMIZATION];
    const kustomization = parseAllDocuments(index ?? '')[0].toJSON() as {
      commonLabels: Record<string, string>;
      labels: { pairs: Record<string, string> }[];
      configMapGenerator: { name: string; literals: string[] }[];
    };
    expect(kustomization.configMapGenerator[0]).toMatchObject({ name: 'tenant-config' });
    expect(kustomization.configMapGenerator[0].literals).toEqual(
      expect.arrayContaining([
        'TENANT_ID=abc-corporation-7f3a9c',
        'TENANT_TIER=premium',
        'TENANT_DOMAIN=abc-corporation.collectverything.com',
      ]),
    );
    expect(kustomization.commonLabels.tenant).toBe('abc-corporation-7f3a9c');
    expect(kustomization.labels[0].pairs).toEqual({ tier: 'premium' });
  });
});
