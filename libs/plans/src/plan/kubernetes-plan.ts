import { namespaceName, type TenantProfile } from '@app/contracts';
import { parse } from 'yaml';
import type { RenderOptions } from '../k8s/render-options';
import {
  MONITORING_DIR,
  ingressFiles,
  namespaceFiles,
  renderIndexes,
  tenantTreeRoot,
  toYaml,
  workloadFiles,
  type ManifestFile,
} from '../k8s/tenant-tree';
import { monitoringFiles, monitoringKustomization } from '../monitoring/monitoring';
import { unifiedDiff } from './line-diff';
import type { FieldChange, KubernetesPlan, ObjectChange } from './plan.types';

/** The tenant's tree as the services last rendered it: what a plan starts from. */
export interface TreeState {
  tenant: TenantProfile;
  options: RenderOptions;
  /** Workloads at zero replicas and no ingress (SuspendWorkloads). */
  suspended: boolean;
  /** The grace period's marks on the namespace (MarkNamespaceDeprovisioning). */
  marks?: { deprovisioningDate: string; deletionDate: string };
}

/** What one step does to the tree: files written (whole) and files removed, as the k8s-service delivers them. */
export interface TreeEdit {
  put: ManifestFile[];
  remove: string[];
}

const MONITORING_INDEX = `${MONITORING_DIR}kustomization.yaml`;

/** Every file of the tenant's tree, the monitoring-service's `monitoring/` included, without the kustomize indexes. */
export function currentTreeFiles(state: TreeState): ManifestFile[] {
  const { tenant, options, suspended, marks } = state;
  const monitoring = monitoringFiles(tenant, options.monitoringManagedBy).map((file) => ({
    path: `${MONITORING_DIR}${file.path}`,
    objects: file.objects,
  }));
  return [
    ...namespaceFiles(tenant, options, marks),
    ...workloadFiles(tenant, options, suspended),
    ...ingressFiles(tenant, options).filter((file) => !(suspended && file.path === 'ingress.yaml')),
    ...monitoring,
  ];
}

/** The files after an edit, in the order of the tree before it (new files last). */
export function applyTreeEdit(files: readonly ManifestFile[], edit: TreeEdit): ManifestFile[] {
  const put = new Map(edit.put.map((file) => [file.path, file]));
  const removed = new Set(edit.remove);
  const kept = files.filter((file) => !removed.has(file.path)).map((file) => put.get(file.path) ?? file);
  const known = new Set(files.map((file) => file.path));
  return [...kept, ...edit.put.filter((file) => !known.has(file.path) && !removed.has(file.path))];
}

interface TreeObject {
  key: string;
  file: string;
  kind: string;
  name: string;
  object: unknown;
}

/**
 * The tree's objects and its kustomize indexes: the root and `services/` ones rendered for `tenant` (each delivery
 * recomputes them), `monitoring/`'s while the monitoring-service's files are there.
 */
function treeObjects(
  tenant: TenantProfile,
  options: RenderOptions,
  files: readonly ManifestFile[],
): TreeObject[] {
  const objects: TreeObject[] = files.flatMap((file) =>
    file.objects.map((object) => {
      const kind = object.kind;
      const name = object.metadata.name;
      return { key: `${file.path}|${kind}/${name}`, file: file.path, kind, name, object };
    }),
  );
  const present = new Set(files.map((file) => file.path));
  const indexes: [string, string | null][] = [];
  if ([...present].some((path) => path.startsWith(MONITORING_DIR))) {
    present.add(MONITORING_INDEX);
    indexes.push([MONITORING_INDEX, monitoringKustomization()]);
  }
  if (present.size > 0) indexes.push(...Object.entries(renderIndexes(tenant, options, present)));
  for (const [path, content] of indexes) {
    if (content === null) continue;
    const object: unknown = parse(content);
    objects.push({ key: `${path}|Kustomization`, file: path, kind: 'Kustomization', name: path, object });
  }
  return objects;
}

function segment(path: string, key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key)
    ? `${path}${path ? '.' : ''}${key}`
    : `${path}[${JSON.stringify(key)}]`;
}

function leaves(value: unknown, path: string, out: Map<string, unknown>): void {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, []);
    value.forEach((item, index) => leaves(item, `${path}[${index}]`, out));
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) out.set(path, {});
    for (const [key, item] of entries) leaves(item, segment(path, key), out);
  } else {
    out.set(path, value);
  }
}

/** Every leaf that differs between two renderings of an object, in the order the later one lists them. */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  leaves(before, '', a);
  leaves(after, '', b);
  const changes: FieldChange[] = [];
  for (const [path, value] of b) {
    if (!a.has(path)) changes.push({ path, after: value });
    else if (JSON.stringify(a.get(path)) !== JSON.stringify(value))
      changes.push({ path, before: a.get(path), after: value });
  }
  for (const [path, value] of a) if (!b.has(path)) changes.push({ path, before: value });
  return changes;
}

/** The objects an edit of the tree adds, removes and changes, each changed one with its fields and its diff. */
export function kubernetesPlan(
  before: { tenant: TenantProfile; options: RenderOptions; files: readonly ManifestFile[] },
  after: { tenant: TenantProfile; options: RenderOptions; files: readonly ManifestFile[] },
): KubernetesPlan {
  const old = treeObjects(before.tenant, before.options, before.files);
  const next = treeObjects(after.tenant, after.options, after.files);
  const oldByKey = new Map(old.map((entry) => [entry.key, entry]));
  const nextKeys = new Set(next.map((entry) => entry.key));
  const changes: ObjectChange[] = [];
  let unchanged = 0;
  for (const entry of next) {
    const previous = oldByKey.get(entry.key);
    const base = { kind: entry.kind, name: entry.name, file: entry.file };
    if (!previous) {
      changes.push({ action: 'added', ...base, fields: [], diff: '' });
      continue;
    }
    const fields = fieldChanges(previous.object, entry.object);
    if (fields.length === 0) {
      unchanged++;
      continue;
    }
    const label = `${entry.file} ${entry.kind}/${entry.name}`;
    const diff = unifiedDiff(toYaml([previous.object]), toYaml([entry.object]), {
      before: label,
      after: label,
    });
    changes.push({ action: 'changed', ...base, fields, diff });
  }
  for (const entry of old) {
    if (nextKeys.has(entry.key)) continue;
    changes.push({
      action: 'removed',
      kind: entry.kind,
      name: entry.name,
      file: entry.file,
      fields: [],
      diff: '',
    });
  }
  return {
    tree: tenantTreeRoot(before.tenant.tenantId),
    namespace: namespaceName(before.tenant.tenantId),
    changes,
    unchanged,
  };
}
