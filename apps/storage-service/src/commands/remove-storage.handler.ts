import {
  BUCKET_KINDS,
  bucketName,
  storagePolicyName,
  storageSecretPath,
  storageUserName,
  type CommandMessage,
  type StepOutputs,
} from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { withObjectStore } from '../adapters/step-errors';
import type { StorageHandlerDeps } from './deps';
import { secretCall } from './tenant-storage';

/** RemoveStorage: the tenant's buckets with every object version, its user and policy, its secret. */
@Controller()
export class RemoveStorageHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: StorageHandlerDeps) {}

  @MessagePattern('RemoveStorage')
  async handle(
    @Payload() command: CommandMessage<'RemoveStorage'>,
    @Ctx() { logger }: CommandContext,
  ): Promise<StepOutputs> {
    const { store, iam, secrets } = this.deps;
    const tenantId = command.data.tenant.tenantId;
    const userName = storageUserName(tenantId);
    let removedVersions = 0;
    const buckets: string[] = [];
    for (const kind of BUCKET_KINDS) {
      const bucket = bucketName(tenantId, kind);
      removedVersions += await withObjectStore('STORAGE.BUCKET_REMOVAL_FAILED', `removing ${bucket}`, () =>
        store.removeBucket(bucket),
      );
      buckets.push(bucket);
    }
    await withObjectStore('STORAGE.USER_REMOVAL_FAILED', `removing user ${userName}`, async () => {
      await iam.removeUser(userName);
      await iam.removeUserPolicy(storagePolicyName(tenantId));
    });
    const secretPath = storageSecretPath(tenantId);
    await secretCall('delete', secretPath, () => secrets.delete(secretPath));
    logger.info({ tenantId, removedVersions }, 'storage removed');
    return { removedBuckets: buckets, removedObjectVersions: removedVersions, userRemoved: userName };
  }
}
