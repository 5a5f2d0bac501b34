import { DecideReconciliationActionHandler } from './decide-reconciliation-action.handler';
import { ListReconciliationActionsHandler } from './list-reconciliation-actions.handler';
import { RunReconciliationHandler } from './run-reconciliation.handler';

/** Billing reconciliation's handlers that need only the event store... */
export const RECONCILIATION_STORE_HANDLERS = [
  DecideReconciliationActionHandler,
  ListReconciliationActionsHandler,
];
/** ...and the one that compares with the read model. */
export const RECONCILIATION_READ_MODEL_HANDLERS = [RunReconciliationHandler];
