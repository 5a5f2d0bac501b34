import type { AuthorizationAttributes, KubeObject } from '@app/kube';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * RBAC as the API server's RBAC authorizer evaluates it (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac,
 * `RuleAllows`), for checking the deploy/ rules against the requests the services were recorded making in the
 * API double (`FakeApiServer.authorizations()`).
 */

/** One recorded authorization check: verb, group, resource, subresource, namespace, name (and the caller). */
export type RecordedAuthorization = AuthorizationAttributes;

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Binding {
  /** undefined: a ClusterRoleBinding, which applies in every namespace and to cluster-scoped resources. */
  namespace?: string;
  name: string;
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: { kind: string; name: string; namespace?: string }[];
}

export interface RbacPolicy {
  /** `ClusterRole/<name>` or `Role/<namespace>/<name>` → rules. */
  roles: Map<string, PolicyRule[]>;
  bindings: Binding[];
}

/** Rules bound by a ClusterRoleBinding: what an account may do in every namespace and cluster-wide. */
export const clusterWide = (rule: ScopedRule) => rule.namespace === undefined;

/** A rule as it applies to one account: everywhere (ClusterRoleBinding) or in one namespace (RoleBinding). */
export interface ScopedRule {
  namespace?: string;
  rule: PolicyRule;
  /** Where it comes from, for messages: `ClusterRole/x via ClusterRoleBinding/y`. */
  source: string;
}

export const CONTROL_PLANE_NAMESPACE = 'provisioning-system';

/** The user name the API server gives a ServiceAccount's token. */
export function serviceAccountUser(name: string, namespace = CONTROL_PLANE_NAMESPACE): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/**
 * What every authenticated caller may do without any rule of ours: the default `system:discovery` ClusterRole
 * (bound to `system:authenticated`), which the API clients' discovery requests need.
 */
export const DEFAULT_DISCOVERY_URLS = [
  '/api',
  '/api/*',
  '/apis',
  '/apis/*',
  '/healthz',
  '/livez',
  '/openapi',
  '/openapi/*',
  '/readyz',
  '/version',
  '/version/',
];

export function loadRbac(objects: KubeObject[]): RbacPolicy {
  const roles = new Map<string, PolicyRule[]>();
  const bindings: Binding[] = [];
  for (const object of objects) {
    if (object.apiVersion !== 'rbac.authorization.k8s.io/v1') continue;
    const { name, namespace } = object.metadata;
    const document = object as unknown as { rules?: PolicyRule[] } & Omit<Binding, 'name' | 'namespace'>;
    switch (object.kind) {
      case 'ClusterRole':
        roles.set(`ClusterRole/${name}`, document.rules ?? []);
        break;
      case 'Role':
        roles.set(`Role/${namespace}/${name}`, document.rules ?? []);
        break;
      case 'ClusterRoleBinding':
      case 'RoleBinding':
        bindings.push({
          ...(object.kind === 'RoleBinding' ? { namespace } : {}),
          name,
          roleRef: document.roleRef,
          subjects: document.subjects ?? [],
        });
        break;
    }
  }
  return { roles, bindings };
}

