import type { ObjectStore } from './fake-api-store';

/**
 * The API double's namespace controller: a deleted namespace stays Terminating, with the conditions the real
 * controller reports, until its content is deleted (content with finalizers holds it), then goes. `stuck`
 * plays a finalizer that never clears.
 */
export class NamespaceController {
  stuck = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly terminationDelayMs: number,
  ) {}

  /** Terminating now; gone once its content is deleted (finalizers permitting) after the termination delay. */
  delete(name: string, key: string): void {
    const namespace = this.store.objects.get(key)!;
    if (namespace.metadata.deletionTimestamp) return;
    namespace.metadata.deletionTimestamp = new Date().toISOString();
    namespace.status = {
      phase: 'Terminating',
      ...(this.stuck
        ? {
            conditions: [
              {
                type: 'NamespaceDeletionDiscoveryFailure',
                status: 'True',
                reason: 'DiscoveryFailed',
                message:
                  'Discovery failed for some groups: metrics.k8s.io/v1beta1: the server is currently unable to handle the request',
              },
            ],
          }
        : {}),
    };
    if (!this.stuck) this.store.later(this.terminationDelayMs, () => this.finish(name, key));
  }

  private finish(name: string, key: string): void {
    const { objects } = this.store;
    const namespace = objects.get(key);
    if (!namespace) return;
    for (const [otherKey, object] of [...objects]) {
      if (object.metadata.namespace === name && objects.has(otherKey)) this.store.deleteObject(otherKey);
    }
    const left = [...objects.values()].filter((object) => object.metadata.namespace === name);
    if (left.length === 0) {
      objects.delete(key);
      this.store.managers.delete(key);
      return;
    }
    // What the namespace controller reports while content with finalizers remains.
    const finalizers = [
      ...new Set(left.flatMap((o) => (o.metadata.finalizers as string[] | undefined) ?? [])),
    ];
    namespace.status = {
      phase: 'Terminating',
      conditions: [
        {
          type: 'NamespaceContentRemaining',
          status: 'True',
          reason: 'SomeResourcesRemain',
          message: `Some resources are remaining: ${left.length} resource instances`,
        },
        {
          type: 'NamespaceFinalizersRemaining',
          status: 'True',
          reason: 'SomeFinalizersRemain',
          message: `Some content in the namespace has finalizers remaining: ${finalizers.join(', ')} in ${left.length} resource instances`,
        },
      ],
    };
    this.store.later(this.terminationDelayMs, () => this.finish(name, key));
  }
}
