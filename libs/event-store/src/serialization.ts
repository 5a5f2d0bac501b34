import { InvalidEventStoreArgumentError, UpcastError } from './errors';
import type { EventData, RecordedMetadata, Upcasters } from './types';

export interface SerializedEvent {
  id: string;
  type: string;
  /** JSON text of `data`. */
  data: string;
  /** JSON text of the metadata, with `schemaVersion` always present. */
  metadata: string;
}

/** JSON with a schema version per event: `metadata.schemaVersion` (default 1) tells upcasters what they read. */
export function serializeEvent(event: EventData): SerializedEvent {
  const schemaVersion = event.metadata?.schemaVersion ?? 1;
  if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1) {
    throw new InvalidEventStoreArgumentError(
      `metadata.schemaVersion of ${event.type} must be a positive integer`,
    );
  }
  try {
    const data = JSON.stringify(event.data ?? null);
    const metadata = JSON.stringify({ ...(event.metadata ?? {}), schemaVersion });
    return { id: event.id.toLowerCase(), type: event.type, data, metadata };
  } catch (error) {
    throw new InvalidEventStoreArgumentError(
      `Event ${event.type} is not JSON-serialisable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function parseMetadata(value: unknown): RecordedMetadata {
  const raw: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  const object =
    raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const version = object['schemaVersion'];
  return { ...object, schemaVersion: typeof version === 'number' ? version : 1 };
}

/**
 * Runs the type's upcaster on every read, with the stored schema version; metadata keeps the stored version
 * so an audit shows what was written, while `data` has the shape today's code expects.
 */
export function upcast(
  upcasters: Upcasters | undefined,
  type: string,
  data: unknown,
  metadata: RecordedMetadata,
) {
  const upcaster = upcasters?.[type];
  if (!upcaster) return data;
  try {
    return upcaster(data, metadata.schemaVersion);
  } catch (cause) {
    throw new UpcastError(type, metadata.schemaVersion, { cause });
  }
}
