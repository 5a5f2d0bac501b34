/** A broken invariant of the orchestrator's domain, with a stable code for logs and alerts. */
export class OrchestratorDomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OrchestratorDomainError';
  }
}
