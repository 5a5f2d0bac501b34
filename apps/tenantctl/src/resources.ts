import { tenantStream } from '@app/contracts';
import { createEventStore, readStreamOrEmpty, type EventStore, type RecordedEvent } from '@app/event-store';
import {
  createTenancyContext,
  createTenantReadModel,
  type TenancyContext,
  type TenantReadModel,
} from '@app/tenancy';
import type { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import { loadTenantctlConfig, type TenantctlConfig } from './cli.config';
import { CliFailure, EXIT, type CliIo } from './cli-io';

/** What every command's definition is given. */
export interface TenantctlContext {
  program: Command;
  io: CliIo;
  resources: Resources;
  /** The exit code of a command that ends without an error (a failed verification, a timed-out watch). */
  setExit: (code: number) => void;
}

/**
 * Opened on first use and closed once the command ends: `--help` and argument errors need no database, and the
 * operator actions never open the read model.
 */
export class Resources {
  private store: EventStore | undefined;
  private readModel: TenantReadModel | undefined;
  private config: TenantctlConfig | undefined;
  private logger: Logger | undefined;
  /** The tenancy use cases on the event store alone (operator actions)... */
  private actions: TenancyContext | undefined;
  /** ...and with the read model too (queries). */
  private reads: TenancyContext | undefined;

  constructor(private readonly io: CliIo) {}

  settings(): TenantctlConfig {
    this.config ??= loadTenantctlConfig(this.io.env);
    return this.config;
  }

  private log(): Logger {
    this.logger ??= pino(
      { name: 'tenantctl', level: this.settings().LOG_LEVEL },
      { write: (line: string) => this.io.stderr.write(line) },
    );
    return this.logger;
  }

  /** Opened without upcasters: `verify` and `history --ndjson` must see the data exactly as stored. */
  async eventStore(): Promise<EventStore> {
    const config = this.settings();
    this.store ??= await createEventStore(config.EVENTSTORE_URL, {
      schema: config.EVENTSTORE_SCHEMA,
      logger: this.log().child({ component: 'event-store' }),
      applicationName: 'tenantctl',
      // An operator tool does not run DDL on the event store; a wrong schema fails instead of being created.
      migrate: false,
      poolSize: 2,
    });
    return this.store;
  }

  async tenantReadModel(): Promise<TenantReadModel> {
    const config = this.settings();
    this.readModel ??= await createTenantReadModel(config.READ_MODEL_URL, config.READ_MODEL_SCHEMA);
    return this.readModel;
  }

  /** The operator commands, through the same handlers as the API's. */
  async commandBus(): Promise<CommandBus> {
    this.actions ??= await this.tenancy(undefined);
    return this.actions.commandBus;
  }

  /** The tenant queries, through the same handlers as the API's. */
  async queryBus(): Promise<QueryBus> {
    this.reads ??= await this.tenancy(await this.tenantReadModel());
    return this.reads.queryBus;
  }

  private async tenancy(readModel: TenantReadModel | undefined): Promise<TenancyContext> {
    return createTenancyContext({
      eventStore: await this.eventStore(),
      ...(readModel ? { readModel } : {}),
      gracePeriodDays: this.settings().GRACE_PERIOD_DAYS,
      ...(this.io.now ? { clock: this.io.now } : {}),
    });
  }

  async close(): Promise<void> {
    await this.actions?.close().catch(() => undefined);
    await this.reads?.close().catch(() => undefined);
    await this.readModel?.close().catch(() => undefined);
    await this.store?.close().catch(() => undefined);
  }
}

export const unknownTenant = (tenantId: string) =>
  new CliFailure(EXIT.UNKNOWN_TENANT, `unknown tenant ${tenantId}`);

/** A tenant's whole stream (from `from`), page by page; an unknown tenant is exit 3. */
export async function readTenantEvents(
  store: EventStore,
  tenantId: string,
  from = 0,
): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let next = from; ;) {
    const page = await readStreamOrEmpty(store, tenantStream(tenantId), { from: next, limit: 1000 });
    // A stream that exists has an event at revision 0: nothing there means no such tenant.
    if (page.length === 0 && next === 0) throw unknownTenant(tenantId);
    events.push(...page);
    if (page.length < 1000) return events;
    next = page[page.length - 1].revision + 1;
  }
}

export async function assertTenantExists(store: EventStore, tenantId: string): Promise<void> {
  const [first] = await readStreamOrEmpty(store, tenantStream(tenantId), { limit: 1 });
  if (first === undefined) throw unknownTenant(tenantId);
}
