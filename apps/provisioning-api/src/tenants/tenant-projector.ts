import { TENANT_STREAM_CATEGORY } from '@app/contracts';
import type { EventStore, RecordedEvent, Subscription } from '@app/event-store';
import type { Logger } from 'pino';
import type { ProvisioningMetrics } from '../metrics/provisioning-metrics';
import type { TenantReadModel } from '@app/tenancy';

const RESTART_DELAY_MS = 1000;

/**
 * Feeds the read model from a category subscription on `tenant`, resuming after the checkpoint stored with the
 * rows. A handler failure stops the subscription (the event store's contract); the projector restarts it from
 * the stored checkpoint, so the failed event is retried rather than skipped.
 */
export class TenantProjector {
  private subscription: Subscription | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: TenantReadModel,
    private readonly metrics: ProvisioningMetrics,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    const checkpoint = await this.readModel.checkpoint();
    this.subscription = this.store.subscribe(
      { category: TENANT_STREAM_CATEGORY },
      {
        name: 'provisioning-api.tenant-summaries',
        fromCheckpoint: checkpoint ?? 'start',
        handler: (event) => this.handle(event),
        onError: (error) => this.onError(error),
      },
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop();
  }

  /** Drops the read model and replays every tenant stream into it. */
  async rebuild(): Promise<void> {
    await this.stop();
    await this.readModel.reset();
    this.metrics.resetFlowMetrics();
    await this.start();
  }

  private async handle(event: RecordedEvent): Promise<void> {
    const change = await this.readModel.apply(event);
    if (change) this.metrics.observe(event, change);
  }

  private onError(error: unknown): void {
    this.logger.error({ err: error }, 'tenant projection stopped; restarting from the stored checkpoint');
    this.subscription = undefined;
    if (!this.running) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.running) return;
      this.start().catch((restartError: unknown) => this.onError(restartError));
    }, RESTART_DELAY_MS);
    this.restartTimer.unref();
  }
}
