import { randomUUID } from 'node:crypto';
import type { EncodedCloudEvent } from '@app/messaging';

/** The context attributes of a CloudEvent sent in binary mode. */
export interface BinaryCloudEventAttributes {
  id: string;
  type: string;
  source: string;
  subject: string;
  time: string;
}

/**
 * A CloudEvent in the AMQP binding's binary mode, as a producer other than ours may send one (the publisher of
 * `@app/messaging` only writes structured mode): the attributes as `cloudEvents:` application properties, the
 * data as a JSON body, under an AMQP message id of its own (the transport's, not the event's).
 */
export function binaryCloudEvent(attributes: BinaryCloudEventAttributes, data: unknown): EncodedCloudEvent {
  const { id, type, source, subject, time } = attributes;
  return {
    id,
    type,
    subject,
    correlationId: id,
    body: Buffer.from(JSON.stringify(data)),
    properties: {
      persistent: true,
      contentType: 'application/json',
      messageId: randomUUID(),
      headers: {
        'cloudEvents:specversion': '1.0',
        'cloudEvents:id': id,
        'cloudEvents:source': source,
        'cloudEvents:type': type,
        'cloudEvents:subject': subject,
        'cloudEvents:time': time,
      },
    },
  };
}
