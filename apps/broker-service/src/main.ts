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
