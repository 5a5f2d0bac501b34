import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { CommandMessage, JsonValue, StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, permanent } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { classifyBackupError } from '../adapters/backup-errors';
import type { TableRows } from '../adapters/database-admin';
import {
  backupDate,
  DUMP_CONTENT_TYPE,
  dumpKey,
  MANIFEST_CONTENT_TYPE,
  manifestKey,
  type BackupManifest,
  type DumpEntry,
} from '../domain/backup-manifest';
import { refusingInvalid } from '../domain/errors';
import type { ServiceDatabase } from '@app/plans';
import type { DatabaseHandlerDeps } from './deps';
import { planFor } from './tenant-databases';

/**
 * BackupDatabases (spec "Sauvegarde Finale"): one gzipped logical dump per database and a manifest with their
 * checksums and row counts, under `<tenantId>/databases/`; the manifest last, so it names only complete dumps.
 */
@Controller()
export class BackupDatabasesHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: DatabaseHandlerDeps) {}

  @MessagePattern('BackupDatabases')
  async handle(@Payload() command: CommandMessage<'BackupDatabases'>): Promise<StepOutputs> {
    const { admin, backups } = this.deps;
    const plan = planFor(command);
    const { backupId } = command.data.params;
    const tenantId = command.data.tenant.tenantId;
    const createdAt = command.metadata.occurredAt;
    const { date, key } = refusingInvalid(() => ({
      date: backupDate(createdAt),
      key: manifestKey(tenantId, backupId),
    }));
    const existing = await admin.databases(plan.map((entry) => entry.database));
    const missing = plan.filter((entry) => !existing.has(entry.database)).map((entry) => entry.database);
    if (missing.length > 0) {
      throw permanent('DATABASE.BACKUP_SOURCE_MISSING', `databases missing: ${missing.join(', ')}`);
    }
    const dumps: DumpEntry[] = [];
    for (const entry of plan) {
      dumps.push(await this.dumpOne(entry, dumpKey(tenantId, entry.database, date, backupId), createdAt));
    }
    const manifest: BackupManifest = {
      version: 1,
      tenantId,
      backupId,
      createdAt,
      format: 'mysql-logical-dump+gzip',
      dumps,
    };
    try {
      await backups.putObject(key, Buffer.from(JSON.stringify(manifest, null, 2)), {
        contentType: MANIFEST_CONTENT_TYPE,
      });
    } catch (error) {
      throw classifyBackupError(error, 'write', key);
    }
    return {
      manifestKey: key,
      count: dumps.length,
      totalBytes: dumps.reduce((sum, d) => sum + d.bytes, 0),
      dumps: dumps.map((d) => ({ key: d.key, sha256: d.sha256, bytes: d.bytes })) as JsonValue,
    };
  }

  private async dumpOne(entry: ServiceDatabase, key: string, createdAt: string): Promise<DumpEntry> {
    const { stream, tables } = this.deps.admin.dump(entry.database, createdAt);
    // A failure of the dump itself settles `tables` before it reaches the writer (as the stream's error), so
    // by the time the write fails it is known here, and reported with its own classified code.
    let dumpError: unknown;
    tables.catch((error: unknown) => {
      dumpError = error;
    });
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    const gzip = createGzip();
    stream.on('error', (error) => gzip.destroy(error));
    gzip.on('error', (error) => meter.destroy(error));
    // The dump runs as soon as it is piped, while the writer may still be preparing (creating the bucket): a
    // dump failing then would emit an error nobody listens to yet and crash the process. The writer still
    // sees it (the stream is destroyed with it), and `dumpError` holds it anyway.
    meter.on('error', () => undefined);
    stream.pipe(gzip).pipe(meter);
    try {
      await this.deps.backups.putObject(key, meter, { contentType: DUMP_CONTENT_TYPE });
    } catch (error) {
      // The write stopped reading: stop the dump too, or it would wait on a full pipe (its connection open).
      // `tables` may then never settle, so it is not awaited: only a failure already recorded counts.
      stream.destroy();
      throw dumpError ?? classifyBackupError(error, 'write', key);
    }
    const counted: TableRows[] = await tables;
    return {
      service: entry.service,
      database: entry.database,
      key,
      sha256: hash.digest('hex'),
      bytes,
      tables: counted,
    };
  }
}
