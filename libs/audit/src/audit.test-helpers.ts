import { randomBytes, randomUUID } from 'node:crypto';
import { tenantStream } from '@app/contracts';
import type { EventStore } from '@app/event-store';
import pino from 'pino';

export const silentLogger = pino({ level: 'silent' });

export function uniqueTenantId(slug = 'acme'): string {
  return `${slug}-${randomBytes(3).toString('hex')}`;
}

/** Appends `count` events with expectedRevision 'any', one append each, as concurrent services do. */
export async function appendTenantEvents(
  store: EventStore,
  tenantId: string,
  count: number,
  writer = 'writer',
): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await store.append(
      tenantStream(tenantId),
      [
        {
          id: randomUUID(),
          type: 'StepCompleted',
          data: { writer, i, amount: 0.1 * i, label: `étape ${i}`, nested: { z: 1, a: [true, null] } },
          metadata: { schemaVersion: 1, actor: writer, correlationId: randomUUID() } as {
            schemaVersion: number;
          },
        },
      ],
      { expectedRevision: 'any' },
    );
  }
}

/** Polls until `check` holds; throws with the last observed value after `timeoutMs`. */
export async function waitUntil<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value)) {
    if (Date.now() > deadline) throw new Error(`condition not reached; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}
