import { BILLING_EVENTS, INTEGRATION_EVENTS } from '@app/contracts';
import { HTTP } from 'cloudevents';
import {
  billingCloudEventType,
  CLOUDEVENTS_CONTENT_TYPE,
  decodeBillingDelivery,
  decodeCloudEvent,
  decodeIntegrationDelivery,
  encodeCloudEvent,
  integrationCloudEventType,
  isCloudEventDelivery,
  type CloudEventInput,
} from './cloudevents';
import { MessagingError } from './errors';

const activated: CloudEventInput = {
  id: '0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a',
  source: 'urn:collectverything:tenant-provisioning:orchestrator',
  type: integrationCloudEventType(INTEGRATION_EVENTS.activated),
  subject: 'abc-corporation-7f3a9c',
  time: '2025-01-15T10:00:00.000Z',
  data: { tenantId: 'abc-corporation-7f3a9c', event: 'TenantActivated', activatedAt: '2025-01-15T10:00:00Z' },
  correlationId: 'corr-1',
  causationId: 'evt-1',
};

const billingPayload = {
  event: 'subscription.created',
  timestamp: '2025-01-15T10:00:00Z',
  data: { subscription_id: 'sub_123', customer: { name: 'Bus Shop', email: 'owner@bus.example' } },
};

