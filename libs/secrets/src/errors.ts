/** Raised by secret store adapters; messages name paths and variables, never values or keys. */
export class SecretStoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SecretStoreError';
  }
}
