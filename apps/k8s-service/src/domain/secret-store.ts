import type { KubeObject } from '@app/kube';
import { EXTERNAL_SECRETS_API_VERSION, type RenderOptions } from '@app/plans';

/**
 * The one backend the tenants' ExternalSecrets read: External Secrets Operator's `kubernetes` provider over
 * the namespace where the services' KubernetesSecretStore writes (`SECRET_STORE_URL=kubernetes://<namespace>`,
 * one Secret per secret path, named by `secretNameForPath`). These objects are cluster bootstrap, applied
 * once beside ESO, not part of any tenant's tree. Pure: no I/O.
 */

/** The ServiceAccount ESO authenticates as (a token requested for it): it may read Secrets, nothing else. */
export const SECRET_STORE_READER = 'tenant-secrets-reader';

type StoreOptions = Pick<RenderOptions, 'clusterSecretStore' | 'secretStoreNamespace'>;

function readerMeta(options: StoreOptions) {
  return {
    name: SECRET_STORE_READER,
    namespace: options.secretStoreNamespace,
    labels: { 'app.kubernetes.io/part-of': 'tenant-secrets' },
  };
}

export function secretStoreReaderServiceAccount(options: StoreOptions): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: readerMeta(options) };
}

/**
 * Read-only on Secrets of that namespace alone (a Role, not a ClusterRole). ESO validates a kubernetes store
 * with a SelfSubjectRulesReview (falling back to a SelfSubjectAccessReview); clusters grant both to every
 * authenticated subject through `system:basic-user`, and the rule is stated here as ESO's documentation does,
 * so the store validates on a cluster that trimmed that default.
 */
export function secretStoreReaderRole(options: StoreOptions): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: readerMeta(options),
    rules: [
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'], verbs: ['create'] },
    ],
  };
}

export function secretStoreReaderRoleBinding(options: StoreOptions): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: readerMeta(options),
    subjects: [
      { kind: 'ServiceAccount', name: SECRET_STORE_READER, namespace: options.secretStoreNamespace },
    ],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SECRET_STORE_READER },
  };
}

/**
 * The ClusterSecretStore. `server.url` is left out (ESO then uses the in-cluster API server) and its CA is
 * the `kube-root-ca.crt` ConfigMap every namespace gets. A cluster-scoped store must name the namespace of
 * each reference. `conditions` lets only namespaces labelled `tenant` use it, so a workload elsewhere in the
 * cluster cannot read the tenants' credentials through it.
 */
export function clusterSecretStore(options: StoreOptions): KubeObject {
  return {
    apiVersion: EXTERNAL_SECRETS_API_VERSION,
    kind: 'ClusterSecretStore',
    metadata: { name: options.clusterSecretStore, labels: { 'app.kubernetes.io/part-of': 'tenant-secrets' } },
    spec: {
      conditions: [{ namespaceSelector: { matchExpressions: [{ key: 'tenant', operator: 'Exists' }] } }],
      provider: {
        kubernetes: {
          remoteNamespace: options.secretStoreNamespace,
          server: {
            caProvider: {
              type: 'ConfigMap',
              name: 'kube-root-ca.crt',
              key: 'ca.crt',
              namespace: options.secretStoreNamespace,
            },
          },
          auth: {
            serviceAccount: { name: SECRET_STORE_READER, namespace: options.secretStoreNamespace },
          },
        },
      },
    },
  };
}

/** Everything the store needs in the cluster, in apply order (the reader before the store that uses it). */
export function secretStoreBootstrapObjects(options: StoreOptions): KubeObject[] {
  return [
    secretStoreReaderServiceAccount(options),
    secretStoreReaderRole(options),
    secretStoreReaderRoleBinding(options),
    clusterSecretStore(options),
  ];
}
