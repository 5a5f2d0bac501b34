// First: @app/platform starts tracing (OTEL_*) before the modules it instruments (http, pg, mysql2) load.
import { mainResourceService } from '@app/platform';
import { BROKER_COMMAND_HANDLERS } from './commands';
import { configSchema } from './config';
import { createServiceRuntime } from './wiring';

mainResourceService({
  service: 'broker',
  configSchema,
  commandHandlers: BROKER_COMMAND_HANDLERS,
  createRuntime: createServiceRuntime,
});
