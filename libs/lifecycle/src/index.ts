export * from './dag';
export * from './evolve';
export * from './state';
export * from './admission';
export * from './reprovisioning';
