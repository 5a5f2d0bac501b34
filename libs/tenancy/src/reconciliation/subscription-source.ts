import { isIP } from 'node:net';
import type { Violation } from '@app/contracts';
import { invalidRequest, UseCaseError } from '../errors';
import {
  parseSubscriptionCsv,
  parseSubscriptionList,
  SubscriptionListError,
  type BillingSubscription,
} from './subscription-list';

/** Injection token of the limits below (tests shorten them). */
export const SUBSCRIPTION_SOURCE_LIMITS = Symbol('SUBSCRIPTION_SOURCE_LIMITS');

export interface SubscriptionSourceLimits {
  /** For the whole exchange: connection, headers and body. */
  timeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_SOURCE_LIMITS: SubscriptionSourceLimits = {
  timeoutMs: 10_000,
  maxBytes: 10 * 1024 * 1024,
};

const MAX_URL_LENGTH = 2048;

function sourceViolation(message: string): Violation[] {
  return [{ field: 'source', rules: ['isUrl'], messages: [message] }];
}

/** Link-local addresses are where cloud metadata services answer: never a billing export. */
function isLinkLocal(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(bare) === 4) return bare.startsWith('169.254.');
  return isIP(bare) === 6 && /^fe[89ab]/.test(bare);
}

/**
 * Billing's export URL: http(s), no credentials in it (they would end up in logs and events), no fragment, not
 * a link-local address. The caller is an operator, so other hosts are theirs to choose.
 */
export function validSourceUrl(value: unknown): URL {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_LENGTH) {
    throw invalidRequest(
      'invalid source',
      sourceViolation(`source must be a URL of 1-${MAX_URL_LENGTH} characters`),
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidRequest('invalid source', sourceViolation('source is not a valid URL'));
  }
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? `source must be an http or https URL (got ${url.protocol.replace(/:$/, '')})`
      : url.username || url.password
        ? 'source must not carry credentials'
        : url.hash
          ? 'source must not have a fragment'
          : isLinkLocal(url.hostname)
            ? 'source must not be a link-local address'
            : undefined;
  if (problem) throw invalidRequest('invalid source', sourceViolation(problem));
  return url;
}

/** What is recorded and shown of a source: origin and path (a query string may hold a token). */
export function describeSource(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

async function readLimited(response: Response, maxBytes: number, where: string): Promise<string> {
  const tooLarge = () =>
    new UseCaseError('RECONCILIATION.SOURCE_TOO_LARGE', `${where} answered more than ${maxBytes} bytes`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        await response.body.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new UseCaseError('RECONCILIATION.SOURCE_INVALID', `${where} answered text that is not UTF-8`);
  }
}

function parsed(text: string, contentType: string, where: string): BillingSubscription[] {
  const invalid = (message: string, violations: Violation[] = []) =>
    new UseCaseError('RECONCILIATION.SOURCE_INVALID', message, violations);
  try {
    if (/^text\/csv\b/i.test(contentType)) return parseSubscriptionCsv(text);
    if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType)) {
      throw invalid(
        `${where} answered ${contentType || 'no content type'}, expected application/json or text/csv`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw invalid(`${where} answered a body that is not valid JSON`);
    }
    return parseSubscriptionList(json);
  } catch (error) {
    if (error instanceof SubscriptionListError) {
      throw invalid(`${where} answered an invalid subscription list`, error.violations);
    }
    throw error;
  }
}

/**
 * Billing's list fetched from `url`: one GET, no redirects followed, bounded in time and size, JSON or CSV
 * by content type, every record validated. Failures name the source (without its query string), never its body.
 */
export async function fetchSubscriptions(
  url: URL,
  limits: SubscriptionSourceLimits = DEFAULT_SOURCE_LIMITS,
): Promise<BillingSubscription[]> {
  const where = `source ${describeSource(url)}`;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(url, {
      signal,
      redirect: 'error',
      headers: { accept: 'application/json, text/csv;q=0.9' },
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new UseCaseError(
        'RECONCILIATION.SOURCE_UNAVAILABLE',
        `${where} answered HTTP ${response.status}`,
      );
    }
    const text = await readLimited(response, limits.maxBytes, where);
    return parsed(text, response.headers.get('content-type') ?? '', where);
  } catch (error) {
    if (error instanceof UseCaseError) throw error;
    if (signal.aborted) {
      throw new UseCaseError(
        'RECONCILIATION.SOURCE_TIMEOUT',
        `${where} did not answer within ${limits.timeoutMs} ms`,
      );
    }
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    throw new UseCaseError(
      'RECONCILIATION.SOURCE_UNAVAILABLE',
      `${where} could not be fetched${typeof cause === 'string' ? ` (${cause})` : ''}`,
    );
  }
}
