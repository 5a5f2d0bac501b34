import { v5 as uuidv5, validate as uuidValidate } from 'uuid';

/** Namespace for every name-based (v5) UUID of this system; changing it would break idempotency of retries. */
const ID_NAMESPACE = '6f1d3c2e-5a7b-4c8d-9e0f-1a2b3c4d5e6f';

/**
 * A UUID derived from its parts, the same on every call: a retried command appends the same event id,
 * which the event store then refuses to append twice (DESIGN.md section 4).
 */
export function deterministicId(...parts: string[]): string {
  return uuidv5(parts.join('\u001f'), ID_NAMESPACE);
}

/** Id of the result event a service appends for a command (success and failure share it: one outcome per command). */
export function resultEventId(commandId: string): string {
  return deterministicId('result', commandId);
}

export function isUuid(value: string): boolean {
  return uuidValidate(value);
}
