export * from './drift.commands';
export * from './drift.projection';
export * from './drift-refusals';
export * from './request-drift-check.handler';
export * from './approve-drift-repair.handler';
export * from './get-tenant-drift.handler';
