import type { QueryConfig, QueryResultRow } from 'pg';
import { encodeCheckpoint } from '../checkpoint';
import { parseMetadata, upcast, type SerializedEvent } from '../serialization';
import { filterPrefix, streamCategory, type NormalizedExpectation } from '../streams';
import type { ReadAllFilter, RecordedEvent, StreamMetadata, Upcasters } from '../types';
import { quoteIdent } from './migrations';

/**
 * The SQL of the PostgreSQL event store, one statement per operation over the tables of migrations.ts, named
 * per schema so that `pg` prepares each once per connection; and the rows they return, mapped to events.
 * Callers validate their arguments first: nothing here checks them.
 */

export interface EventRow extends QueryResultRow {
  xid: string;
  position: string;
  stream_name: string;
  revision: string;
  event_id: string;
  type: string;
  data: unknown;
  metadata: unknown;
  recorded_at: Date;
}

export interface StreamReadRow extends EventRow {
  stream_revision: string;
}

export interface AppendRow extends QueryResultRow {
  outcome: 'ok' | 'idempotent' | 'wrong_expected_version';
  stream_revision: string;
  last_xid: string | null;
  last_position: string | null;
}

const EVENT_COLUMNS = `e.transaction_id::text AS xid, e.position::text AS position, e.stream_name, e.revision::text AS revision,
  e.event_id::text AS event_id, e.type, e.data, e.metadata, e.recorded_at`;

export class EventStatements {
  private readonly s: string;

  constructor(private readonly schema: string) {
    this.s = quoteIdent(schema);
  }

  /** One stored function call: per-stream lock, revision check and insert in one short transaction. */
  append(stream: string, expectation: NormalizedExpectation, events: SerializedEvent[]): QueryConfig {
    return {
      name: `${this.schema}.append`,
      text: `SELECT outcome, stream_revision::text AS stream_revision, last_xid::text AS last_xid,
               last_position::text AS last_position
             FROM ${this.s}.append_events($1, $2, $3, $4, $5::uuid[], $6::text[], $7::jsonb[], $8::jsonb[])`,
      values: [
        stream,
        streamCategory(stream),
        expectation.kind,
        expectation.kind === 'exact' ? expectation.revision : null,
        events.map((event) => event.id),
        events.map((event) => event.type),
        events.map((event) => event.data),
        events.map((event) => event.metadata),
      ],
    };
  }

  /**
   * The stream's revision (-1 or no row: no stream) with its events from `from`, `null` meaning the stream's
   * current revision; truncateBefore and maxAge hide events as EventStoreDB does.
   */
  readStream(stream: string, from: number | null, limit: number | null, backwards: boolean): QueryConfig {
    const bound = backwards
      ? `e.revision <= COALESCE($2::bigint, s.revision) AND e.revision >= COALESCE((s.metadata->>'truncateBefore')::bigint, 0)`
      : `e.revision >= GREATEST(COALESCE($2::bigint, s.revision), COALESCE((s.metadata->>'truncateBefore')::bigint, 0))`;
    return {
      name: `${this.schema}.read_stream_${backwards ? 'b' : 'f'}`,
      text: `SELECT s.revision::text AS stream_revision, e.*
               FROM ${this.s}.streams s
               LEFT JOIN LATERAL (
                 SELECT ${EVENT_COLUMNS} FROM ${this.s}.events e
                  WHERE e.stream_id = s.stream_id AND ${bound}
                    AND (s.metadata->>'maxAge' IS NULL
                         OR e.recorded_at >= now() - make_interval(secs => (s.metadata->>'maxAge')::double precision))
                  ORDER BY e.revision ${backwards ? 'DESC' : 'ASC'}
                  LIMIT $3
               ) e ON true
              WHERE s.name = $1`,
      values: [stream, from, limit],
    };
  }

  /** Events after `(xid, position)` in global order, only below the snapshot xmin (see migrations.ts). */
  readAll(
    xid: bigint,
    position: bigint,
    limit: number | null,
    filter: ReadAllFilter | undefined,
  ): QueryConfig {
    const values: unknown[] = [xid.toString(), position.toString(), limit];
    let filterSql = '';
    let variant = 'all';
    if (filter && 'category' in filter) {
      values.push(filter.category);
      filterSql = 'AND e.category = $4';
      variant = 'category';
    } else if (filter) {
      values.push(`${filterPrefix(filter).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      filterSql = 'AND e.stream_name LIKE $4';
      variant = 'prefix';
    }
    return {
      name: `${this.schema}.read_all_${variant}`,
      text: `SELECT ${EVENT_COLUMNS} FROM ${this.s}.events e
              WHERE (e.transaction_id, e.position) > ($1::xid8, $2::bigint)
                AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                ${filterSql}
              ORDER BY e.transaction_id, e.position
              LIMIT $3`,
      values,
    };
  }

  /**
   * Whether rows at or above xmin exist: finished transactions may be held back by an older open one. Asked as
   * "is the newest row at or above xmin", one probe of the primary key's end: an EXISTS over the range let the
   * planner pick a sequential scan (its default selectivity for a range on an expression), which read the whole
   * table on every idle poll of every subscription (postgres.plans.int-spec.ts).
   */
  pending(): QueryConfig {
    return {
      name: `${this.schema}.pending`,
      text: `SELECT COALESCE((SELECT e.transaction_id FROM ${this.s}.events e ORDER BY e.transaction_id DESC LIMIT 1)
                              >= pg_snapshot_xmin(pg_current_snapshot()), false) AS pending`,
    };
  }

  /** The position of the last event a global read can see now. */
  lastVisible(): QueryConfig {
    return {
      text: `SELECT e.transaction_id::text AS xid, e.position::text AS position FROM ${this.s}.events e
              WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY e.transaction_id DESC, e.position DESC LIMIT 1`,
    };
  }

  setMetadata(stream: string, metadata: StreamMetadata): QueryConfig {
    return {
      text: `INSERT INTO ${this.s}.streams (name, category, metadata) VALUES ($1, $2, $3::jsonb)
             ON CONFLICT (name) DO UPDATE SET metadata = EXCLUDED.metadata`,
      values: [stream, streamCategory(stream), JSON.stringify(metadata)],
    };
  }

  getMetadata(stream: string): QueryConfig {
    return { text: `SELECT metadata FROM ${this.s}.streams WHERE name = $1`, values: [stream] };
  }
}

export function toRecorded(row: EventRow, upcasters: Upcasters | undefined): RecordedEvent {
  const metadata = parseMetadata(row.metadata);
  return {
    id: row.event_id,
    type: row.type,
    data: upcast(upcasters, row.type, row.data, metadata),
    metadata,
    streamName: row.stream_name,
    revision: Number(row.revision),
    position: encodeCheckpoint(row.xid, row.position),
    recordedAt: row.recorded_at,
  };
}
