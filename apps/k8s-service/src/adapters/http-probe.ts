/** `GET url` → HTTP status (0 when unreachable). */
export type HealthProbe = (url: string, host: string) => Promise<number>;

/** The real probe: `fetch` with the tenant's Host header when the base URL is overridden. */
export async function httpProbe(url: string, host: string): Promise<number> {
  try {
    const response = await fetch(url, {
      headers: new URL(url).hostname === host ? {} : { host },
      signal: AbortSignal.timeout(10000),
      redirect: 'manual',
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/**
 * The one reading of a probe's answer, for every check: 200 is healthy; anything else is a failure named with what
 * was answered (nothing, when the tenant was unreachable, refused the connection or timed out).
 */
export function healthFailure(url: string, status: number): string | undefined {
  if (status === 200) return undefined;
  return `GET ${url} answered ${status === 0 ? 'nothing' : `HTTP ${status}`}`;
}
