import { RabbitManagementError, type ManagementErrorCode } from './errors';
import type { ManagementFetch, RabbitManagementOptions } from './types';

/** Names going into URL paths: any printable text, encoded per segment (a vhost may be `/` or contain it). */
export function segment(kind: string, value: string): string {
  const hasControl = [...value].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
  if (value.length === 0 || value.length > 255 || hasControl) {
    throw new RabbitManagementError(
      'MANAGEMENT.INVALID_NAME',
      `${kind} name is empty, too long or has control characters`,
    );
  }
  return encodeURIComponent(value);
}

/** Delay before attempt `attempt + 1` (attempt counts from 1): exponential, capped. */
export function managementBackoffMs(attempt: number, backoffMs: number, maxBackoffMs: number): number {
  return Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
}

export type Method = 'GET' | 'PUT' | 'POST' | 'DELETE';

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** GET/PUT/DELETE are; a POST only when the caller says so. */
  idempotent?: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The HTTP side of the management client: authorization, per-attempt timeout, retries of idempotent
 * requests with capped exponential backoff, and typed errors that name the request by its path only (never
 * its body, which may hold a password).
 */
export abstract class ManagementTransport {
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly fetch: ManagementFetch;

  constructor(options: RabbitManagementOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = options.attempts ?? 1;
    this.backoffMs = options.backoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
    const invalid = !Number.isInteger(this.attempts) || this.attempts < 1 || this.attempts > 20;
    if (invalid || !(this.backoffMs >= 0) || !(this.maxBackoffMs >= 0) || !(this.timeoutMs > 0)) {
      throw new RabbitManagementError(
        'MANAGEMENT.INVALID_OPTIONS',
        'attempts must be an integer in 1..20, backoffMs/maxBackoffMs >= 0 and timeoutMs > 0',
      );
    }
  }

  protected async find<T>(path: string): Promise<T | undefined> {
    try {
      return (await this.request('GET', path)) as T;
    } catch (error) {
      if (error instanceof RabbitManagementError && error.code === 'MANAGEMENT.NOT_FOUND') return undefined;
      throw error;
    }
  }

  protected async deleteIfExists(path: string, headers: Record<string, string> = {}): Promise<boolean> {
    try {
      await this.request('DELETE', path, { headers });
      return true;
    } catch (error) {
      if (error instanceof RabbitManagementError && error.code === 'MANAGEMENT.NOT_FOUND') return false;
      throw error;
    }
  }

  protected async request(method: Method, path: string, options: RequestOptions = {}): Promise<unknown> {
    const idempotent = options.idempotent ?? method !== 'POST';
    const attempts = idempotent ? this.attempts : 1;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.once(method, path, options);
      } catch (error) {
        if (!(error instanceof RabbitManagementError) || !error.retryable || attempt >= attempts) throw error;
        await sleep(managementBackoffMs(attempt, this.backoffMs, this.maxBackoffMs));
      }
    }
  }

  private async once(method: Method, path: string, options: RequestOptions): Promise<unknown> {
    // The path (never the body, which may hold a password) names the request in errors.
    const what = `${method} ${path.split('?')[0]}`;
    const { body, headers = {} } = options;
    let response: Awaited<ReturnType<ManagementFetch>>;
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: this.authorization,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // Duck-typed: fetch's errors may come from another realm (e.g. under Jest), where instanceof fails.
      const failure = error as { name?: unknown; message?: unknown; cause?: { message?: unknown } };
      if (failure.name === 'TimeoutError' || failure.name === 'AbortError') {
        throw new RabbitManagementError(
          'MANAGEMENT.TIMEOUT',
          `${what}: no answer within ${this.timeoutMs} ms`,
        );
      }
      const cause = String(failure.cause?.message ?? failure.message ?? error);
      throw new RabbitManagementError('MANAGEMENT.UNREACHABLE', `${what}: ${cause}`);
    }
    const text = await response.text();
    if (!response.ok) {
      const reason = extractReason(text);
      const code: ManagementErrorCode =
        response.status === 404
          ? 'MANAGEMENT.NOT_FOUND'
          : response.status === 401 || response.status === 403
            ? 'MANAGEMENT.UNAUTHORIZED'
            : response.status === 400
              ? 'MANAGEMENT.BAD_REQUEST'
              : 'MANAGEMENT.HTTP_ERROR';
      throw new RabbitManagementError(
        code,
        `${what}: HTTP ${response.status}${reason ? ` ${reason}` : ''}`,
        response.status,
        reason,
      );
    }
    return text.length === 0 ? undefined : (JSON.parse(text) as unknown);
  }
}

function extractReason(text: string): string {
  try {
    const parsed = JSON.parse(text) as { reason?: unknown; error?: unknown };
    const reason =
      typeof parsed.reason === 'string'
        ? parsed.reason
        : typeof parsed.error === 'string'
          ? parsed.error
          : '';
    return reason.slice(0, 300);
  } catch {
    return text.slice(0, 300);
  }
}