describe('CloudEvents on the bus', () => {
  it('names types in the platform namespace', () => {
    expect(integrationCloudEventType('tenant.activated')).toBe('com.collectverything.tenant.activated');
    expect(billingCloudEventType('subscription.created')).toBe(
      'com.collectverything.billing.subscription.created',
    );
  });

  it('encodes a structured-mode event that the SDK reads back whole, with the binding properties beside it', () => {
    const encoded = encodeCloudEvent(activated);
    expect(encoded.properties).toEqual({
      persistent: true,
      contentType: CLOUDEVENTS_CONTENT_TYPE,
      messageId: activated.id,
      correlationId: 'corr-1',
      type: 'com.collectverything.tenant.activated',
      timestamp: Date.parse(activated.time) / 1000,
      headers: {
        'cloudEvents:specversion': '1.0',
        'cloudEvents:id': activated.id,
        'cloudEvents:type': 'com.collectverything.tenant.activated',
        'cloudEvents:source': activated.source,
        'cloudEvents:subject': 'abc-corporation-7f3a9c',
        'cloudEvents:time': activated.time,
      },
    });
    const event = HTTP.toEvent({
      headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE },
      body: encoded.body.toString('utf8'),
    });
    expect(JSON.parse(JSON.stringify(event))).toEqual({
      specversion: '1.0',
      id: activated.id,
      source: activated.source,
      type: 'com.collectverything.tenant.activated',
      subject: 'abc-corporation-7f3a9c',
      time: activated.time,
      datacontenttype: 'application/json',
      data: activated.data,
      correlationid: 'corr-1',
      causationid: 'evt-1',
    });
  });

  it('carries the trace context as the Distributed Tracing extension, in the body and beside it', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = { ...activated, traceContext: { traceparent, tracestate: 'vendor=a1' } };
    const encoded = encodeCloudEvent(traced);
    const body = JSON.parse(encoded.body.toString('utf8')) as Record<string, unknown>;
    expect(body).toMatchObject({ traceparent, tracestate: 'vendor=a1' });
    expect(encoded.properties.headers).toMatchObject({
      'cloudEvents:traceparent': traceparent,
      'cloudEvents:tracestate': 'vendor=a1',
    });
    // The SDK reads it back as extension attributes; the same input always gives the same body.
    const event = HTTP.toEvent({ headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE }, body: body });
    expect(event).toMatchObject({ traceparent, tracestate: 'vendor=a1' });
    expect(encodeCloudEvent(traced).body.equals(encoded.body)).toBe(true);
    // Anything that is not a W3C traceparent is left out, not sent on (stored metadata may hold anything).
    for (const bad of ['garbage', 42, undefined, `${traceparent}\n`]) {
      const plain = encodeCloudEvent({ ...activated, traceContext: { traceparent: bad, tracestate: 'x=1' } });
      expect(JSON.parse(plain.body.toString('utf8'))).not.toHaveProperty('traceparent');
      expect(JSON.parse(plain.body.toString('utf8'))).not.toHaveProperty('tracestate');
      expect(plain.properties.headers).not.toHaveProperty('cloudEvents:traceparent');
    }
  });

  it('refuses to encode an invalid event with a typed error naming the attribute', () => {
    const attempt = () => encodeCloudEvent({ ...activated, time: 'yesterday' });
    expect(attempt).toThrow(MessagingError);
    expect(attempt).toThrow(/not a valid CloudEvent: invalid payload: \/time must match format "date-time"/);
    expect(() => encodeCloudEvent({ ...activated, source: '' })).toThrow(/source/);
  });

  it('decodes an integration event into the house envelope, deduplicated by its id', () => {
    const encoded = encodeCloudEvent(activated);
    const parsed = decodeIntegrationDelivery(encoded.body, encoded.properties);
    expect(parsed).toEqual({
      ok: true,
      message: {
        type: 'tenant.activated',
        data: activated.data,
        metadata: {
          messageId: activated.id,
          schemaVersion: 1,
          occurredAt: activated.time,
          tenantId: 'abc-corporation-7f3a9c',
          correlationId: 'corr-1',
          causationId: 'evt-1',
          actor: activated.source,
        },
      },
    });
  });

  it('refuses an integration delivery that is not a valid CloudEvent, naming why', () => {
    const notCe = decodeIntegrationDelivery(Buffer.from('{"type":"x"}'), { contentType: 'application/json' });
    expect(notCe).toMatchObject({
      ok: false,
      code: 'MESSAGING.MALFORMED',
      reason: /no cloud event detected/,
    });
    const noSubject = encodeCloudEvent({ ...activated });
    const body = JSON.parse(noSubject.body.toString('utf8')) as Record<string, unknown>;
    delete body.subject;
    expect(
      decodeIntegrationDelivery(Buffer.from(JSON.stringify(body)), { contentType: CLOUDEVENTS_CONTENT_TYPE }),
    ).toMatchObject({ ok: false, reason: 'integration CloudEvent without subject (the tenant id)' });
    delete body.type;
    expect(
      decodeCloudEvent(Buffer.from(JSON.stringify(body)), { contentType: CLOUDEVENTS_CONTENT_TYPE }),
    ).toMatchObject({ ok: false, reason: /must have required property 'type'/ });
    expect(
      decodeCloudEvent(Buffer.from('[]'), { contentType: 'application/cloudevents-batch+json' }),
    ).toMatchObject({ ok: false, reason: /not supported/ });
  });

  it('accepts billing events as a structured CloudEvent, a binary CloudEvent, or the house envelope', () => {
    const type = billingCloudEventType(BILLING_EVENTS.created);
    const structured = encodeCloudEvent({
      id: 'billing-evt-1',
      source: 'https://billing.collectverything.com',
      type,
      subject: 'sub_123',
      time: '2025-01-15T10:00:00.000Z',
      data: billingPayload,
      correlationId: 'billing-corr-1',
    });
    expect(decodeBillingDelivery(structured.body, structured.properties)).toMatchObject({
      ok: true,
      message: {
        type: 'subscription.created',
        data: billingPayload,
        metadata: { messageId: 'billing-evt-1', tenantId: 'sub_123', correlationId: 'billing-corr-1' },
      },
    });

    const headers = {
      'cloudEvents:specversion': '1.0',
      'cloudEvents:id': 'billing-evt-2',
      'cloudEvents:source': '/billing',
      cloudEvents_type: type,
      'cloudEvents:time': '2025-01-15T10:00:00Z',
    };
    const binary = { contentType: 'application/json', headers };
    expect(isCloudEventDelivery(binary)).toBe(true);
    expect(decodeBillingDelivery(Buffer.from(JSON.stringify(billingPayload)), binary)).toMatchObject({
      ok: true,
      message: {
        type: 'subscription.created',
        data: billingPayload,
        // No subject: the payload's subscription id, as billing's house envelopes carry it.
        metadata: {
          messageId: 'billing-evt-2',
          tenantId: 'sub_123',
          correlationId: 'billing-evt-2',
          actor: '/billing',
        },
      },
    });

    const envelope = {
      type: 'subscription.created',
      data: billingPayload,
      metadata: {
        messageId: 'm-1',
        schemaVersion: 1,
        occurredAt: '2025-01-15T10:00:00.000Z',
        tenantId: 'sub_123',
        correlationId: 'c-1',
        causationId: null,
        actor: 'billing',
      },
    };
    const plain = { contentType: 'application/json', headers: {} };
    expect(isCloudEventDelivery(plain)).toBe(false);
    expect(decodeBillingDelivery(Buffer.from(JSON.stringify(envelope)), plain)).toEqual({
      ok: true,
      message: envelope,
    });
  });

  it('keeps an unknown billing CloudEvent type for the consumer to park, and refuses non-object data', () => {
    const other = encodeCloudEvent({
      id: 'billing-evt-3',
      source: '/billing',
      type: 'com.collectverything.billing.invoice.paid',
      subject: 'sub_123',
      time: '2025-01-15T10:00:00.000Z',
      data: billingPayload,
      correlationId: 'c',
    });
    expect(decodeBillingDelivery(other.body, other.properties)).toMatchObject({
      ok: true,
      message: { type: 'com.collectverything.billing.invoice.paid' },
    });
    const text = encodeCloudEvent({
      ...activated,
      type: billingCloudEventType('subscription.created'),
      data: 'x',
    });
    expect(decodeBillingDelivery(text.body, text.properties)).toEqual({
      ok: false,
      code: 'MESSAGING.MALFORMED',
      reason: 'CloudEvent data must be the subscription payload, a JSON object',
    });
  });
});
