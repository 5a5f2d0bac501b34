// First: starts tracing, when OTEL_* asks for it, before any module the instrumentations patch is loaded.
export * from './tracing-start';
export { activeTracing, flushTracing, type Tracing } from './tracing';
export * from './tracing-spans';
export * from './step-error';
export * from './handlers';
export * from './config';
export * from './logger';
export * from './command-outcome';
export * from './resource-service';
export * from './fault-injection';
export * from './bootstrap';
export * from './health-server';
export * from './metrics';
export * from './shutdown';
export * from './nest';
