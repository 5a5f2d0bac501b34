import { Command, Query } from '@nestjs/cqrs';
import type { CancelRequest } from '../operations/operator-request';
import type { DriftSummary } from './drift.projection';

/** An operator's immediate drift check: a tenant, a reason, an optional idempotency key. */
export type DriftCheckRequest = CancelRequest;

export interface DriftCheckAccepted {
  tenantId: string;
  /** The number of the check the request started. */
  check: number;
  eventId: string;
  /** True when this Idempotency-Key was already used for the same request: nothing new was appended. */
  duplicate: boolean;
}

/** Verify an active tenant's resources again now, outside the schedule. */
export class RequestDriftCheck extends Command<DriftCheckAccepted> {
  constructor(readonly request: DriftCheckRequest) {
    super();
  }
}

/** An operator's approval of a drift's repair. */
export interface DriftRepairRequest extends CancelRequest {
  driftId: unknown;
}

export interface DriftRepairAccepted {
  tenantId: string;
  driftId: string;
  eventId: string;
  duplicate: boolean;
}

/** Repair a drift not repaired automatically (or try again after a failed repair). */
export class ApproveDriftRepair extends Command<DriftRepairAccepted> {
  constructor(readonly request: DriftRepairRequest) {
    super();
  }
}

/** A tenant's drift summary, folded from its stream (works without the read model, as tenantctl runs). */
export class GetTenantDrift extends Query<DriftSummary> {
  constructor(readonly tenantId: string) {
    super();
  }
}
