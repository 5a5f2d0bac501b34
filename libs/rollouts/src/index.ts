export * from './rollout-request';
export * from './rollout-views';
export * from './rollouts';
export * from './rollouts.handlers';
export * from './rollout-tenant-request';