/** Every YAML document of a multi-document stream. */
export function parseYamlStream(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

const REPO = resolve(__dirname, '..', '..');

/**
 * `kubectl kustomize` of a directory of deploy/ (default: deploy/base) with components, and extra objects beside
 * it: what `kubectl apply -k` would send. They go into a temporary kustomization (kustomize takes only relative
 * paths, and files only under its own root).
 */
export function renderDeploy(
  options: { base?: string; components?: string[]; extra?: KubeObject[] } = {},
): KubeObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'rbac-render-'));
  try {
    const rel = (path: string) => JSON.stringify(relative(dir, resolve(REPO, path)));
    const extra = options.extra?.length ? ['extra.yaml'] : [];
    if (extra.length > 0) {
      writeFileSync(join(dir, 'extra.yaml'), options.extra!.map((o) => JSON.stringify(o)).join('\n---\n'));
    }
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `resources: [${[rel(options.base ?? join('deploy', 'base')), ...extra].join(', ')}]`,
        `components: [${(options.components ?? []).map(rel).join(', ')}]`,
        '',
      ].join('\n'),
    );
    return parseYamlStream(
      execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr;
    throw new Error(`kubectl kustomize failed: ${stderr || (error as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const DIRECT_DELIVERY_COMPONENT = join('deploy', 'components', 'direct-delivery');

/** The two Deployments the direct-delivery component patches, reduced to what the patch needs. */
function deploymentStub(app: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app, namespace: CONTROL_PLANE_NAMESPACE },
    spec: { template: { spec: { containers: [{ name: 'app' }] } } },
  };
}

/**
 * The RBAC of deploy/base/rbac as shipped (production), or with the direct-delivery component. Rendered on its
 * own, so the check does not depend on the rest of deploy/ (the component's Deployment patches land on stubs).
 */
export function deployRbac(variant: 'production' | 'direct-delivery'): RbacPolicy {
  const base = join('deploy', 'base', 'rbac');
  return loadRbac(
    variant === 'production'
      ? renderDeploy({ base })
      : renderDeploy({
          base,
          components: [DIRECT_DELIVERY_COMPONENT],
          extra: [deploymentStub('k8s-service'), deploymentStub('monitoring-service')],
        }),
  );
}

/** The rules that apply to a ServiceAccount, with where they apply. */
export function rulesFor(policy: RbacPolicy, serviceAccount: string, namespace = CONTROL_PLANE_NAMESPACE) {
  const rules: ScopedRule[] = [];
  for (const binding of policy.bindings) {
    const bound = binding.subjects.some(
      (subject) =>
        subject.kind === 'ServiceAccount' &&
        subject.name === serviceAccount &&
        subject.namespace === namespace,
    );
    if (!bound) continue;
    const key =
      binding.roleRef.kind === 'ClusterRole'
        ? `ClusterRole/${binding.roleRef.name}`
        : `Role/${binding.namespace}/${binding.roleRef.name}`;
    const bindingKind = binding.namespace === undefined ? 'ClusterRoleBinding' : 'RoleBinding';
    const source = `${key} via ${bindingKind}/${binding.namespace ? `${binding.namespace}/` : ''}${binding.name}`;
    const roleRules = policy.roles.get(key);
    if (!roleRules) throw new Error(`${source}: the role does not exist`);
    for (const rule of roleRules) rules.push({ namespace: binding.namespace, rule, source });
  }
  return rules;
}

const has = (values: string[] | undefined, value: string) =>
  (values ?? []).includes('*') || (values ?? []).includes(value);

/** `RuleAllows`: verb, group, resource[/subresource] and name, or a non-resource URL. */
export function ruleAllows(rule: PolicyRule, request: RecordedAuthorization): boolean {
  if (!has(rule.verbs, request.verb)) return false;
  if (!request.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some((url) =>
      url.endsWith('*') ? request.path.startsWith(url.slice(0, -1)) : url === request.path,
    );
  }
  if (!has(rule.apiGroups, request.apiGroup)) return false;
  const combined = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  const resourceMatches = (rule.resources ?? []).some(
    (resource) =>
      resource === '*' ||
      resource === combined ||
      (request.subresource !== '' && resource === `*/${request.subresource}`),
  );
  if (!resourceMatches) return false;
  return !rule.resourceNames?.length || rule.resourceNames.includes(request.name);
}

function applies(scoped: ScopedRule, request: RecordedAuthorization): boolean {
  // A RoleBinding's rules hold in its namespace only (never for cluster-scoped requests, whose namespace is '').
  if (scoped.namespace !== undefined && scoped.namespace !== request.namespace) return false;
  return ruleAllows(scoped.rule, request);
}

export function describeRequest(request: RecordedAuthorization): string {
  if (!request.resourceRequest) return `${request.verb} ${request.path}`;
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  const group = request.apiGroup || 'core';
  const where = request.namespace ? ` in namespace ${request.namespace}` : ' (cluster-wide)';
  return `${request.verb} ${group}/${resource}${request.name ? ` ${request.name}` : ''}${where}`;
}

/** Requests the account may not make, described (distinct), in the order first seen. */
export function deniedRequests(
  policy: RbacPolicy,
  serviceAccount: string,
  requests: RecordedAuthorization[],
): string[] {
  const rules = rulesFor(policy, serviceAccount);
  const discovery: ScopedRule = {
    rule: { verbs: ['get'], nonResourceURLs: DEFAULT_DISCOVERY_URLS },
    source: '',
  };
  const denied = requests
    .filter((request) => !applies(discovery, request) && !rules.some((rule) => applies(rule, request)))
    .map(describeRequest);
  return [...new Set(denied)];
}

/** Each (scope, group, resource, verb, names) a rule grants, spelled out; `*` stays as written. */
function grants(scoped: ScopedRule) {
  const { rule } = scoped;
  const scope = scoped.namespace === undefined ? 'cluster-wide' : `in namespace ${scoped.namespace}`;
  const list: { label: string; probe: (request: RecordedAuthorization) => boolean }[] = [];
  for (const verb of rule.verbs) {
    if (rule.nonResourceURLs?.length) {
      for (const url of rule.nonResourceURLs) {
        list.push({
          label: `${verb} ${url} (${scoped.source})`,
          probe: (request) =>
            applies({ ...scoped, rule: { verbs: [verb], nonResourceURLs: [url] } }, request),
        });
      }
      continue;
    }
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const names = rule.resourceNames?.length ? ` [${rule.resourceNames.join(', ')}]` : '';
        list.push({
          label: `${verb} ${group || 'core'}/${resource}${names} ${scope} (${scoped.source})`,
          probe: (request) =>
            applies(
              { ...scoped, rule: { ...rule, verbs: [verb], apiGroups: [group], resources: [resource] } },
              request,
            ),
        });
      }
    }
  }
  return list;
}

/**
 * What the account is granted that no recorded request used; `where` narrows the rules looked at (a role shared
 * by several apps is checked against what the shared code does, not against one app).
 */
export function unusedGrants(
  policy: RbacPolicy,
  serviceAccount: string,
  requests: RecordedAuthorization[],
  where: (rule: ScopedRule) => boolean = () => true,
): string[] {
  return rulesFor(policy, serviceAccount)
    .filter(where)
    .flatMap(grants)
    .filter((grant) => !requests.some(grant.probe))
    .map((grant) => grant.label);
}

/** Every `*` in a rule of the policy (verbs, groups, resources, names, URLs), named by role. */
export function wildcards(policy: RbacPolicy): string[] {
  return [...policy.roles].flatMap(([role, rules]) =>
    rules.flatMap((rule, index) =>
      Object.entries(rule)
        .filter(([, values]) => Array.isArray(values) && values.some((value: string) => value.includes('*')))
        .map(([field]) => `${role} rule ${index}: ${field}`),
    ),
  );
}

/**
 * Throws, listing them, when the account may not make some of the recorded requests. For suites that run a
 * service against the API double: `assertRbacCovers(renderedPolicy, 'k8s-service', kube.authorizations())`.
 */
export function assertRbacCovers(
  policy: RbacPolicy,
  serviceAccount: string,
  requests: RecordedAuthorization[],
): void {
  const denied = deniedRequests(policy, serviceAccount, requests);
  if (denied.length > 0) {
    throw new Error(
      `ServiceAccount ${CONTROL_PLANE_NAMESPACE}/${serviceAccount} would be forbidden to:\n  ${denied.join('\n  ')}`,
    );
  }
}
