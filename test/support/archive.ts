import { Agent, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { archiveS3Env, listLatest, s3EndpointFrom, type ArchiveS3Config } from '@app/archive';
import { loadConfig } from '@app/platform';
import { TestHttpProxy } from '@app/testing';
import * as Minio from 'minio';
import { z } from 'zod';

/**
 * The archive bucket a stack's services write final backups to (database dumps and bucket mirrors under
 * `<tenantId>/`), read and cleaned by the suites behind the services' backs, with their configuration.
 */
export class ArchiveBucket {
  readonly config: ArchiveS3Config;
  readonly client: Minio.Client;

  constructor(env: Record<string, string | undefined>) {
    this.config = loadConfig(z.object(archiveS3Env(env)), env);
    const { endpoint, accessKey, secretKey, region } = s3EndpointFrom(this.config);
    const url = new URL(endpoint);
    this.client = new Minio.Client({
      endPoint: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      useSSL: url.protocol === 'https:',
      accessKey,
      secretKey,
      region,
      pathStyle: true,
      // No keep-alive: a pooled socket would outlive the suite.
      transportAgent: new Agent({ keepAlive: false }),
    });
  }

  get name(): string {
    return this.config.STORAGE_ARCHIVE_BUCKET;
  }

  async keys(prefix: string): Promise<string[]> {
    if (!(await this.client.bucketExists(this.name))) return [];
    return (await listLatest(this.client, this.name, prefix)).map((o) => o.key).sort();
  }

  async read(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of (await this.client.getObject(this.name, key)) as Readable)
      chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.client.putObject(this.name, key, body, body.length);
  }

  /** Removes the tenants' archives (the bucket is shared with every other suite and stays). */
  async removeTenants(tenantIds: readonly string[]): Promise<void> {
    for (const tenantId of tenantIds) {
      for (const key of await this.keys(`${tenantId}/`)) await this.client.removeObject(this.name, key);
    }
  }
}

/**
 * An HTTP proxy in front of the S3 server that lets a suite act before a request goes on: the request waits
 * until `before` resolves (a rejection answers 500).
 */
export class S3Interceptor extends TestHttpProxy {
  before: (request: { method: string; path: string }) => Promise<void> | void = () => undefined;

  constructor(upstream: string) {
    super(new URL(upstream));
  }

  protected override async intercept(req: IncomingMessage): Promise<boolean> {
    await this.before({ method: req.method ?? 'GET', path: req.url ?? '/' });
    return false;
  }
}
