import { mainResourceService } from '@app/platform';
import { K8S_COMMAND_HANDLERS } from './commands';
import { configSchema } from './config';
import { createServiceRuntime } from './wiring';

mainResourceService({
  service: 'k8s',
  configSchema,
  commandHandlers: K8S_COMMAND_HANDLERS,
  createRuntime: createServiceRuntime,
});
