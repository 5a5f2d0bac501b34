import { mainResourceService } from '@app/platform';
import { NOTIFICATION_COMMAND_HANDLERS } from './commands';
import { configSchema } from './config';
import { createServiceRuntime } from './wiring';

mainResourceService({
  service: 'notification',
  configSchema,
  commandHandlers: NOTIFICATION_COMMAND_HANDLERS,
  createRuntime: createServiceRuntime,
});
