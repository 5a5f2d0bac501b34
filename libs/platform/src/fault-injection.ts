import { isCommandType, type CommandMessage, type CommandType } from '@app/contracts';
import { ConfigError } from './config';
import { permanent, type StepError } from './step-error';

export const FAULT_INJECTION_VARIABLE = 'FAULT_INJECT_PERMANENT';
export const INJECTED_FAILURE_CODE = 'TEST.INJECTED';

/** One injected fault: every `command` (of a tenant whose id starts with `tenantPrefix`, when set) fails. */
export interface FaultRule {
  command: CommandType;
  tenantPrefix?: string;
}

const TENANT_PREFIX = /^[a-z0-9-]{1,27}$/;

/**
 * Test-only failure injection (end-to-end suites prove every step's rollback with it):
 * `FAULT_INJECT_PERMANENT=CommandType[@tenantIdPrefix][,...]` makes the listed commands fail permanently
 * before their handler runs. Refused under NODE_ENV=production, so a stray variable can never fail real
 * tenants. The message quotes a bad entry: the variable holds command names, never a secret.
 */
export function parseFaultInjection(env: NodeJS.ProcessEnv = process.env): FaultRule[] {
  const raw = env[FAULT_INJECTION_VARIABLE]?.trim();
  if (!raw) return [];
  const refuse = (message: string): never => {
    throw new ConfigError([{ variable: FAULT_INJECTION_VARIABLE, message }]);
  };
  if (env.NODE_ENV === 'production') {
    refuse('test-only failure injection is refused under NODE_ENV=production; unset it');
  }
  return raw.split(',').map((entry) => {
    const parts = entry.trim().split('@');
    const [command, tenantPrefix] = parts;
    if (parts.length > 2 || !isCommandType(command)) {
      return refuse(`${JSON.stringify(entry.trim())} is not CommandType[@tenantIdPrefix]`);
    }
    if (tenantPrefix === undefined) return { command };
    if (!TENANT_PREFIX.test(tenantPrefix)) {
      return refuse(`${JSON.stringify(entry.trim())}: the tenant id prefix must match ${TENANT_PREFIX}`);
    }
    return { command, tenantPrefix };
  });
}

/** The permanent failure to record instead of running the handler, when a rule matches the command. */
export function injectedFault(rules: readonly FaultRule[], command: CommandMessage): StepError | undefined {
  const rule = rules.find(
    (candidate) =>
      candidate.command === command.type &&
      (candidate.tenantPrefix === undefined || command.metadata.tenantId.startsWith(candidate.tenantPrefix)),
  );
  if (!rule) return undefined;
  return permanent(
    INJECTED_FAILURE_CODE,
    `${command.type} failed by ${FAULT_INJECTION_VARIABLE}${rule.tenantPrefix ? `@${rule.tenantPrefix}` : ''} (test-only injection)`,
  );
}
