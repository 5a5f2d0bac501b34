import { permanent, retryable, type StepError } from '@app/platform';

/** How a Grafana API call failed: no complete answer (the cause), or an answer with a status it did not expect. */
export type GrafanaFailure = { error: unknown } | { status: number; json: unknown };

/**
 * The one classification of a Grafana API failure, for every call `GrafanaClient` makes: no complete answer
 * (refused, timed out, cut off) is retryable `MONITORING.GRAFANA_UNREACHABLE`; 5xx and 429 are retryable
 * `MONITORING.GRAFANA_UNAVAILABLE`; any other status is permanent `MONITORING.GRAFANA_REJECTED`. Messages name
 * the method, the path without its query (a lookup's query holds a login or an e-mail) and the start of
 * Grafana's own message, never the credentials.
 */
export function grafanaStepError(method: string, path: string, failure: GrafanaFailure): StepError {
  const request = `${method} ${path.split('?')[0]}`;
  if ('error' in failure) {
    return retryable('MONITORING.GRAFANA_UNREACHABLE', `${request}: Grafana unreachable`, failure.error);
  }
  const { status, json } = failure;
  const detail = String((json as { message?: unknown } | null | undefined)?.message ?? '').slice(0, 200);
  const message = `${request}: HTTP ${status} ${detail}`;
  return status >= 500 || status === 429
    ? retryable('MONITORING.GRAFANA_UNAVAILABLE', message)
    : permanent('MONITORING.GRAFANA_REJECTED', message);
}
