import { assertTenantId } from '@app/contracts';
import { retryable, StepError } from '@app/platform';

/**
 * Spec 9.1's request body, except `status`: the record is created `provisioning`, since the tenant is not
 * verified yet, and becomes `active` only when the tenant is activated (spec 11.1).
 */
export interface WebsiteRecordInput {
  name: string;
  domain: string;
  tenant_id: string;
  subscription_id: string;
  tier: string;
  status: 'provisioning';
}

/**
 * The fields a PATCH sets; the others stay as they are: activation (spec 11.1, `activated_at`), the grace
 * period's soft delete (spec "Periode de Grace", `deleted_at`) and its undo on reactivation.
 */
export type WebsiteRecordPatch =
  | { status: 'active'; activated_at: string }
  | { status: 'deprovisioning'; deleted_at: string }
  | { status: 'active'; deleted_at: null };

export class WebsitesError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WebsitesError';
  }
}

/**
 * The one classification of a websites-service failure, for every handler: a `WebsitesError` keeps its code
 * and retryability (5xx, 429, timeouts and refused connections retryable once the client's own attempts are
 * spent, other refusals permanent); anything else, such as a tenant id the client refuses to send, is
 * retryable under `code`, the step's own failure code.
 */
export function websitesStepError(error: unknown, code: string): StepError {
  if (error instanceof StepError) return error;
  if (error instanceof WebsitesError) {
    return new StepError(error.code, error.message, { retryable: error.retryable, cause: error });
  }
  return retryable(code, error instanceof Error ? error.message : 'unexpected failure', error);
}

/** Runs websites-service calls, failing with `websitesStepError`. */
export async function withWebsites<T>(code: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw websitesStepError(error, code);
  }
}

export interface WebsitesClientOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  sleep?: (ms: number) => Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
}

function idOf(value: unknown): string | number | null {
  if (value && typeof value === 'object' && 'id' in value) {
    const id = (value as { id: unknown }).id;
    if (typeof id === 'number' || (typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id))) return id;
  }
  return null;
}

function recordPath(id: string | number): string {
  const safe = String(id);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(safe))
    throw new WebsitesError('WEBSITES.BAD_ID', 'invalid website id', false);
  return `/api/v1/websites/${encodeURIComponent(safe)}`;
}

/**
 * The websites-service API (spec 9.1) with bounded retries: 5xx, 429, timeouts and connection failures are
 * retried with exponential backoff up to `maxAttempts`, then reported as retryable; other 4xx are permanent.
 */
export class WebsitesClient {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: WebsitesClientOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private url(path: string): string {
    return `${this.options.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  private async once(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const response = await fetch(this.url(path), {
      method,
      headers: {
        authorization: `Bearer ${this.options.token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: response.status, body: parsed };
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply> {
    let last = '';
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt += 1) {
      try {
        const reply = await this.once(method, path, body, headers);
        if (reply.status < 500 && reply.status !== 429) return reply;
        last = `HTTP ${reply.status}`;
      } catch (error) {
        last = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'connection failed';
      }
      if (attempt < this.options.maxAttempts) await this.sleep(this.options.backoffMs * 2 ** (attempt - 1));
    }
    throw new WebsitesError(
      'WEBSITES.UNAVAILABLE',
      `${method} ${path.split('?')[0]} failed after ${this.options.maxAttempts} attempts (${last})`,
      true,
    );
  }

  /** The record of a tenant, if the service has one (`GET /api/v1/websites?tenant_id=`). */
  async findByTenant(tenantId: string): Promise<string | number | null> {
    assertTenantId(tenantId);
    const reply = await this.request('GET', `/api/v1/websites?tenant_id=${encodeURIComponent(tenantId)}`);
    if (reply.status === 404 || reply.status === 405) return null;
    if (reply.status !== 200) {
      throw new WebsitesError('WEBSITES.REJECTED', `websites lookup refused (HTTP ${reply.status})`, false);
    }
    const list: unknown[] = Array.isArray(reply.body)
      ? reply.body
      : reply.body && typeof reply.body === 'object' && 'data' in reply.body && Array.isArray(reply.body.data)
        ? reply.body.data
        : [];
    const match = list.find(
      (item) => item && typeof item === 'object' && (item as { tenant_id?: unknown }).tenant_id === tenantId,
    );
    return match ? idOf(match) : null;
  }

  /**
   * A POST retried after a timeout (here or by a redelivered command) may follow one the service carried
   * out: every attempt for a tenant carries the same `Idempotency-Key`, so a service honouring it (the IETF
   * draft's header) answers the first record instead of making a second.
   */
  async create(input: WebsiteRecordInput): Promise<string | number> {
    assertTenantId(input.tenant_id);
    const reply = await this.request('POST', '/api/v1/websites', input, {
      'idempotency-key': `website-record-${input.tenant_id}`,
    });
    if (reply.status === 409) {
      const existing = await this.findByTenant(input.tenant_id);
      if (existing !== null) return existing;
    }
    if (reply.status !== 200 && reply.status !== 201) {
      throw new WebsitesError('WEBSITES.REJECTED', `website creation refused (HTTP ${reply.status})`, false);
    }
    const id = idOf(reply.body);
    if (id === null)
      throw new WebsitesError('WEBSITES.BAD_RESPONSE', 'website creation returned no id', false);
    return id;
  }

  /** Sets the given fields; false when the record does not exist (404), which the caller reports. */
  async update(id: string | number, patch: WebsiteRecordPatch): Promise<boolean> {
    const reply = await this.request('PATCH', recordPath(id), patch);
    if (reply.status === 404) return false;
    if (reply.status >= 200 && reply.status < 300) return true;
    throw new WebsitesError('WEBSITES.REJECTED', `website update refused (HTTP ${reply.status})`, false);
  }

  /** Absent (404) is success. */
  async delete(id: string | number): Promise<void> {
    const reply = await this.request('DELETE', recordPath(id));
    if (reply.status === 404 || (reply.status >= 200 && reply.status < 300)) return;
    throw new WebsitesError('WEBSITES.REJECTED', `website deletion refused (HTTP ${reply.status})`, false);
  }
}
