import { randomBytes } from 'node:crypto';
import { renderLifecycleXml } from '@app/archive';
import {
  BUCKET_KINDS,
  bucketName,
  storagePolicyName,
  storageSecretPath,
  storageUserName,
  type CommandMessage,
  type StepOutputs,
} from '@app/contracts';
import { HANDLER_DEPS, permanent, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { withObjectStore } from '../adapters/step-errors';
import { bucketPolicyFor, buildBucketPolicy, buildUserPolicy, PUBLIC_PREFIX } from '../domain/bucket-policy';
import { secretFromRandom, storageSecretValues } from '../domain/credentials';
import { productsLifecycleRules } from '../domain/lifecycle';
import type { StorageHandlerDeps } from './deps';
import { applyQuota, MINIO_SECRET_KEY, secretCall } from './tenant-storage';

/** ProvisionStorage (spec 4.1): the secret, versioned buckets, lifecycle, user, bucket policies and quotas. */
@Controller()
export class ProvisionStorageHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: StorageHandlerDeps) {}

  @MessagePattern('ProvisionStorage')
  async handle(
    @Payload() command: CommandMessage<'ProvisionStorage'>,
    @Ctx() { logger }: CommandContext,
  ): Promise<StepOutputs> {
    const { deps } = this;
    const tenantId = command.data.tenant.tenantId;
    const buckets = BUCKET_KINDS.map((kind) => bucketName(tenantId, kind));
    const userName = storageUserName(tenantId);
    const secretPath = storageSecretPath(tenantId);
    const secretKey = await this.ensureSecret(tenantId, secretPath);

    for (const bucket of buckets) {
      await withObjectStore('STORAGE.BUCKET_CREATION_FAILED', `creating bucket ${bucket}`, async () => {
        await deps.store.ensureBucket(bucket);
        await deps.store.enableVersioning(bucket);
      });
    }
    const products = bucketName(tenantId, 'products');
    // Put every time, never only when absent: a bucket carrying an older rule set (the spec's literal
    // current-object expiry) is corrected by the next provision.
    await withObjectStore('STORAGE.LIFECYCLE_FAILED', `lifecycle on ${products}`, () =>
      deps.store.putLifecycleXml(products, renderLifecycleXml(productsLifecycleRules())),
    );
    await withObjectStore('STORAGE.USER_CREATION_FAILED', `creating user ${userName}`, async () => {
      await deps.iam.ensureUser(userName, secretKey);
      await deps.iam.ensureUserPolicy(storagePolicyName(tenantId), userName, buildUserPolicy(tenantId));
    });
    const policy = buildBucketPolicy(tenantId, deps.iam.principal);
    for (const bucket of buckets) {
      await withObjectStore('STORAGE.POLICY_FAILED', `bucket policy on ${bucket}`, () =>
        deps.store.putBucketPolicy(bucket, JSON.stringify(bucketPolicyFor(policy, bucket))),
      );
    }
    const quota = await applyQuota(deps, tenantId, command.data.tenant.tier);
    logger.info({ tenantId, buckets, userName }, 'storage provisioned');
    return {
      buckets,
      versioning: 'Enabled',
      lifecycleBucket: products,
      userName,
      policyName: storagePolicyName(tenantId),
      publicPrefix: `${products}/${PUBLIC_PREFIX}`,
      secretPath,
      iam: deps.iam.kind,
      ...quota,
    };
  }

  /**
   * The secret is stored before the user exists so a redelivery reuses it: never rotate a handed-out key.
   * Returns the stored S3 secret key.
   */
  private async ensureSecret(tenantId: string, secretPath: string): Promise<string> {
    const { deps } = this;
    const random = deps.randomBytes ?? randomBytes;
    const stored = await secretCall('store', secretPath, () =>
      deps.secrets.putIfAbsent(
        secretPath,
        storageSecretValues(tenantId, deps.tenantEndpoint, deps.tenantUseSsl, secretFromRandom(random)),
      ),
    );
    const secretKey = stored[MINIO_SECRET_KEY];
    if (!secretKey)
      throw permanent('STORAGE.SECRET_CORRUPT', `secret at ${secretPath} has no ${MINIO_SECRET_KEY}`);
    return secretKey;
  }
}
