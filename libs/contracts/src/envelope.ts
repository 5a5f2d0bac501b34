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

export function buildMetadata(input: MetadataInput, messageId: string, now: Date): MessageMetadata {
  return {
    messageId,
    schemaVersion: input.schemaVersion ?? 1,
    occurredAt: now.toISOString(),
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
  now: Date,
): Message<TType, TData> {
  return { type, data, metadata: buildMetadata(metadata, messageId, now) };
}
