export * from './errors';
export * from './types';
export { managementBackoffMs } from './transport';
export * from './client';
export * from './broker-permissions';
export * from './broker-users';
