/** A violated rule with a stable code; thrown by contracts when a value cannot be used safely. */
export class ContractError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ContractError';
  }
}
