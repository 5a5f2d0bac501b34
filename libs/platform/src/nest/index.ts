export * from './tokens';
export * from './nest-logger';
export * from './config.module';
export * from './event-store.module';
export * from './messaging.module';
export * from './health.module';
export * from './shutdown.module';
export * from './resource-service.module';
