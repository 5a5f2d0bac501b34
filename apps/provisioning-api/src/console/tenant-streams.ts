import { tenantStream, type TenantEvent } from '@app/contracts';
import { StreamNotFoundError, type EventStore, type RecordedEvent } from '@app/event-store';
import { evolve, initialState, type TenantState } from '@app/lifecycle';
import type { OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  assertTenantIdParam,
  evolveTenantSummary,
  tenantNotFound,
  toSummaryEvent,
  type TenantSummary,
} from '@app/tenancy';
import { consoleEventView, sseFrame } from './views';

/** The parts of Node's `ServerResponse` a server-sent event stream writes to. */
export interface SseResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): unknown;
  on(event: 'close', listener: () => void): unknown;
  readonly writableNeedDrain?: boolean;
  flushHeaders?(): void;
}

export interface TenantStreamsOptions {
  pollMs: number;
  /** Comment lines keep idle proxies and browsers from closing a quiet stream. */
  keepAliveMs?: number;
  pageSize?: number;
  logger: Logger;
  /**
   * Builds the `tenant` frame from the folded summary, and the tenant's state as the orchestrator folds it
   * (what the lifecycle deciders read to tell which actions the page may offer).
   */
  view: (summary: TenantSummary, state: TenantState) => unknown;
}

const DEFAULT_PAGE_SIZE = 500;

/** The orchestrator's fold of one recorded event. */
function evolveState(state: TenantState, event: RecordedEvent): TenantState {
  return evolve(state, event as unknown as TenantEvent);
}

/**
 * Live tenant streams for the console (`GET /api/v1/tenants/:id/stream`). Each connection polls its tenant's
 * stream (a few hundred events per tenant at most, so per-connection polling is cheap and needs no shared
 * subscription state), folds new events into the summary, and sends `event` frames for each new event and a
 * `tenant` frame after each change. Connections end when the client goes away or the app shuts down.
 */
export class TenantStreams implements OnModuleDestroy {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly store: EventStore,
    private readonly options: TenantStreamsOptions,
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  /**
   * Validates and loads the tenant before any header is written, so a bad id or unknown tenant is answered as
   * JSON by the exception filter; after that the response is the event stream.
   */
  async serve(tenantId: string, fromRevision: number, response: SseResponse): Promise<void> {
    assertTenantIdParam(tenantId);
    const stream = tenantStream(tenantId);
    const pageSize = this.options.pageSize ?? DEFAULT_PAGE_SIZE;
    let summary: TenantSummary | null = null;
    let state = initialState();
    let next = 0;
    const initial: RecordedEvent[] = [];
    for (;;) {
      const page = await this.readPage(stream, next, pageSize);
      if (page === undefined) {
        throw tenantNotFound(tenantId);
      }
      initial.push(...page);
      for (const event of page) {
        summary = evolveTenantSummary(summary, toSummaryEvent(event));
        state = evolveState(state, event);
      }
      if (page.length > 0) next = page[page.length - 1].revision + 1;
      if (page.length < pageSize) break;
    }

    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders?.();
    response.write('retry: 2000\n\n');
    for (const event of initial) {
      if (event.revision >= fromRevision)
        response.write(sseFrame('event', consoleEventView(event), event.revision));
    }
    if (summary) response.write(sseFrame('tenant', this.options.view(summary, state)));

    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let lastWrite = Date.now();
    const logger = this.options.logger.child({ tenantId });
    const close = () => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      this.open.delete(close);
      response.end();
    };
    this.open.add(close);
    response.on('close', close);

    const poll = async () => {
      if (closed) return;
      try {
        // A client that stopped reading gets nothing more until its buffer drains.
        if (!response.writableNeedDrain) {
          const page = (await this.readPage(stream, next, pageSize)) ?? [];
          if (closed) return;
          for (const event of page) {
            summary = evolveTenantSummary(summary, toSummaryEvent(event));
            state = evolveState(state, event);
            response.write(sseFrame('event', consoleEventView(event), event.revision));
            next = event.revision + 1;
          }
          if (page.length > 0 && summary) {
            response.write(sseFrame('tenant', this.options.view(summary, state)));
            lastWrite = Date.now();
          } else if (Date.now() - lastWrite >= (this.options.keepAliveMs ?? 15_000)) {
            response.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
        }
      } catch (error) {
        // A store outage is reported to the page and polling goes on: the page shows it is not live.
        logger.warn({ err: error }, 'console stream read failed');
        if (!closed) response.write(sseFrame('stream-error', { error: 'EVENT_STORE_UNAVAILABLE' }));
      }
      if (!closed) timer = setTimeout(() => void poll(), this.options.pollMs);
    };
    timer = setTimeout(() => void poll(), this.options.pollMs);
  }

  /** Ends every open stream; the HTTP server can then close without waiting for browsers to leave. */
  onModuleDestroy(): void {
    for (const close of [...this.open]) close();
  }

  private async readPage(stream: string, from: number, limit: number): Promise<RecordedEvent[] | undefined> {
    try {
      return await this.store.readStream(stream, { from, limit });
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  }
}
