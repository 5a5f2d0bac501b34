import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ConsumeMessage } from 'amqplib';
import { HEADERS } from './envelope';
import { MessagingError } from './errors';
import { SpanRecorder } from '@app/testing';
import {
  brokerEndpoint,
  deliveryTraceContext,
  recordDeliveryFailure,
  traceDelivery,
  traceHeaders,
  tracePublish,
} from './trace-spans';

const facts = {
  exchange: 'provisioning.commands',
  routingKey: 'database.provision',
  messageId: 'msg-1',
  correlationId: 'corr-1',
  tenantId: 'acme-1a2b3c',
  type: 'ProvisionDatabases',
  bodySize: 120,
  server: { address: 'rabbitmq.internal', port: 5672 },
};

/** A delivery as amqplib hands it over, with the headers a publish sent. */
function delivery(headers: Record<string, unknown>, fields: Partial<ConsumeMessage['fields']> = {}) {
  return {
    content: Buffer.from('{}'),
    fields: {
      deliveryTag: 7,
      redelivered: false,
      exchange: 'provisioning.commands',
      routingKey: 'database.provision',
      consumerTag: 'c',
      ...fields,
    },
    properties: {
      messageId: 'msg-1',
      correlationId: 'corr-1',
      type: 'ProvisionDatabases',
      contentType: 'application/json',
      headers: { [HEADERS.tenantId]: 'acme-1a2b3c', ...headers },
    },
  } as unknown as ConsumeMessage;
}

describe('the broker a span names (server.address, server.port)', () => {
  it('takes host and port from the AMQP URL, never its credentials, with the protocol default port', () => {
    expect(brokerEndpoint('amqp://svc:s3cr3t@rabbitmq.internal:5673/tenants')).toEqual({
      address: 'rabbitmq.internal',
      port: 5673,
    });
    expect(brokerEndpoint('amqp://guest:guest@127.0.0.1')).toEqual({ address: '127.0.0.1', port: 5672 });
    expect(brokerEndpoint('amqps://u:p@[::1]/v')).toEqual({ address: '::1', port: 5671 });
    expect(JSON.stringify(brokerEndpoint('amqp://svc:s3cr3t@host:1'))).not.toContain('s3cr3t');
    expect(brokerEndpoint('not a url')).toBeUndefined();
  });
});

describe('AMQP trace context, tracing off', () => {
  it('writes no header and publishes exactly as before', async () => {
    let sent: Record<string, string> | undefined;
    await tracePublish(facts, async (headers) => {
      sent = headers;
    });
    expect(sent).toEqual({});
    expect(traceHeaders()).toEqual({});
    expect(trace.getSpanContext(deliveryTraceContext({ traceparent: 'garbage' }))).toBeUndefined();
  });
});

