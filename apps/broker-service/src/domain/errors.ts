import { permanent, retryable, type StepError } from '@app/platform';

export type BrokerOperation =
  'vhost' | 'user' | 'permissions' | 'limits' | 'exchange' | 'queue' | 'binding' | 'inspect' | 'delete';

/**
 * What this mapping needs of a failed management request: the shape of `@app/rabbitmq-admin`'s
 * RabbitManagementError, kept structural so the domain imports no adapter.
 */
export interface ManagementFailure {
  /** `MANAGEMENT.*` code. */
  code: string;
  /** HTTP status, absent when no answer came (timeout, refused connection) or the name was refused. */
  status?: number;
  /** 5xx, timeouts and connection errors. */
  retryable: boolean;
  /** RabbitMQ's explanation. */
  reason: string;
}

/**
 * What the client already retried (5xx, timeouts, refused connections) stays retryable for the bus; every
 * 4xx is permanent with a code naming what failed. A 400 on a queue or exchange is RabbitMQ's
 * PRECONDITION_FAILED: the object exists with other arguments.
 */
export function classifyManagementFailure(
  failure: ManagementFailure,
  operation: BrokerOperation,
  target: string,
): StepError {
  const where = `${operation} ${target}`;
  if (failure.retryable) {
    return retryable(
      'BROKER.MANAGEMENT_UNAVAILABLE',
      `${where}: management API unavailable (${failure.status ?? failure.code})`,
    );
  }
  const status = failure.code === 'MANAGEMENT.INVALID_NAME' ? 400 : (failure.status ?? 0);
  // A 401 inside a vhost the admin just created or granted itself (ProvisionBroker does both) means the grant
  // has not landed yet: the vhost request itself succeeded with these credentials, so it is transient and
  // a retry converges. (A vhost whose creation was cut before RabbitMQ granted the creator is repaired by
  // the explicit grant, not by retrying.)
  if (status === 401 && operation !== 'vhost' && operation !== 'user') {
    return retryable('BROKER.VHOST_NOT_READY', `${where}: vhost not accessible yet (401)`);
  }
  if (status === 401)
    return permanent('BROKER.ADMIN_UNAUTHORIZED', `${where}: admin credentials refused (401)`);
  if (status === 403) return permanent('BROKER.ADMIN_FORBIDDEN', `${where}: admin lacks rights (403)`);
  if (
    status === 400 &&
    (operation === 'queue' || operation === 'exchange') &&
    /PRECONDITION_FAILED|inequivalent/i.test(failure.reason)
  ) {
    return permanent(
      'BROKER.TOPOLOGY_CONFLICT',
      `${where}: exists with different settings: ${failure.reason}`,
    );
  }
  if (status === 400)
    return permanent('BROKER.BAD_REQUEST', `${where}: request refused (400): ${failure.reason}`);
  if (status === 404) return permanent('BROKER.NOT_FOUND', `${where}: not found (404)`);
  return permanent('BROKER.HTTP_ERROR', `${where}: HTTP ${status}: ${failure.reason}`);
}
