export * from './reconciliation.commands';
export * from './reconciliation-stream';
export * from './reconcile';
export * from './subscription-list';
export * from './subscription-source';
