export * from './envelope';
export * from './errors';
export * from './ids';
export * from './naming';
export * from './tiers';
export * from './catalog';
export * from './steps';
export * from './validation';
