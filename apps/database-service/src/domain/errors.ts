import { ContractError } from '@app/contracts';
import { permanent, type StepError } from '@app/platform';
import { SqlBuilderError } from '@app/plans';

/**
 * The app's own typed refusals (an identifier, id, key or timestamp the domain or the contracts reject) as
 * permanent step failures with their codes: no retry makes an invalid name valid. Undefined for anything else.
 * The adapters' classifications (`classifyMysqlError`, `classifyBackupError`) start with it.
 */
export function domainRefusal(error: unknown): StepError | undefined {
  if (error instanceof SqlBuilderError || error instanceof ContractError) {
    return permanent(error.code, error.message);
  }
  return undefined;
}

/** Runs a domain computation (a name, a key, a parse), failing with its `domainRefusal`. */
export function refusingInvalid<T>(compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    throw domainRefusal(error) ?? error;
  }
}
