/**
 * The public surface of monitoring-service for the system tests (`test/`) and the benches (`bench/`): they import the app only
 * through this file, its `config.ts` (the environment schema) or its `testing/index.ts` (test doubles), which
 * `.dependency-cruiser.cjs` (`test-and-bench-use-app-entry-points`) enforces. Add a name here rather than reaching
 * into the app.
 */
export { createHandlers } from './commands';
export { dashboardUid } from '@app/plans';
export { createServiceRuntime } from './wiring';
