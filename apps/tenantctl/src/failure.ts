import { ConfigError } from '@app/platform';
import { SecretStoreError } from '@app/secrets';
import { UseCaseError } from '@app/tenancy';
import { CliFailure, EXIT } from './cli-io';

/** PostgreSQL's `undefined_table`: the configured schema holds no event store. */
const UNDEFINED_TABLE = '42P01';

/**
 * Every failure as an exit code and one line for stderr (tenantctl's edge, as the exception filter is the
 * API's): a request the use case finds malformed is a usage error, an unknown tenant exit 3, any other refusal 1.
 */
export function failureOf(error: unknown): { code: number; message: string } {
  if (error instanceof CliFailure) return { code: error.exitCode, message: error.message };
  if (error instanceof ConfigError) return { code: EXIT.USAGE, message: error.message };
  if (error instanceof UseCaseError) {
    const detail = error.violations.flatMap((v) => v.messages).join('; ');
    const code = error.status === 400 ? EXIT.USAGE : error.status === 404 ? EXIT.UNKNOWN_TENANT : EXIT.ERROR;
    return { code, message: `${error.code}: ${detail ? `${error.message}: ${detail}` : error.message}` };
  }
  if (error instanceof SecretStoreError) {
    // Configuration mistakes (a key, the URL) are usage errors; the messages name variables, never values.
    const configuration = /^SECRETS\.(KEY_|BAD_URL|UNSUPPORTED_URL|INVALID_SCHEMA)/.test(error.code);
    return { code: configuration ? EXIT.USAGE : EXIT.ERROR, message: `${error.code}: ${error.message}` };
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === UNDEFINED_TABLE) {
    return {
      code: EXIT.ERROR,
      message: `${message} (check EVENTSTORE_SCHEMA: tenantctl reads an existing event store, it never creates one)`,
    };
  }
  return { code: EXIT.ERROR, message: typeof code === 'string' ? `${code}: ${message}` : message };
}
