import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import type { BaseConfig } from './definitions';
import { CONFIG, LOGGER } from './tokens';

/**
 * The app's configuration and logger, global to the app. The configuration is read and validated before the
 * Nest context is created (`loadConfig`), so a bad environment exits naming its variables before any module
 * opens a connection.
 */
@Module({})
export class PlatformConfigModule {
  static forRoot(config: BaseConfig, logger: Logger): DynamicModule {
    return {
      module: PlatformConfigModule,
      global: true,
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [CONFIG, LOGGER],
    };
  }
}
