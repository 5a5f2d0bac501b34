import { isTenantId } from '@app/contracts';
import { OPERATOR_NAME_PATTERN } from '@app/tenancy';
import { InvalidArgumentError } from 'commander';
import { usage } from './cli-io';
import { printable } from './format';

/* Arguments and options as commander hands them over: checked before anything is opened. */

export function tenantArg(value: string): string {
  if (!isTenantId(value))
    throw usage(
      `invalid tenant id ${JSON.stringify(printable(value))}: expected e.g. abc-corporation-7f3a9c`,
    );
  return value;
}

export function positiveInt(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}.`);
    }
    return Number(value);
  };
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** A date, or a date-time with an explicit zone: a local time would mean something else on every machine. */
export function instantArg(value: string): number {
  const ms = Date.parse(value);
  if (!ISO_INSTANT.test(value) || !Number.isFinite(ms)) {
    throw usage(
      `--at must be an ISO 8601 instant with a zone, e.g. 2025-01-15T10:30:00Z (got ${JSON.stringify(printable(value))})`,
    );
  }
  return ms;
}

/** Who acts: `--as`, else the login name; recorded as `operator:<name>`. */
export function operatorName(as: string | undefined, env: NodeJS.ProcessEnv): string {
  const name = as ?? env['USER'] ?? env['LOGNAME'];
  if (!name) throw usage('cannot tell who you are: pass --as <name> (or set USER)');
  if (!OPERATOR_NAME_PATTERN.test(name)) throw usage(`operator name must match ${OPERATOR_NAME_PATTERN}`);
  return name;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