describe('AMQP trace context, tracing on', () => {
  const recorder = new SpanRecorder();
  beforeAll(() => recorder.start());
  afterAll(() => recorder.stop());

  it('publishes in a PRODUCER span whose context goes out in the headers', async () => {
    let sent: Record<string, string> = {};
    await trace.getTracer('test').startActiveSpan('decide', async (decide) => {
      await tracePublish(facts, async (headers) => {
        sent = headers;
      });
      decide.end();
    });
    const publish = await recorder.span('publish provisioning.commands');
    const decide = await recorder.span('decide');
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.parentSpanContext?.spanId).toBe(decide.spanContext().spanId);
    expect(publish.attributes).toEqual({
      'messaging.system': 'rabbitmq',
      'messaging.operation.name': 'publish',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'provisioning.commands',
      'messaging.rabbitmq.destination.routing_key': 'database.provision',
      'messaging.message.id': 'msg-1',
      'messaging.message.conversation_id': 'corr-1',
      'messaging.message.body.size': 120,
      'provisioning.tenant.id': 'acme-1a2b3c',
      'provisioning.message.type': 'ProvisionDatabases',
      'server.address': 'rabbitmq.internal',
      'server.port': 5672,
    });
    const { traceId, spanId } = publish.spanContext();
    expect(sent.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });

  it('processes each delivery in a CONSUMER span, child of the publish span, with the handler under it', async () => {
    let headers: Record<string, string> = {};
    await tracePublish({ ...facts, messageId: 'msg-2' }, async (sent) => {
      headers = sent;
    });
    let handlerSpan: string | undefined;
    const outcome = await traceDelivery(
      delivery(headers),
      'e2e.provisioning.database-service',
      async () => {
        handlerSpan = trace.getActiveSpan()?.spanContext().spanId;
        return 'handled';
      },
      { address: '10.0.0.7', port: 5671 },
    );
    expect(outcome).toBe('handled');
    const publish = (await recorder.spans()).find((s) => s.attributes['messaging.message.id'] === 'msg-2')!;
    const process = (await recorder.spans()).find((s) => s.name === 'process provisioning.commands')!;
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(publish.spanContext().traceId);
    expect(process.parentSpanContext).toMatchObject({ spanId: publish.spanContext().spanId, isRemote: true });
    expect(handlerSpan).toBe(process.spanContext().spanId);
    expect(process.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'provisioning.commands',
      'messaging.destination.subscription.name': 'e2e.provisioning.database-service',
      'messaging.rabbitmq.destination.routing_key': 'database.provision',
      'messaging.rabbitmq.message.delivery_tag': 7,
      'messaging.message.id': 'msg-1',
      'provisioning.tenant.id': 'acme-1a2b3c',
      'provisioning.delivery.attempt': 1,
      'provisioning.delivery.outcome': 'handled',
      'server.address': '10.0.0.7',
      'server.port': 5671,
    });
    expect(process.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('reads a retried copy as its first publish: same trace, original exchange, next attempt', async () => {
    const { traceparent } = await trace.getTracer('test').startActiveSpan('origin', async (span) => {
      span.end();
      return { traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01` };
    });
    // Headers come back from the broker as strings or, for some clients, as bytes.
    const copy = delivery(
      {
        traceparent: Buffer.from(traceparent),
        [HEADERS.retryCount]: 2,
        [HEADERS.originalExchange]: 'provisioning.commands',
        [HEADERS.originalRoutingKey]: 'database.provision',
      },
      { exchange: '', routingKey: 'e2e.provisioning.database-service.retry.2', deliveryTag: 9 },
    );
    await traceDelivery(copy, 'e2e.provisioning.database-service', async () => {
      recordDeliveryFailure({ retryable: true, code: 'DATABASE.LOCK_TIMEOUT', message: 'lock wait timeout' });
      return 'retried';
    });
    const retried = (await recorder.spans()).find(
      (s) => s.attributes['messaging.rabbitmq.message.delivery_tag'] === 9,
    )!;
    expect(retried.name).toBe('process provisioning.commands');
    expect(retried.spanContext().traceId).toBe(traceparent.split('-')[1]);
    expect(retried.attributes).toMatchObject({
      'provisioning.delivery.attempt': 3,
      'provisioning.delivery.outcome': 'retried',
      'error.type': 'DATABASE.LOCK_TIMEOUT',
    });
    expect(retried.status).toEqual({ code: SpanStatusCode.ERROR, message: 'DATABASE.LOCK_TIMEOUT' });
    expect(retried.events[0].attributes).toMatchObject({ 'exception.message': 'lock wait timeout' });
  });

  it("continues a CloudEvent's Distributed Tracing extension when the AMQP headers carry no trace context", async () => {
    const origin = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const other = '00-11111111111111111111111111111111-2222222222222222-01';
    await traceDelivery(
      delivery({ 'cloudEvents:traceparent': origin }, { deliveryTag: 21 }),
      'q',
      async () => 'handled',
    );
    await traceDelivery(
      delivery({ cloudEvents_traceparent: Buffer.from(origin) }, { deliveryTag: 22 }),
      'q',
      async () => 'handled',
    );
    // The AMQP header (the publish span) wins over the extension (where the fact was recorded).
    await traceDelivery(
      delivery({ traceparent: other, 'cloudEvents:traceparent': origin }, { deliveryTag: 23 }),
      'q',
      async () => 'handled',
    );
    const byTag = async (tag: number) =>
      (await recorder.spans()).find((s) => s.attributes['messaging.rabbitmq.message.delivery_tag'] === tag)!;
    for (const tag of [21, 22]) {
      expect((await byTag(tag)).parentSpanContext).toMatchObject({
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        isRemote: true,
      });
    }
    expect((await byTag(23)).parentSpanContext).toMatchObject({ spanId: '2222222222222222' });
  });

  it('a delivery without trace context starts a trace of its own', async () => {
    await traceDelivery(delivery({}, { deliveryTag: 11 }), 'q', async () => 'parked');
    const alone = (await recorder.spans()).find(
      (s) => s.attributes['messaging.rabbitmq.message.delivery_tag'] === 11,
    )!;
    expect(alone.parentSpanContext).toBeUndefined();
  });

  it('marks a publish the broker refused with its error code and rethrows the error', async () => {
    const refused = new MessagingError('MESSAGING.UNROUTABLE', 'no queue bound to provisioning.commands');
    await expect(
      tracePublish({ ...facts, messageId: 'msg-3' }, async () => {
        throw refused;
      }),
    ).rejects.toBe(refused);
    const publish = (await recorder.spans()).find((s) => s.attributes['messaging.message.id'] === 'msg-3')!;
    expect(publish.status).toEqual({ code: SpanStatusCode.ERROR, message: 'MESSAGING.UNROUTABLE' });
    expect(publish.attributes['error.type']).toBe('MESSAGING.UNROUTABLE');
  });
});
