import { tenantStream, type TenantProfile } from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import pino from 'pino';
import { UseCaseError } from '@app/tenancy';
import { TenantStreams, type SseResponse } from './tenant-streams';

const tenantId = 'abc-corporation-7f3a9c';
const tenant: TenantProfile = {
  tenantId,
  companyName: 'ABC Corporation',
  adminEmail: 'admin@abc-corp.com',
  billingEmail: 'billing@abc-corp.com',
  tier: 'premium',
  region: 'us-east',
  domain: 'abc-corporation.collectverything.com',
  subscriptionId: 'sub_abc123',
  plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-01-15T10:00:00.000Z',
};

/** Records what the stream writes; `close()` plays the client going away. */
class FakeResponse implements SseResponse {
  status = 0;
  headers: Record<string, string> = {};
  chunks: string[] = [];
  ended = false;
  private onClose: (() => void)[] = [];
  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = headers;
  }
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end() {
    this.ended = true;
  }
  on(_event: 'close', listener: () => void) {
    this.onClose.push(listener);
  }
  close() {
    for (const listener of this.onClose) listener();
  }
  frames(name: string): unknown[] {
    return this.chunks
      .join('')
      .split('\n\n')
      .filter((frame) => frame.startsWith(`event: ${name}\n`))
      .map((frame) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as unknown);
  }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error('condition not met');
}

describe('live tenant stream', () => {
  let store: MemoryEventStore;
  let streams: TenantStreams;

  beforeEach(async () => {
    store = new MemoryEventStore();
    streams = new TenantStreams(store, {
      pollMs: 20,
      logger: pino({ level: 'silent' }),
      // The orchestrator's fold beside the summary's (its revision counts the events folded): what the
      // lifecycle deciders of the page's actions read.
      view: (summary, state) => ({
        state: summary.status,
        revision: summary.revision,
        folded: state.revision,
      }),
    });
    await store.append(
      tenantStream(tenantId),
      [
        {
          id: '00000000-0000-4000-8000-000000000001',
          type: 'TenantRequested',
          data: { tenant, source: 'webhook' },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
  });

  afterEach(async () => {
    streams.onModuleDestroy();
    await store.close();
  });

  it('sends the history and the tenant view, then each new event as it is appended, until the client leaves', async () => {
    const response = new FakeResponse();
    await streams.serve(tenantId, 0, response);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.frames('event')).toEqual([
      expect.objectContaining({ revision: 0, type: 'TenantRequested' }),
    ]);
    expect(response.frames('tenant')).toEqual([{ state: 'requested', revision: 0, folded: 1 }]);

    await store.append(
      tenantStream(tenantId),
      [
        {
          id: '00000000-0000-4000-8000-000000000002',
          type: 'TenantActivated',
          data: { activatedAt: '2025-01-15T10:05:00Z' },
        },
      ],
      { expectedRevision: 0 },
    );
    await until(() => response.frames('tenant').length === 2);
    expect(response.frames('event').map((e) => (e as { type: string }).type)).toEqual([
      'TenantRequested',
      'TenantActivated',
    ]);
    expect(response.frames('tenant')[1]).toEqual({ state: 'active', revision: 1, folded: 2 });
    expect(streams.openCount).toBe(1);

    response.close();
    expect(response.ended).toBe(true);
    expect(streams.openCount).toBe(0);
  });

  it('resumes from a revision without resending older events, and still sends the whole view', async () => {
    const response = new FakeResponse();
    await streams.serve(tenantId, 1, response);
    expect(response.frames('event')).toEqual([]);
    expect(response.frames('tenant')).toHaveLength(1);
  });

  it('answers an unknown tenant or a malformed id before any header is written', async () => {
    const response = new FakeResponse();
    await expect(streams.serve('nobody-here-000000', 0, response)).rejects.toMatchObject({
      code: 'QUERY.TENANT_NOT_FOUND',
    });
    await expect(streams.serve('../etc', 0, response)).rejects.toBeInstanceOf(UseCaseError);
    expect(response.status).toBe(0);
  });

  it('ends every open stream when the app shuts down', async () => {
    const response = new FakeResponse();
    await streams.serve(tenantId, 0, response);
    streams.onModuleDestroy();
    expect(response.ended).toBe(true);
    expect(streams.openCount).toBe(0);
  });
});
