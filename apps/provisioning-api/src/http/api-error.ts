import type { Violation } from '@app/contracts';

/**
 * A request a use case refuses, with a stable code, the HTTP status it maps to, and every violated rule. Use
 * cases throw subclasses; the exception filter maps them all in one place, and the CLI reads the same code.
 */
export abstract class ApiError<C extends string = string> extends Error {
  protected constructor(
    readonly code: C,
    message: string,
    readonly status: number,
    readonly violations: Violation[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}
