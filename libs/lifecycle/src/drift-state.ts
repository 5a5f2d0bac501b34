import type { FailureReason } from '@app/contracts';
import type { DriftKind } from './drift-kinds';

/** The drift part of a tenant's folded state (see drift.ts for its fold). */

export interface DriftCheckState {
  check: number;
  requestedBy: string;
  requestedAt: string;
  window?: number;
  outcome?: 'completed' | 'dropped';
  /** Resources whose drift this check recorded. */
  detected: string[];
}

export interface OpenDrift {
  driftId: string;
  check: number;
  resource: string;
  kind: DriftKind;
  automatic: boolean;
  code: string;
  message: string;
  checks: string[];
  detectedAt: string;
  /** Repairs that failed so far; the next repair is round `failedRepairs + 1`. */
  failedRepairs: number;
  /** The repair round an operator approved (0: none). */
  approvedRound: number;
  lastError?: FailureReason;
}

export interface DriftState {
  /** Number of the last check requested (0: none). */
  checks: number;
  /** The last schedule window a check was requested for. */
  lastWindow?: number;
  current?: DriftCheckState;
  open: Readonly<Record<string, OpenDrift>>;
  repaired: number;
}
