/**
 * The public surface of storage-service for the system tests (`test/`) and the benches (`bench/`): they import the app only
 * through this file, its `config.ts` (the environment schema) or its `testing/index.ts` (test doubles), which
 * `.dependency-cruiser.cjs` (`test-and-bench-use-app-entry-points`) enforces. Add a name here rather than reaching
 * into the app.
 */
export { SignedHttpClient } from './adapters/signed-http';
export { createHandlers } from './commands';
export { createServiceRuntime } from './wiring';
