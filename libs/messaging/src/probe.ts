import { randomUUID } from 'node:crypto';
import * as amqplib from 'amqplib';
import type { ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import { errorMessage } from './errors';

export interface AmqpProbeInput {
  /** Broker address without credentials or vhost, e.g. amqp://127.0.0.1:5672 (amqps:// for TLS). */
  url: string;
  vhost: string;
  user: string;
  password: string;
  exchange: string;
  routingKey: string;
  /**
   * Queue the routing key leads to; the probe message is read back from it (meant for a freshly
   * provisioned, still empty queue: other messages met on the way are returned to the queue). Without it
   * the probe binds a temporary exclusive queue, which needs configure permission.
   */
  queue?: string;
  timeoutMs?: number;
}

export type ProbeStepName = 'connect' | 'publish' | 'consume';
export type ProbeFailureCode =
  'ACCESS_REFUSED' | 'NOT_FOUND' | 'UNROUTABLE' | 'CONNECTION_FAILED' | 'TIMEOUT' | 'PROTOCOL_ERROR';

export interface ProbeStep {
  step: ProbeStepName;
  ok: boolean;
  durationMs: number;
  code?: ProbeFailureCode;
  detail?: string;
}

export interface AmqpProbeResult {
  ok: boolean;
  vhost: string;
  user: string;
  steps: ProbeStep[];
  failure?: { step: ProbeStepName; code: ProbeFailureCode; message: string };
}

class ProbeFailure extends Error {
  constructor(
    readonly code: ProbeFailureCode,
    message: string,
  ) {
    super(message);
  }
}

function classify(error: unknown, password: string): ProbeFailure {
  if (error instanceof ProbeFailure) return error;
  const raw = errorMessage(error);
  const message = password.length > 0 ? raw.split(password).join('***') : raw;
  // amqplib drops the reply code when the broker closes the connection in answer to connection.open:
  // RabbitMQ does that only to refuse the vhost (no permission, or no such vhost).
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    return new ProbeFailure(
      'ACCESS_REFUSED',
      'access to the vhost refused (no permission, or no such vhost)',
    );
  }
  const code: ProbeFailureCode = /not.found|404/i.test(message)
    ? 'NOT_FOUND'
    : /access.refused|not.allowed|403|530/i.test(message)
      ? 'ACCESS_REFUSED'
      : /timeout|timed out|ETIMEDOUT/i.test(message)
        ? 'TIMEOUT'
        : /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|socket/i.test(message)
          ? 'CONNECTION_FAILED'
          : 'PROTOCOL_ERROR';
  return new ProbeFailure(code, message);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new ProbeFailure('TIMEOUT', `${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Checks, as the tenant's own user, that it can connect to its vhost and move a message through its
 * exchange: connect, confirmed mandatory publish, read back. Never throws: every outcome is a result
 * (a refused vhost or bad credentials is `ACCESS_REFUSED`). Services use this instead of amqplib.
 */
export async function probeAmqpAccess(input: AmqpProbeInput): Promise<AmqpProbeResult> {
  const timeoutMs = input.timeoutMs ?? 5000;
  const steps: ProbeStep[] = [];
  const result = (): AmqpProbeResult => {
    const failed = steps.find((s) => !s.ok);
    return {
      ok: failed === undefined && steps.length === 3,
      vhost: input.vhost,
      user: input.user,
      steps,
      ...(failed
        ? {
            failure: {
              step: failed.step,
              code: failed.code ?? 'PROTOCOL_ERROR',
              message: failed.detail ?? '',
            },
          }
        : {}),
    };
  };
  const run = async <T>(step: ProbeStepName, work: () => Promise<T>): Promise<T | undefined> => {
    const started = Date.now();
    try {
      const value = await withTimeout(work(), timeoutMs, step);
      steps.push({ step, ok: true, durationMs: Date.now() - started });
      return value;
    } catch (error) {
      const failure = classify(error, input.password);
      steps.push({
        step,
        ok: false,
        durationMs: Date.now() - started,
        code: failure.code,
        detail: failure.message,
      });
      return undefined;
    }
  };

  let parsed: URL;
  try {
    parsed = new URL(input.url);
  } catch {
    steps.push({
      step: 'connect',
      ok: false,
      durationMs: 0,
      code: 'CONNECTION_FAILED',
      detail: 'invalid url',
    });
    return result();
  }
  let model: ChannelModel | undefined;
  let channel: Awaited<ReturnType<ChannelModel['createConfirmChannel']>> | undefined;
  try {
    model = await run('connect', () =>
      amqplib.connect(
        {
          protocol: parsed.protocol.replace(':', ''),
          hostname: parsed.hostname,
          port: parsed.port ? Number(parsed.port) : parsed.protocol === 'amqps:' ? 5671 : 5672,
          username: input.user,
          password: input.password,
          vhost: input.vhost,
          heartbeat: 10,
        },
        { timeout: timeoutMs, clientProperties: { connection_name: `probe:${input.user}` } },
      ),
    );
    if (!model) return result();
    model.on('error', () => undefined);
    const open = await model.createConfirmChannel();
    channel = open;
    let channelError: Error | undefined;
    open.on('error', (error: Error) => {
      channelError = error;
    });
    const probeId = `probe-${randomUUID()}`;
    let queue = input.queue;
    const published = await run('publish', async () => {
      if (queue === undefined) {
        const declared = await open.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        queue = declared.queue;
        await open.bindQueue(queue, input.exchange, input.routingKey);
      }
      await publishProbe(open, input.exchange, input.routingKey, probeId, () => channelError);
      return true;
    });
    if (!published || queue === undefined) return result();
    const target = queue;
    await run('consume', () => readBack(open, target, probeId, timeoutMs));
    return result();
  } finally {
    // The channel first: closing the connection right after the ack can lose the ack, which would leave the
    // probe message in the tenant's queue (seen on RabbitMQ 3.10 every time).
    await channel?.close().catch(() => undefined);
    await model?.close().catch(() => undefined);
  }
}

function publishProbe(
  channel: ConfirmChannel,
  exchange: string,
  routingKey: string,
  probeId: string,
  channelError: () => Error | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let returned = false;
    channel.once('return', () => {
      returned = true;
    });
    channel.once('close', () => reject(channelError() ?? new Error('channel closed during publish')));
    channel.publish(
      exchange,
      routingKey,
      Buffer.from(JSON.stringify({ probe: probeId })),
      {
        messageId: probeId,
        mandatory: true,
        persistent: false,
        contentType: 'application/json',
        type: 'probe',
      },
      (err) => {
        if (err) reject(err);
        else if (returned)
          reject(new ProbeFailure('UNROUTABLE', `no queue bound to ${exchange} for ${routingKey}`));
        else resolve();
      },
    );
  });
}

async function readBack(
  channel: ConfirmChannel,
  queue: string,
  probeId: string,
  timeoutMs: number,
): Promise<void> {
  const others: GetMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const message = await channel.get(queue, { noAck: false });
      if (message === false) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      if (message.properties.messageId === probeId) {
        channel.ack(message);
        return;
      }
      others.push(message);
    }
    throw new ProbeFailure('TIMEOUT', `probe message not read back from ${queue}`);
  } finally {
    for (const other of others) {
      try {
        channel.nack(other, false, true);
      } catch {
        // Channel already closed: the broker puts unacknowledged messages back by itself.
      }
    }
  }
}
