export * from './request-reprovisioning.command';
export * from './request-reprovisioning.handler';
