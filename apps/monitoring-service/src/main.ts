import { mainResourceService } from '@app/platform';
import { configSchema } from './config';
import { createServiceRuntime } from './wiring';

mainResourceService({ service: 'monitoring', configSchema, createRuntime: createServiceRuntime });
