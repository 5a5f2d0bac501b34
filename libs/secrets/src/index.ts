export * from './secret-store.port';
export * from './in-memory.secret-store';
export * from './errors';
export * from './secret-cipher';
export * from './encrypted-postgres.secret-store';
export * from './kubernetes.secret-store';
export * from './create-secret-store';
export * from './env';
