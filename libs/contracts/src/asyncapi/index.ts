export * from './class-validator-schema';
export * from './integration-events';
