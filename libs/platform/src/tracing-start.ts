import { appNameOf, startTracing, type Tracing } from './tracing';

/**
 * Starts the process's tracing as this library loads, when `OTEL_*` asks for it (tracing.ts). This module is
 * the first export of the library's index, and each app's main.ts imports `@app/platform` before anything
 * else, so the SDK is registered before http, pg or mysql2 are first required: they are patched as they load.
 * The service is named after the app whose main module runs (`OTEL_SERVICE_NAME` overrides it).
 */
export const processTracing: Tracing | undefined = startTracing(appNameOf(require.main?.filename));
