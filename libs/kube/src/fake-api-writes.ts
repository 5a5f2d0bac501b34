import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { parse } from 'yaml';
import { invalid, notFound, send, status } from './fake-api-http';
import { NAMESPACE_TYPE, type ResourceType, apiVersionOf } from './fake-api-resources';
import type { Controller, ObjectStore, Stored } from './fake-api-store';
import { canonical, num } from './fake-kubelet';
import type { NamespaceController } from './fake-namespace-controller';
import type { AuthorizationAttributes } from './request-attributes';
import { objectViolations } from './schema';

/**
 * The API double's writes, checked as the API server checks them: server-side apply (PATCH with a field
 * manager, conflicts between managers, immutable Job templates, status owned by the controllers where the
 * type has a status subresource), the POST and PUT of the Kubernetes secret store, and DELETE.
 */

/** The object a request names. */
export interface Target {
  type: ResourceType;
  namespace: string | undefined;
  name: string;
  key: string;
}

export class ObjectWrites {
  constructor(
    private readonly store: ObjectStore,
    private readonly namespaces: NamespaceController,
    private readonly controllers: readonly Controller[],
  ) {}

  /** Server-side apply; `authorizations` gains the `create` check when the apply creates the object. */
  apply(
    { type, namespace, name, key }: Target,
    contentType: string | undefined,
    query: URLSearchParams,
    body: string,
    res: ServerResponse,
    authorizations: AuthorizationAttributes[],
  ): void {
    if (contentType !== 'application/apply-patch+yaml') {
      return send(res, 415, status(415, 'UnsupportedMediaType', 'only server-side apply is implemented'));
    }
    const manager = query.get('fieldManager');
    if (!manager)
      return send(res, 400, status(400, 'BadRequest', 'fieldManager is required for apply patch'));
    let object: Stored;
    try {
      object = parse(body) as Stored;
    } catch {
      return send(res, 400, status(400, 'BadRequest', 'body is not YAML'));
    }
    if (
      object?.apiVersion !== apiVersionOf(type) ||
      object.kind !== type.kind ||
      object.metadata?.name !== name
    ) {
      return send(res, 400, status(400, 'BadRequest', 'apiVersion, kind and name must match the URL'));
    }
    if (
      type.namespaced &&
      object.metadata.namespace !== undefined &&
      object.metadata.namespace !== namespace
    ) {
      return send(res, 400, status(400, 'BadRequest', 'the namespace of the object does not match the URL'));
    }
    const violations = objectViolations({ ...object, metadata: { ...object.metadata, namespace } });
    if (violations.length > 0) return send(res, 422, invalid(type, name, violations));
    const { objects, managers } = this.store;
    // An apply that creates the object is also authorized as `create` (the patch handler wraps its create
    // validation in withAuthorization: k8s.io/apiserver/pkg/endpoints/handlers/patch.go, PatchResource).
    if (!objects.has(key)) authorizations.push({ ...authorizations[0], verb: 'create' });
    if (type.namespaced) {
      const ns = objects.get(this.store.key(NAMESPACE_TYPE, undefined, namespace!));
      if (!ns) return send(res, 404, notFound(NAMESPACE_TYPE, namespace!));
      if (ns.metadata.deletionTimestamp) {
        return send(
          res,
          403,
          status(
            403,
            'Forbidden',
            `${type.plural} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
          ),
        );
      }
    }
    const existing = objects.get(key);
    if (existing?.metadata.deletionTimestamp) {
      return send(res, 409, status(409, 'Conflict', `${type.kind} ${name} is being deleted`));
    }
    // A Job's pod template cannot change once created (the API server validates it as immutable).
    if (
      existing &&
      type.kind === 'Job' &&
      canonical((existing.spec as { template?: unknown })?.template) !==
        canonical((object.spec as { template?: unknown })?.template)
    ) {
      return send(res, 422, invalid(type, name, ['spec.template: Invalid value: field is immutable']));
    }
    const owners = managers.get(key) ?? new Set<string>();
    if (existing && owners.size > 0 && !owners.has(manager) && query.get('force') !== 'true') {
      return send(
        res,
        409,
        status(409, 'Conflict', `Apply failed with conflicts with ${[...owners].join(',')}`),
      );
    }
    owners.add(manager);
    managers.set(key, owners);
    const isNamespace = type.kind === 'Namespace';
    const { status: appliedStatus, ...content } = object;
    // Status belongs to the controllers where the type has a status subresource; elsewhere it is content.
    const nextStatus = type.statusSubresource
      ? isNamespace
        ? (existing?.status ?? { phase: 'Active' })
        : existing?.status
      : (appliedStatus ?? existing?.status);
    const spec = isNamespace ? { spec: { finalizers: ['kubernetes'] } } : {};
    const candidate: Stored = { ...content, ...spec, ...(nextStatus ? { status: nextStatus } : {}) };
    const generation = existing
      ? num(existing.metadata.generation) + (specChanged(type, existing, candidate) ? 1 : 0)
      : 1;
    const finalizers = isNamespace ? undefined : (object.metadata.finalizers as string[] | undefined);
    const stored: Stored = {
      ...candidate,
      metadata: {
        ...this.serverMetadata(type, namespace, object, existing, generation),
        managedFields: [...owners].map((owner) => ({ manager: owner, operation: 'Apply' })),
      },
    };
    delete (stored.metadata as Record<string, unknown>).finalizers;
    if (finalizers && finalizers.length > 0) stored.metadata.finalizers = finalizers;
    objects.set(key, stored);
    send(res, existing ? 200 : 201, stored);

    if (existing && generation === num(existing.metadata.generation)) return;
    this.controllers.find((controller) => controller.kind === type.kind)?.start(key, stored);
  }

  /** POST to a collection, as the secret store creates: 409 AlreadyExists when the name is taken. */
  create(type: ResourceType, namespace: string | undefined, body: string, res: ServerResponse): void {
    const object = this.parseWritten(type, namespace, undefined, body, res);
    if (!object) return;
    const name = object.metadata.name;
    if (this.store.objects.has(this.store.key(type, namespace, name))) {
      return send(res, 409, status(409, 'AlreadyExists', `${type.plural} "${name}" already exists`));
    }
    if (type.namespaced && !this.store.namespaceActive(namespace)) {
      return send(res, 404, notFound(NAMESPACE_TYPE, namespace!));
    }
    send(res, 201, this.save(type, namespace, object, undefined));
  }

  /** PUT of a whole object, as the secret store replaces: 404 when absent. */
  replace({ type, namespace, name, key }: Target, body: string, res: ServerResponse): void {
    const object = this.parseWritten(type, namespace, name, body, res);
    if (!object) return;
    const existing = this.store.objects.get(key);
    if (!existing) return send(res, 404, notFound(type, name));
    send(res, 200, this.save(type, namespace, object, existing));
  }

  delete({ type, name, key }: Target, res: ServerResponse): void {
    const existing = this.store.objects.get(key);
    if (!existing) return send(res, 404, notFound(type, name));
    if (!this.remove(type, name, key)) return send(res, 200, existing);
    send(res, 200, {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Success',
      details: { name, kind: type.plural },
    });
  }

  /**
   * Deletes a stored object as the API server does; whether it is gone already. A namespace never is at
   * once: it turns Terminating and its controller removes it later.
   */
  remove(type: ResourceType, name: string, key: string): boolean {
    if (type.kind !== 'Namespace') return this.store.deleteObject(key);
    this.namespaces.delete(name, key);
    return false;
  }

  /** A JSON body for POST or PUT, checked as the API server does; undefined once the refusal is sent. */
  private parseWritten(
    type: ResourceType,
    namespace: string | undefined,
    name: string | undefined,
    body: string,
    res: ServerResponse,
  ): Stored | undefined {
    let object: Stored;
    try {
      object = JSON.parse(body) as Stored;
    } catch {
      send(res, 400, status(400, 'BadRequest', 'body is not JSON'));
      return undefined;
    }
    if (
      object?.apiVersion !== apiVersionOf(type) ||
      object.kind !== type.kind ||
      !object.metadata?.name ||
      (name !== undefined && object.metadata.name !== name) ||
      (type.namespaced && object.metadata.namespace !== undefined && object.metadata.namespace !== namespace)
    ) {
      send(res, 400, status(400, 'BadRequest', 'apiVersion, kind, name and namespace must match the URL'));
      return undefined;
    }
    const violations = objectViolations({ ...object, metadata: { ...object.metadata, namespace } });
    if (violations.length > 0) {
      send(res, 422, invalid(type, object.metadata.name, violations));
      return undefined;
    }
    return object;
  }

  /** Stores a created or replaced object. */
  private save(
    type: ResourceType,
    namespace: string | undefined,
    object: Stored,
    existing: Stored | undefined,
  ): Stored {
    const generation = existing ? num(existing.metadata.generation) + 1 : 1;
    const stored: Stored = {
      ...object,
      metadata: this.serverMetadata(type, namespace, object, existing, generation),
    };
    this.store.objects.set(this.store.keyOf(stored), stored);
    return stored;
  }

  /** The written object's metadata with the fields the API server owns. */
  private serverMetadata(
    type: ResourceType,
    namespace: string | undefined,
    object: Stored,
    existing: Stored | undefined,
    generation: number,
  ): Stored['metadata'] {
    return {
      ...object.metadata,
      ...(type.namespaced ? { namespace } : {}),
      uid: (existing?.metadata.uid as string | undefined) ?? randomUUID(),
      resourceVersion: this.store.nextResourceVersion(),
      generation,
      creationTimestamp:
        (existing?.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString(),
    };
  }
}

/** `metadata.generation` moves with the desired state: everything but metadata (and status, if separate). */
function specChanged(type: ResourceType, before: Stored, after: Stored): boolean {
  const desired = (object: Stored) => {
    const { metadata: _metadata, status: _status, ...rest } = object;
    return type.statusSubresource ? rest : { ...rest, status: object.status };
  };
  return canonical(desired(before)) !== canonical(desired(after));
}
