/** Test doubles of k8s-service for the system tests and benches (see ../index.ts). */
export { resolveExternalSecrets } from './external-secrets-resolver';
export { testTenant } from './fixtures';
