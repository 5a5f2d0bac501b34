export * from './step-error';
export * from './handlers';
export * from './config';
export * from './logger';
export * from './command-outcome';
export * from './resource-service';
export * from './fault-injection';
export * from './bootstrap';
