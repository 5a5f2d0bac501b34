import { FAULT_INJECTION_VARIABLE, parseFaultInjection } from '@app/platform';
import { parseSecretStoreKeys, secretStoreKeys } from '@app/secrets';
import type { z } from 'zod';
import { APPS, type AppName } from './local-stack';

/**
 * Each app's configuration as its process reads it at start-up, for the tests that keep deployment files
 * (deploy/, docker-compose.yml) consistent with the code: `validate` runs the same schemas the app's main does
 * (plus the start-up checks outside the schemas), `knownVariables` lists every variable the app reads.
 *
 * Schemas read NODE_ENV when their module loads (`localCredential`): `appConfigs('production')` loads them in an
 * isolated module registry with that NODE_ENV, so a credential with a local default is required, as in a cluster.
 */
export interface AppConfig {
  /** Problems `loadConfig` (and the start-up checks beside it) would report for this environment; [] = starts. */
  validate(env: Record<string, string>): string[];
  /** Every variable the app reads: its schema's keys (every branch of a union) and the process-wide ones. */
  knownVariables(): Set<string>;
}

/** Read by every process outside the schemas (logger, fault injection, Node itself, the in-cluster client). */
export const PROCESS_VARIABLES = [
  'NODE_ENV',
  'LOG_LEVEL',
  'NODE_OPTIONS',
  FAULT_INJECTION_VARIABLE,
  'KUBERNETES_SERVICE_HOST',
  'KUBERNETES_SERVICE_PORT',
];

type Schema = z.ZodType;
interface Loaded {
  loadConfig: (schema: Schema, env: NodeJS.ProcessEnv) => unknown;
  schemas: Schema[];
  extra?: (env: Record<string, string>) => string[];
}

/** Every key of the objects inside a schema: through refinements, pipes (preprocess), unions, wrappers. */
export function schemaKeys(schema: Schema, into = new Set<string>()): Set<string> {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  switch (def.type) {
    case 'object':
      for (const key of Object.keys(def.shape as object)) into.add(key);
      break;
    case 'union':
      for (const option of def.options as Schema[]) schemaKeys(option, into);
      break;
    case 'pipe':
      schemaKeys(def.in as Schema, into);
      schemaKeys(def.out as Schema, into);
      break;
    case 'optional':
    case 'default':
    case 'nullable':
    case 'readonly':
      schemaKeys(def.innerType as Schema, into);
      break;
    default:
      break;
  }
  return into;
}

function secretStoreProblems(env: Record<string, string>): string[] {
  const url = env.SECRET_STORE_URL;
  if (url === undefined || !/^postgres(ql)?:/.test(url)) return [];
  // What the encrypted store checks when it is built: at least one key (SECRET_STORE_KEY or SECRET_STORE_KEYS).
  try {
    parseSecretStoreKeys(secretStoreKeys(env));
    return [];
  } catch (error) {
    return [`SECRET_STORE_KEY(S): ${(error as Error).message}`];
  }
}

function faultProblems(env: Record<string, string>): string[] {
  try {
    parseFaultInjection(env);
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded inside jest.isolateModules, under a chosen NODE_ENV */
function load(app: AppName): Loaded {
  const platform = require('@app/platform') as typeof import('@app/platform');
  const base = platform.baseConfigSchema;
  const resource = (schema: Schema): Loaded => ({
    loadConfig: platform.loadConfig,
    schemas: [base, schema],
    extra: (env) => [...secretStoreProblems(env), ...faultProblems(env)],
  });
  switch (app) {
    case 'provisioning-api': {
      const api =
        require('../../apps/provisioning-api/src/config') as typeof import('../../apps/provisioning-api/src/config');
      // main.ts also reads the broker's variables through the whole base schema.
      return { loadConfig: platform.loadConfig, schemas: [api.configSchema, base] };
    }
    case 'orchestrator': {
      const orchestrator =
        require('../../apps/orchestrator/src/config') as typeof import('../../apps/orchestrator/src/config');
      return {
        loadConfig: platform.loadConfig,
        schemas: [base.extend(orchestrator.orchestratorConfigSchema.shape)],
      };
    }
    case 'k8s-service':
      return resource(require('../../apps/k8s-service/src/config').configSchema);
    case 'database-service':
      return resource(require('../../apps/database-service/src/config').configSchema);
    case 'storage-service':
      return resource(require('../../apps/storage-service/src/config').configSchema);
    case 'broker-service':
      return resource(require('../../apps/broker-service/src/config').configSchema);
    case 'monitoring-service':
      return resource(require('../../apps/monitoring-service/src/config').configSchema);
    case 'notification-service':
      return resource(require('../../apps/notification-service/src/config').configSchema);
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** The apps' configurations with their modules loaded under `nodeEnv` (production: no local credentials). */
export function appConfigs(nodeEnv: 'production' | 'development'): Record<AppName, AppConfig> {
  const previous = process.env.NODE_ENV;
  const result = {} as Record<AppName, AppConfig>;
  process.env.NODE_ENV = nodeEnv;
  try {
    jest.isolateModules(() => {
      for (const app of APPS) {
        const loaded = load(app);
        result[app] = {
          validate(env) {
            const problems: string[] = [];
            for (const schema of loaded.schemas) {
              try {
                loaded.loadConfig(schema, env);
              } catch (error) {
                problems.push((error as Error).message);
              }
            }
            return [...problems, ...(loaded.extra?.(env) ?? [])];
          },
          knownVariables() {
            const keys = new Set<string>(PROCESS_VARIABLES);
            for (const schema of loaded.schemas) schemaKeys(schema, keys);
            return keys;
          },
        };
      }
    });
  } finally {
    process.env.NODE_ENV = previous;
  }
  return result;
}
