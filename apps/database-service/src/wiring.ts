import type { Logger } from 'pino';
import { FilesystemBackupTarget, s3BackupTargetFrom, type BackupTarget } from '@app/archive';
import type { ServiceRuntime } from '@app/platform';
import { createSecretStore, secretStoreKeys } from '@app/secrets';
import { parseMysqlUrl } from './adapters/mysql-connections';
import { MysqlServer } from './adapters/mysql-server';
import type { DatabaseHandlerDeps } from './commands';
import type { DatabaseConfig } from './config';

export async function createServiceRuntime(
  config: DatabaseConfig,
  logger: Logger,
): Promise<ServiceRuntime<DatabaseHandlerDeps>> {
  const admin = new MysqlServer(parseMysqlUrl(config.MYSQL_URL), {
    poolSize: config.MYSQL_POOL_SIZE,
    connectTimeoutMs: config.MYSQL_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: config.MYSQL_QUERY_TIMEOUT_MS,
    lockWaitTimeoutSeconds: config.MYSQL_LOCK_WAIT_TIMEOUT_SECONDS,
  });
  const secrets = createSecretStore(config.SECRET_STORE_URL, secretStoreKeys(config));
  const backups = backupTargetFrom(config, logger);
  const deps: DatabaseHandlerDeps = {
    admin,
    secrets,
    backups,
    secretHost: config.DATABASE_SECRET_HOST,
    secretPort: config.DATABASE_SECRET_PORT,
    flushPrivileges: config.MYSQL_FLUSH_PRIVILEGES,
  };
  return {
    deps,
    async ready() {
      try {
        await admin.ping();
        await secrets.ping();
        return true;
      } catch (error) {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'database-service not ready',
        );
        return false;
      }
    },
    async close() {
      await admin.close();
      await secrets.close?.();
    },
  };
}

/** The configured BackupTarget, named in the log so an operator sees where dumps go. */
export function backupTargetFrom(config: DatabaseConfig, logger: Logger): BackupTarget {
  if (config.BACKUP_TARGET === 'filesystem') {
    logger.info({ backupTarget: 'filesystem', dir: config.BACKUP_DIR }, 'final backups go to a directory');
    return new FilesystemBackupTarget(config.BACKUP_DIR);
  }
  const target = s3BackupTargetFrom(config);
  logger.info(
    { backupTarget: 's3', endpoint: config.S3_ENDPOINT, bucket: target.bucket },
    'final backups go to the archive bucket',
  );
  return target;
}
