/**
 * Every message of the system, command or event, is `{ type, data, metadata }` (CONVENTIONS.md 2).
 * Metadata never carries secrets: only ids, timestamps and the acting service.
 */
export interface MessageMetadata {
  /** Unique id of this message. For result events it is derived from the command id (see `resultEventId`). */
  messageId: string;
  /** Version of the `data` schema of this message type; upcasters migrate older versions. */
  schemaVersion: number;
  /** ISO-8601 UTC instant at which the message was created. */
  occurredAt: string;
  tenantId: string;
  /** Id shared by every message that stems from one business request (e.g. one subscription event). */
  correlationId: string;
  /** Id of the message that directly caused this one; null for the first message of a correlation. */
  causationId: string | null;
  /** The command this message answers or is, when there is one. */
  commandId?: string;
  /** Service (or `operator:<name>`) that produced the message. */
  actor: string;
}

export interface Message<TType extends string = string, TData = unknown> {
  type: TType;
  data: TData;
  metadata: MessageMetadata;
}

/** Fields a producer chooses; the rest of the metadata is filled by `buildMetadata`. */
export interface MetadataInput {
  tenantId: string;
  correlationId: string;
  causationId?: string | null;
  commandId?: string;
  actor: string;
  schemaVersion?: number;
}

/**
 * The metadata of one message. `occurredAt` is a Date, or an ISO-8601 string kept as it is (a message that
 * re-publishes an event keeps the event's own instant).
 */
export function buildMetadata(
  input: MetadataInput,
  messageId: string,
  occurredAt: Date | string,
): MessageMetadata {
  return {
    messageId,
    schemaVersion: input.schemaVersion ?? 1,
    occurredAt: typeof occurredAt === 'string' ? occurredAt : occurredAt.toISOString(),
    tenantId: input.tenantId,
    correlationId: input.correlationId,
    causationId: input.causationId ?? null,
    ...(input.commandId ? { commandId: input.commandId } : {}),
    actor: input.actor,
  };
}

/** Builds a message; ids and time come from the caller so that this stays deterministic. */
export function buildMessage<TType extends string, TData>(
  type: TType,
  data: TData,
  metadata: MetadataInput,
  messageId: string,
  now: Date | string,
): Message<TType, TData> {
  return { type, data, metadata: buildMetadata(metadata, messageId, now) };
}

/** A message to append to an event store: its event id is its message id, both chosen by the caller. */
export interface EventEnvelope<TType extends string = string, TData = unknown> extends Message<TType, TData> {
  id: string;
}

/**
 * Builds an event to append (the one way envelopes are built, CONVENTIONS.md 2): callers pass a deterministic
 * id so that a repeated decision or outcome appends the same event, which the stores refuse as a duplicate.
 */
export function buildEvent<TType extends string, TData>(
  type: TType,
  data: TData,
  metadata: MetadataInput,
  id: string,
  occurredAt: Date | string,
): EventEnvelope<TType, TData> {
  return { id, ...buildMessage(type, data, metadata, id, occurredAt) };
}
