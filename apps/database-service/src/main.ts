import { mainResourceService } from '@app/platform';
import { DATABASE_COMMAND_HANDLERS } from './commands';
import { configSchema } from './config';
import { createServiceRuntime } from './wiring';

mainResourceService({
  service: 'database',
  configSchema,
  commandHandlers: DATABASE_COMMAND_HANDLERS,
  createRuntime: createServiceRuntime,
});
