import type { Server } from 'node:http';
import { Inject, Injectable, Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { closeHealthServer, startHealthServer } from '../health-server';
import type { BaseConfig } from './definitions';
import { CONFIG } from './tokens';

/**
 * `/health`, `/ready` and `/metrics` on HEALTH_PORT (none when unset), for a process without an HTTP API. The
 * app's lifecycle starts it once the process consumes (so `/ready` never answers 200 before) and closes it in
 * its shutdown order.
 */
@Injectable()
export class HealthServer {
  private running?: { server: Server; port: number };

  constructor(@Inject(CONFIG) private readonly config: BaseConfig) {}

  /** The bound port (HEALTH_PORT=0 picks one), undefined when not serving. */
  get port(): number | undefined {
    return this.running?.port;
  }

  async start(ready: () => Promise<boolean>, metrics?: Registry): Promise<number | undefined> {
    this.running = await startHealthServer(this.config, ready, metrics);
    return this.running?.port;
  }

  close(): Promise<void> {
    return closeHealthServer(this.running?.server);
  }
}

@Module({ providers: [HealthServer], exports: [HealthServer] })
export class HealthModule {}
