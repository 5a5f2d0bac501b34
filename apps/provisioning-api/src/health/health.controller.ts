import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import type { Logger } from 'pino';
import type { HttpResponse } from '../http/http.types';
import { TENANT_READ_MODEL, type TenantReadModel } from '@app/tenancy';
import { APP_LOGGER, BROKER_HEALTH } from '../tokens';
import type { BrokerHealth } from './broker-health';

const CHECK_TIMEOUT_MS = 3000;

async function probe(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().then((value) => value !== false), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness and readiness; public, and saying no more than ok/fail per dependency. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TENANT_READ_MODEL) private readonly readModel: TenantReadModel,
    @Inject(BROKER_HEALTH) private readonly broker: BrokerHealth | null,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness' })
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: event store, read model and broker reachable' })
  async ready(@Res({ passthrough: true }) response: HttpResponse) {
    const checks: Record<string, boolean> = {
      eventStore: await probe(() => this.store.readAll({ limit: 1 })),
      readModel: await probe(() => this.readModel.ping()),
    };
    if (this.broker) {
      const broker = this.broker;
      checks['broker'] = await probe(() => broker.isHealthy());
    }
    const ok = Object.values(checks).every(Boolean);
    if (!ok) {
      this.logger.warn({ checks }, 'not ready');
      response.status(503);
    }
    return {
      status: ok ? 'ok' : 'fail',
      checks: Object.fromEntries(
        Object.entries(checks).map(([name, passed]) => [name, passed ? 'ok' : 'fail']),
      ),
    };
  }
}
