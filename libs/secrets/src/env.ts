import { z } from 'zod';
import type { SecretKeySettings } from './secret-cipher';

/**
 * The secret store's variables, spread into the config schema of every app that uses one: where it is
 * (`postgres://…?schema=…` for the encrypted store, `kubernetes://<namespace>` for Kubernetes Secrets,
 * `memory:` for tests) and, for the encrypted store, its keys (checked when the store is built, by
 * `parseSecretStoreKeys`, with messages that name the variable and never a key).
 */
export const SECRET_STORE_ENV = {
  SECRET_STORE_URL: z
    .string()
    .min(1)
    .default('postgres://postgres@127.0.0.1:5432/postgres?schema=secret_store'),
  /** Base64 of 32 bytes: the key with id `legacy`. */
  SECRET_STORE_KEY: z.string().optional(),
  /** `id:base64,id:base64` (ids `[a-z0-9-]{1,32}`), after SECRET_STORE_KEY; every key listed reads. */
  SECRET_STORE_KEYS: z.string().optional(),
  /** The id of the key new writes use; default: the last one of SECRET_STORE_KEY, SECRET_STORE_KEYS. */
  SECRET_STORE_KEY_ID: z.string().optional(),
};

/** What `createSecretStore` needs of an app's parsed configuration: `createSecretStore(url, secretStoreKeys(config))`. */
export function secretStoreKeys(config: {
  SECRET_STORE_KEY?: string;
  SECRET_STORE_KEYS?: string;
  SECRET_STORE_KEY_ID?: string;
}): SecretKeySettings {
  return { key: config.SECRET_STORE_KEY, keys: config.SECRET_STORE_KEYS, keyId: config.SECRET_STORE_KEY_ID };
}
