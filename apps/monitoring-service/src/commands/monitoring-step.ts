import { manifestGuard } from '@app/kube';
import { withSecretStore } from '@app/secrets';
import { randomBytes } from 'node:crypto';

/**
 * What every monitoring handler's body runs under (`@app/kube`'s rule for services that render manifests): a
 * `StepError` (Grafana's, the secret store's, the delivery's) is kept, a `ManifestError` fails permanently, and
 * anything untyped is retryable `MONITORING.UNEXPECTED`.
 */
export const guard = manifestGuard('MONITORING');

/** One secret-store call, classified by `@app/secrets` for every service alike. */
export function secretCall<T>(action: string, path: string, run: () => Promise<T>): Promise<T> {
  return withSecretStore('MONITORING', action, path, run);
}

export function generateViewerPassword(): string {
  return randomBytes(24).toString('base64url');
}
