import { mainResourceService } from '@app/platform';
import { MONITORING_COMMAND_HANDLERS } from './commands';
import { configSchema } from './config';
import { createServiceRuntime } from './wiring';

mainResourceService({
  service: 'monitoring',
  configSchema,
  commandHandlers: MONITORING_COMMAND_HANDLERS,
  createRuntime: createServiceRuntime,
});
