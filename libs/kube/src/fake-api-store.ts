import { randomUUID } from 'node:crypto';
import { NAMESPACE_TYPE, RESOURCES, type ResourceType, apiVersionOf } from './fake-api-resources';
import type { KubeObject } from './schema';

/**
 * The API double's storage, shared by its HTTP handlers and its controllers: objects by type, namespace and
 * name with their field managers and resource versions; the garbage collector (a deleted object with
 * finalizers is held, deleting an owner deletes what it owns); and the timers the controllers run on, so that
 * stopping the double stops every controller.
 */

export type Stored = KubeObject & { status?: Record<string, unknown> };

/** A controller of the double: started on an object of its kind each time an apply changes it. */
export interface Controller {
  readonly kind: string;
  start(key: string, object: Stored): void;
}

export class ObjectStore {
  readonly objects = new Map<string, Stored>();
  /** Field managers per object key. */
  readonly managers = new Map<string, Set<string>>();
  private resourceVersion = 1;
  private readonly timers = new Set<NodeJS.Timeout>();

  typeOf(apiVersion: string, kind: string): ResourceType | undefined {
    return RESOURCES.find((type) => apiVersionOf(type) === apiVersion && type.kind === kind);
  }

  key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${apiVersionOf(type)}|${type.kind}|${type.namespaced ? namespace : ''}|${name}`;
  }

  keyOf(object: Stored): string {
    return this.key(
      this.typeOf(object.apiVersion, object.kind)!,
      object.metadata.namespace,
      object.metadata.name,
    );
  }

  find(apiVersion: string, kind: string, namespace: string | undefined, name: string): Stored | undefined {
    const type = this.typeOf(apiVersion, kind);
    return type ? this.objects.get(this.key(type, namespace, name)) : undefined;
  }

  nextResourceVersion(): string {
    return String(this.resourceVersion++);
  }

  /** Stores an object a controller creates (no validation, like a controller's own writes). */
  put(object: Stored): Stored {
    object.metadata.uid ??= randomUUID();
    object.metadata.creationTimestamp ??= new Date().toISOString();
    object.metadata.resourceVersion = this.nextResourceVersion();
    this.objects.set(this.keyOf(object), object);
    return object;
  }

  childrenOf(owner: Stored, kind: string): Stored[] {
    return [...this.objects.values()].filter(
      (object) =>
        object.kind === kind &&
        object.metadata.namespace === owner.metadata.namespace &&
        ((object.metadata.ownerReferences as { uid?: string }[] | undefined) ?? []).some(
          (ref) => ref.uid === owner.metadata.uid,
        ),
    );
  }

  /**
   * Deletes one object: held (deletionTimestamp set) while it has finalizers, else removed together with
   * what it owns (background garbage collection). Returns whether it is gone.
   */
  deleteObject(key: string): boolean {
    const object = this.objects.get(key);
    if (!object) return true;
    const finalizers = (object.metadata.finalizers as string[] | undefined) ?? [];
    if (finalizers.length > 0) {
      object.metadata.deletionTimestamp ??= new Date().toISOString();
      return false;
    }
    this.objects.delete(key);
    this.managers.delete(key);
    const uid = object.metadata.uid;
    for (const [childKey, child] of [...this.objects]) {
      const owners = (child.metadata.ownerReferences as { uid?: string }[] | undefined) ?? [];
      if (uid && owners.some((owner) => owner.uid === uid)) this.deleteObject(childKey);
    }
    return true;
  }

  namespaceActive(name: string | undefined): boolean {
    const namespace = name && this.objects.get(this.key(NAMESPACE_TYPE, undefined, name));
    return Boolean(namespace && !namespace.metadata.deletionTimestamp);
  }

  later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  stopTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * A controller's two passes over an object: one at once, one once `delayMs` has passed (`settled`). Each is
   * skipped unless the object is still the one they were started for: same uid, not being deleted, its
   * namespace active, and (when `sameGeneration`) the same generation.
   */
  reconcile(
    key: string,
    object: Stored,
    delayMs: number,
    sync: (current: Stored, settled: boolean) => void,
    sameGeneration = true,
  ): void {
    const { uid } = object.metadata;
    const generation = sameGeneration ? object.metadata.generation : undefined;
    const pass = (settled: boolean) => () => {
      const current = this.current(key, uid, generation);
      if (current) sync(current, settled);
    };
    this.later(0, pass(false));
    this.later(delayMs, pass(true));
  }

  private current(key: string, uid: unknown, generation: unknown): Stored | undefined {
    const object = this.objects.get(key);
    if (!object || object.metadata.uid !== uid || object.metadata.deletionTimestamp) return undefined;
    if (generation !== undefined && object.metadata.generation !== generation) return undefined;
    if (!this.namespaceActive(object.metadata.namespace)) return undefined;
    return object;
  }
}
