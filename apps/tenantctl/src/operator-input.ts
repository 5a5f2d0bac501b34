import type { Command } from 'commander';
import { operatorName, tenantArg } from './args';

/** The options of an operator action, as commander hands them over. */
export interface OperatorActionOptions {
  reason: string;
  as?: string;
  idempotencyKey?: string;
  json?: boolean;
}

/** What a reasoned operator command sends: the tenant, the reason, who, and an optional repeat-safe key. */
export interface OperatorInput {
  tenantId: string;
  reason: string;
  operator: string;
  idempotencyKey?: string;
}

/** The options every operator action on a tenant takes: why, as whom, a repeat-safe key, JSON output. */
export function operatorOptions(
  command: Command,
  reasonHelp = 'why (recorded in the tenant stream)',
): Command {
  return command
    .requiredOption('--reason <text>', reasonHelp)
    .option('--as <name>', 'operator name recorded as operator:<name> (default $USER)')
    .option('--idempotency-key <key>', 'repeat-safe request id')
    .option('--json', 'print JSON');
}

/** The request of an operator action, its tenant id and operator name checked before anything is opened. */
export function operatorInput(
  tenant: string,
  options: OperatorActionOptions,
  env: NodeJS.ProcessEnv,
): OperatorInput {
  const tenantId = tenantArg(tenant);
  const operator = operatorName(options.as, env);
  return { tenantId, reason: options.reason, operator, idempotencyKey: options.idempotencyKey };
}
