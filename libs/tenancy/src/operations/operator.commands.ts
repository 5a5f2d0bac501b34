import { Command } from '@nestjs/cqrs';
import type { ResetAccepted, ResetRequest } from './purge-breaker';
import type {
  CancelRequest,
  OperatorCancellationAccepted,
  PurgeAccepted,
  PurgeRequest,
  RetryAccepted,
  RetryRequest,
} from './operator-request';

/*
 * Operators' commands, from the HTTP API and tenantctl alike: each appends one event naming who and why, and
 * the orchestrator's decider acts on it. The request's fields are validated by the handler.
 */

/** Re-issue a parked step, or the blocked backup round (`backup`). */
export class RequestStepRetry extends Command<RetryAccepted> {
  constructor(readonly request: RetryRequest) {
    super();
  }
}

/** Cancel an active or suspended tenant: its grace period starts now. */
export class RequestTenantCancellation extends Command<OperatorCancellationAccepted> {
  constructor(readonly request: CancelRequest) {
    super();
  }
}

/** Purge a tenant in its grace period now rather than at its deletion date. */
export class RequestTenantPurge extends Command<PurgeAccepted> {
  constructor(readonly request: PurgeRequest) {
    super();
  }
}

/** Confirm the cancellations that tripped the purge breaker are genuine: held purges resume. */
export class ResetPurgeBreaker extends Command<ResetAccepted> {
  constructor(readonly request: ResetRequest) {
    super();
  }
}
