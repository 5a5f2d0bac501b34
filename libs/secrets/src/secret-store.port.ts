/**
 * Where generated credentials live. Paths follow spec 3.3 (`/e-commerce/tenants/<tenantId>/<name>`), and
 * the k8s ExternalSecret rendering refers to them by path and property. Events and logs carry the path,
 * never the values.
 */
export type SecretValues = Record<string, string>;

export interface SecretStore {
  /** Writes (or replaces) the secret at `path`. */
  put(path: string, values: SecretValues): Promise<void>;
  /**
   * Writes `values` only when nothing is stored at `path` yet, and returns what is stored afterwards.
   * Provisioning uses this so a redelivered command never rotates a password already handed out.
   */
  putIfAbsent(path: string, values: SecretValues): Promise<SecretValues>;
  get(path: string): Promise<SecretValues | undefined>;
  /** Absent is success. */
  delete(path: string): Promise<void>;
  /** Paths stored under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Resolves when the store answers, at a cost that does not grow with what it holds (for /ready). */
  ping(): Promise<void>;
  close?(): Promise<void>;
}

export const SECRET_STORE = Symbol('SECRET_STORE');
