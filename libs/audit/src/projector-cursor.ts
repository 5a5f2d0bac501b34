import type { Checkpoint, EventStore } from '@app/event-store';
import { AUDIT_ERROR_CODES, AuditError } from './errors';

/** Where the audit chain projector keeps its position in the tenant category between runs. */

/** Where the projector keeps the global position it has fully covered, so a restart does not replay the log. */
export interface ProjectorCursor {
  load(): Promise<Checkpoint | undefined>;
  save(checkpoint: Checkpoint): Promise<void>;
}

const PROJECTOR_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * Keeps the cursor in the stream metadata of `auditcursor-<name>` (custom keys are part of the port, on every
 * adapter). Instances sharing a name share the cursor; any saved value is safe because it is only saved once
 * every tenant event up to it is covered by a checkpoint, whichever instance wrote that checkpoint.
 */
export function streamMetadataCursor(store: EventStore, name: string): ProjectorCursor {
  if (!PROJECTOR_NAME.test(name)) {
    throw new AuditError(
      AUDIT_ERROR_CODES.INVALID_ARGUMENT,
      `invalid projector name ${JSON.stringify(name)}`,
    );
  }
  const stream = `auditcursor-${name}`;
  return {
    async load() {
      const value = (await store.getStreamMetadata(stream))['checkpoint'];
      return typeof value === 'string' ? value : undefined;
    },
    async save(checkpoint) {
      await store.setStreamMetadata(stream, { checkpoint });
    },
  };
}
