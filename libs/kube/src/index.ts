export { loadPackage } from './esm';
export {
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isLabelValue,
  isQualifiedKey,
  mapViolations,
  nameViolations,
} from './names';
export { ManifestError, assertValidObject, objectViolations, type KubeObject } from './schema';
export { KubeClient, mapError, type KubeConnection } from './kube-client';
export { Mutex, withFileLock } from './file-lock';
export {
  GitWorkingCopy,
  type ChangeScope,
  type CommitOutcome,
  type CommitRequest,
  type GitOpsConfig,
} from './git-working-copy';
export { gitOpsConfigFrom, gitOpsEnv, kubeConnectionFrom, kubeEnv } from './env';
export { manifestGuard } from './handler-guard';
// The Kubernetes API double: used by the tests and as the cluster of the local demo stack.
export { FakeApiServer, type FakeApiServerOptions, type RecordedRequest } from './fake-api-server';
export { ANONYMOUS, requestAttributes, type AuthorizationAttributes } from './request-attributes';
