import { InMemoryDedupeStore } from './dedupe';
import { assertPublishable, parseEnvelope, publishOptionsFor } from './envelope';
import { redactUrl } from './options';

const message = {
  type: 'ProvisionDatabases',
  data: { tier: 'premium' },
  metadata: {
    messageId: 'm-1',
    schemaVersion: 2,
    occurredAt: '2025-01-15T10:00:00.000Z',
    tenantId: 'abc-corporation-7f3a9c',
    correlationId: 'c-1',
    causationId: null,
    commandId: 'cmd-1',
    actor: 'orchestrator',
  },
};

describe('envelope <-> AMQP', () => {
  it('maps the envelope onto persistent, mandatory AMQP properties and headers', () => {
    expect(publishOptionsFor(message)).toEqual({
      persistent: true,
      mandatory: true,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      messageId: 'm-1',
      correlationId: 'c-1',
      type: 'ProvisionDatabases',
      timestamp: Date.parse('2025-01-15T10:00:00.000Z') / 1000,
      appId: 'orchestrator',
      headers: {
        'causation-id': null,
        'tenant-id': 'abc-corporation-7f3a9c',
        'schema-version': 2,
        'command-id': 'cmd-1',
        actor: 'orchestrator',
      },
    });
  });

  it('parses a well-formed body and names what is wrong with a bad one', () => {
    expect(parseEnvelope(Buffer.from(JSON.stringify(message)), { contentType: 'application/json' })).toEqual({
      ok: true,
      message,
    });
    const reason = (body: string, contentType?: string) => {
      const result = parseEnvelope(Buffer.from(body), { contentType });
      return result.ok ? 'ok' : result.reason;
    };
    expect(reason('{oops')).toBe('body is not valid JSON');
    expect(reason('[]')).toBe('envelope is not an object');
    expect(reason(JSON.stringify({ ...message, type: '' }))).toBe('envelope.type is missing');
    expect(reason(JSON.stringify({ type: 'X', metadata: message.metadata }))).toBe(
      'envelope.data is missing',
    );
    const { tenantId: _t, ...noTenant } = message.metadata;
    expect(reason(JSON.stringify({ ...message, metadata: noTenant }))).toBe(
      'envelope.metadata.tenantId is missing',
    );
    expect(reason(JSON.stringify(message), 'text/plain')).toBe('content type text/plain');
  });

  it('refuses to publish an incomplete envelope', () => {
    expect(() => assertPublishable({ ...message, metadata: { ...message.metadata, messageId: '' } })).toThrow(
      expect.objectContaining({ code: 'MESSAGING.INVALID_MESSAGE' }),
    );
  });
});

describe('InMemoryDedupeStore', () => {
  it('forgets the least recently seen id first', async () => {
    const store = new InMemoryDedupeStore(2);
    await store.add('a');
    await store.add('b');
    expect(await store.has('a')).toBe(true);
    await store.add('c');
    expect(await store.has('b')).toBe(false);
    expect(await store.has('a')).toBe(true);
    expect(await store.has('c')).toBe(true);
    expect(store.size).toBe(2);
  });
});

describe('redactUrl', () => {
  it('hides the password', () => {
    expect(redactUrl('amqp://svc:s3cret@rabbit:5672/t1')).toBe('amqp://svc:***@rabbit:5672/t1');
  });

  it('hides all of a password holding a raw @', () => {
    const redacted = redactUrl('amqp://u:p@ss@rabbit/t1');
    expect(redacted).toBe('amqp://u:***@rabbit/t1');
    expect(redacted).not.toContain('ss');
  });

  it('never echoes a password holding a raw /', () => {
    for (const url of ['amqp://u:k3y/v4l@rabbit/t1', 'amqp://u:12/v4l@rabbit/t1']) {
      const redacted = redactUrl(url);
      expect(redacted).not.toContain('k3y');
      expect(redacted).not.toContain('v4l');
    }
  });

  it('leaves a url without credentials as it is, and does not echo one it cannot parse', () => {
    expect(redactUrl('amqp://rabbit:5672/t1')).toBe('amqp://rabbit:5672/t1');
    expect(redactUrl('amqps://svc@rabbit/t1')).toBe('amqps://svc@rabbit/t1');
    expect(redactUrl('not a url s3cret')).toBe('<unparseable AMQP URL>');
  });
});
