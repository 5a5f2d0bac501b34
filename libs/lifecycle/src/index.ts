export * from './dag';
export * from './evolve';
export * from './state';
export * from './admission';
export { cancelledBeforeActivation, takesCancellation } from './cancellation';
export * from './reprovisioning';
