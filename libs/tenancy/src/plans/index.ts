export * from './plan.queries';
export * from './plan-query';
export * from './get-tenant-plan.handler';
