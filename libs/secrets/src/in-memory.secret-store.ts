import type { SecretStore, SecretValues } from './secret-store.port';

/** For unit tests of logic only; real runs use the encrypted PostgreSQL store or Kubernetes Secrets. */
export class InMemorySecretStore implements SecretStore {
  private readonly secrets = new Map<string, SecretValues>();

  async put(path: string, values: SecretValues): Promise<void> {
    this.secrets.set(path, { ...values });
  }
  async putIfAbsent(path: string, values: SecretValues): Promise<SecretValues> {
    const existing = this.secrets.get(path);
    if (existing) return { ...existing };
    this.secrets.set(path, { ...values });
    return { ...values };
  }
  async get(path: string): Promise<SecretValues | undefined> {
    const found = this.secrets.get(path);
    return found ? { ...found } : undefined;
  }
  async delete(path: string): Promise<void> {
    this.secrets.delete(path);
  }
  async ping(): Promise<void> {}

  async list(prefix: string): Promise<string[]> {
    return [...this.secrets.keys()].filter((path) => path.startsWith(prefix)).sort();
  }
}
