export * from './config';
export * from './decide';
export * from './decision';
export * from './deprovisioning';
export * from './errors';
export * from './provisioning';
export * from './queries';
export * from './guardrails';
// The tenant state, its fold and the step keys live in libs/lifecycle (shared with the API); the runtime
// reads them through the domain's index like the rest of the decider.
export * from '@app/lifecycle';
