/**
 * The public surface of tenantctl for the system tests (`test/`): they import the app only through this file
 * (`.dependency-cruiser.cjs`, `test-and-bench-use-app-entry-points`).
 */
export { EXIT, run as runTenantctl, type CliIo } from './tenantctl';
