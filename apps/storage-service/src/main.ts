import { mainResourceService } from '@app/platform';
import { STORAGE_COMMAND_HANDLERS } from './commands';
import { configSchema } from './config';
import { createServiceRuntime } from './wiring';

mainResourceService({
  service: 'storage',
  configSchema,
  commandHandlers: STORAGE_COMMAND_HANDLERS,
  createRuntime: createServiceRuntime,
});
