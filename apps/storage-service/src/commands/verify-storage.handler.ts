import { createHash } from 'node:crypto';
import { parseLifecycleXml, s3ErrorCode } from '@app/archive';
import {
  BUCKET_KINDS,
  bucketName,
  storageUserName,
  type CommandMessage,
  type StepOutputs,
  type Tier,
} from '@app/contracts';
import { HANDLER_DEPS, permanent, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import type * as Minio from 'minio';
import type { Logger } from 'pino';
import { withObjectStore } from '../adapters/step-errors';
import { PUBLIC_PREFIX } from '../domain/bucket-policy';
import { currentObjectExpirations, satisfiesProductsLifecycle } from '../domain/lifecycle';
import type { StorageHandlerDeps } from './deps';
import { readText } from './streams';
import { storageQuotaOf } from '@app/plans';
import { tenantCredentials } from './tenant-storage';

interface Probe {
  bucket: string;
  key: string;
  body: string;
}

const UNREACHABLE = 'STORAGE.VERIFY_UNREACHABLE';

function objectUrl(endpoint: string, bucket: string, key: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return `${base}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * VerifyStorage: versioned buckets, the tier's quotas and the products lifecycle as the servers report them,
 * then the tenant's own keys write and read every bucket, anonymous reads see only the public prefix.
 */
@Controller()
export class VerifyStorageHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: StorageHandlerDeps) {}

  @MessagePattern('VerifyStorage')
  async handle(
    @Payload() command: CommandMessage<'VerifyStorage'>,
    @Ctx() { logger }: CommandContext,
  ): Promise<StepOutputs> {
    const tenantId = command.data.tenant.tenantId;
    const probeId = createHash('sha256').update(command.metadata.messageId).digest('hex').slice(0, 12);
    await this.checkBuckets(tenantId);
    await this.checkQuotas(tenantId, command.data.tenant.tier);
    const products = bucketName(tenantId, 'products');
    await this.checkLifecycle(products);

    const { accessKey, secretKey } = await tenantCredentials(this.deps, tenantId);
    const tenant = this.deps.tenantClient(accessKey, secretKey);
    const probes: Probe[] = BUCKET_KINDS.map((kind) => ({
      bucket: bucketName(tenantId, kind),
      key: `verify/probe-${probeId}.txt`,
      body: `verify ${tenantId} ${kind} ${probeId}`,
    }));
    const publicProbe: Probe = {
      bucket: products,
      key: `${PUBLIC_PREFIX}verify-probe-${probeId}.txt`,
      body: `public ${probeId}`,
    };
    try {
      for (const probe of [...probes, publicProbe]) await this.writeAndReadBack(tenant, probe);
      await this.checkAnonymousAccess(probes, publicProbe);
    } finally {
      await this.removeProbes([...probes, publicProbe], logger);
    }
    return {
      buckets: BUCKET_KINDS.map((kind) => bucketName(tenantId, kind)),
      versioning: 'Enabled',
      tenantReadWrite: true,
      anonymousReadOnlyUnder: `${products}/${PUBLIC_PREFIX}`,
    };
  }

  private async checkBuckets(tenantId: string): Promise<void> {
    const { store } = this.deps;
    for (const kind of BUCKET_KINDS) {
      const bucket = bucketName(tenantId, kind);
      const exists = await withObjectStore(UNREACHABLE, `checking ${bucket}`, () =>
        store.bucketExists(bucket),
      );
      if (!exists) throw permanent('STORAGE.BUCKET_MISSING', `bucket ${bucket} not found`);
      const status = await withObjectStore(UNREACHABLE, `versioning of ${bucket}`, () =>
        store.versioningStatus(bucket),
      );
      if (status !== 'Enabled')
        throw permanent('STORAGE.VERSIONING_OFF', `versioning is ${status} on ${bucket}`);
    }
  }

  private async checkQuotas(tenantId: string, tier: Tier): Promise<void> {
    const { iam } = this.deps;
    const quota = storageQuotaOf(tier);
    for (const kind of BUCKET_KINDS) {
      const bucket = bucketName(tenantId, kind);
      const bytes = await withObjectStore(UNREACHABLE, `quota of ${bucket}`, () =>
        iam.getBucketQuota(bucket),
      );
      if (bytes !== quota.buckets[kind]) {
        throw permanent(
          'STORAGE.QUOTA_MISMATCH',
          `quota of ${bucket} is ${bytes ?? 'unset'}, the tier's is ${quota.buckets[kind]} bytes`,
        );
      }
    }
    if (!iam.userQuotas) return;
    const userName = storageUserName(tenantId);
    const found = await withObjectStore(UNREACHABLE, `quota of user ${userName}`, () =>
      iam.getUserQuota(userName),
    );
    if (found?.maxSizeBytes !== quota.user.maxSizeBytes || found.maxObjects !== quota.user.maxObjects) {
      throw permanent('STORAGE.QUOTA_MISMATCH', `quota of user ${userName} is not the tier's`);
    }
  }

  private async checkLifecycle(products: string): Promise<void> {
    const lifecycle = await withObjectStore(UNREACHABLE, `lifecycle of ${products}`, () =>
      this.deps.store.getLifecycleXml(products),
    );
    const rules = lifecycle ? parseLifecycleXml(lifecycle) : [];
    const expiring = currentObjectExpirations(rules);
    if (expiring.length > 0) {
      // A bucket provisioned with the spec's literal rule: provisioning again replaces it.
      throw permanent(
        'STORAGE.LIFECYCLE_EXPIRES_CURRENT_OBJECTS',
        `lifecycle on ${products} expires current objects (rule ${expiring.map((r) => r.id).join(', ')}): ` +
          'live data would be deleted; provision the storage again to replace it',
      );
    }
    if (!satisfiesProductsLifecycle(rules)) {
      throw permanent(
        'STORAGE.LIFECYCLE_MISSING',
        `30-day noncurrent-version lifecycle missing on ${products}`,
      );
    }
  }

  private async writeAndReadBack(tenant: Minio.Client, probe: Probe): Promise<void> {
    await withObjectStore('STORAGE.TENANT_ACCESS_DENIED', `tenant write to ${probe.bucket}`, () =>
      tenant.putObject(probe.bucket, probe.key, Buffer.from(probe.body), undefined, {
        'Content-Type': 'text/plain',
      }),
    );
    const read = await withObjectStore(
      'STORAGE.TENANT_ACCESS_DENIED',
      `tenant read from ${probe.bucket}`,
      async () => readText(await tenant.getObject(probe.bucket, probe.key)),
    );
    if (read !== probe.body)
      throw permanent('STORAGE.READBACK_MISMATCH', `read-back differs in ${probe.bucket}`);
  }

  /** Anonymous reads: allowed under the public prefix, refused (403) everywhere else. */
  private async checkAnonymousAccess(probes: readonly Probe[], publicProbe: Probe): Promise<void> {
    const anonymousGet = (probe: Probe) =>
      withObjectStore(UNREACHABLE, 'anonymous read', () =>
        fetch(objectUrl(this.deps.endpoint, probe.bucket, probe.key)),
      );
    const anonymousPublic = await anonymousGet(publicProbe);
    if (anonymousPublic.status !== 200 || (await anonymousPublic.text()) !== publicProbe.body) {
      throw permanent(
        'STORAGE.PUBLIC_READ_BROKEN',
        `anonymous read under ${publicProbe.bucket}/${PUBLIC_PREFIX} refused`,
      );
    }
    for (const probe of probes) {
      const anonymous = await anonymousGet(probe);
      await anonymous.arrayBuffer();
      if (anonymous.status !== 403) {
        throw permanent(
          'STORAGE.PRIVATE_OBJECT_EXPOSED',
          `anonymous read of ${probe.bucket} answered ${anonymous.status}`,
        );
      }
    }
  }

  /** Probes are removed with every version so verification leaves nothing behind. */
  private async removeProbes(probes: readonly Probe[], logger: Logger): Promise<void> {
    for (const probe of probes) {
      await this.deps.store.removeAllVersions(probe.bucket, probe.key).catch((error: unknown) => {
        logger.warn(
          { bucket: probe.bucket, key: probe.key, code: s3ErrorCode(error) },
          'probe cleanup failed',
        );
      });
    }
  }
}
