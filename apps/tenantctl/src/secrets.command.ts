import {
  createSecretStore,
  EncryptedPostgresSecretStore,
  secretStoreKeys,
  type KeyRotationReport,
} from '@app/secrets';
import { InvalidArgumentError, type Command } from 'commander';
import pino from 'pino';
import { loadSecretsConfig } from './cli.config';
import { CliFailure, EXIT, usage, type CliIo } from './cli-io';
import { printable } from './format';

function batchArg(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 10_000) {
    throw new InvalidArgumentError('--batch must be an integer in 1..10000.');
  }
  return Number(value);
}

/** The store the services write to, opened from their variables; only the encrypted PostgreSQL store has keys. */
function openEncryptedStore(io: CliIo): EncryptedPostgresSecretStore {
  const config = loadSecretsConfig(io.env);
  if (!/^postgres(ql)?:/.test(config.SECRET_STORE_URL)) {
    throw usage(
      'SECRET_STORE_URL is not a postgres:// URL: only the encrypted PostgreSQL secret store has keys to rotate ' +
        '(Kubernetes Secrets are encrypted by the cluster)',
    );
  }
  const logger = pino(
    { name: 'tenantctl', level: config.LOG_LEVEL },
    { write: (line: string) => io.stderr.write(line) },
  );
  const store = createSecretStore(config.SECRET_STORE_URL, {
    ...secretStoreKeys(config),
    logger: logger.child({ component: 'secret-store' }),
  });
  if (!(store instanceof EncryptedPostgresSecretStore))
    throw usage('SECRET_STORE_URL is not a postgres:// URL');
  return store;
}

function summary(report: KeyRotationReport, keyIds: string[]): string {
  const lines = [
    `done: ${report.rotated} re-encrypted under key "${report.keyId}", ${report.rewritten} rewritten under it by ` +
      `writers meanwhile, ${report.deleted} deleted meanwhile, ${report.failed.length} failed`,
  ];
  for (const failure of report.failed) lines.push(`  FAILED ${printable(failure.path)}: ${failure.code}`);
  const remaining = Object.entries(report.remaining);
  if (remaining.length === 0) {
    const others = keyIds.filter((id) => id !== report.keyId);
    lines.push(
      others.length > 0
        ? `every secret is under key "${report.keyId}": key(s) ${others.join(', ')} can be removed from the configuration`
        : `every secret is under key "${report.keyId}"`,
    );
  } else {
    lines.push(
      `still under other keys: ${remaining.map(([id, count]) => `${id} ${count}`).join(', ')}` +
        (report.interrupted ? ' (interrupted: run rotate-key again to continue)' : ''),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `tenantctl secrets rotate-key`: re-encrypts the secret store under its write key (SECRET_STORE_KEY_ID, or the
 * last key configured). Progress goes to stderr, the summary to stdout; paths and key ids only, never a value.
 */
export function addSecretsCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  // Through `command()`, so the subcommands inherit the program's output and exit handling.
  const secrets = program.command('secrets').description('Operate the encrypted secret store');
  secrets
    .command('rotate-key')
    .description(
      'Re-encrypt every secret not under the write key (SECRET_STORE_KEY_ID, else the last key of ' +
        'SECRET_STORE_KEY, SECRET_STORE_KEYS); idempotent and resumable, safe beside running services',
    )
    .option('--batch <n>', 'rows read per query', batchArg, 100)
    .option('--json', 'print the summary as JSON')
    .action(async (options: { batch: number; json?: boolean }) => {
      const store = openEncryptedStore(io);
      try {
        let announced = false;
        const report = await store.rotateKey({
          batchSize: options.batch,
          signal: io.signal,
          onProgress: ({ done, total }) => {
            if (!announced) {
              announced = true;
              io.stderr.write(`rotate-key: ${total} secrets to re-encrypt under key "${store.writeKeyId}"\n`);
            }
            io.stderr.write(`rotate-key: ${done}/${total}\n`);
          },
        });
        io.stdout.write(
          options.json ? `${JSON.stringify(report, null, 2)}\n` : summary(report, store.keyIds),
        );
        if (report.interrupted) return setExit(EXIT.INTERRUPTED);
        if (report.failed.length > 0) {
          throw new CliFailure(
            EXIT.ERROR,
            `${report.failed.length} secrets could not be re-encrypted and keep their key (listed above)`,
          );
        }
      } finally {
        await store.close();
      }
    });
}
