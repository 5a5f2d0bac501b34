/**
 * The public surface of k8s-service for the system tests (`test/`) and the benches (`bench/`): they import the app only
 * through this file, its `config.ts` (the environment schema) or its `testing/index.ts` (test doubles), which
 * `.dependency-cruiser.cjs` (`test-and-bench-use-app-entry-points`) enforces. Add a name here rather than reaching
 * into the app.
 */
export {
  APPLICATION_SET_FILE,
  applicationFile,
  GitOpsDriver,
  tenantRegistrationFile,
} from './adapters/gitops.driver';
export { createHandlers } from './commands';
export { renderApplicationSetRegistration, renderBootstrap } from './domain/argocd-bootstrap';
export { secretStoreBootstrapObjects } from './domain/secret-store';
export {
  DEFAULT_RENDER_OPTIONS,
  type RenderOptions,
  applicationSet,
  applicationSetElement,
  fileContent,
  ingressFiles,
  namespaceFiles,
  renderIndexes,
  tenantConfigMap,
  workloadFiles,
} from '@app/plans';
export { createServiceRuntime, renderOptionsFrom } from './wiring';
