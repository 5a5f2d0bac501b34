import { BUCKET_KINDS, bucketName, type CommandMessage, type StepOutputs } from '@app/contracts';
import { HANDLER_DEPS, permanent } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { withObjectStore } from '../adapters/step-errors';
import type { StorageHandlerDeps } from './deps';
import { applyQuota } from './tenant-storage';

/** UpdateStorageQuota: the quotas of the tier the tenant moves to, on buckets that must already exist. */
@Controller()
export class UpdateStorageQuotaHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: StorageHandlerDeps) {}

  @MessagePattern('UpdateStorageQuota')
  async handle(@Payload() command: CommandMessage<'UpdateStorageQuota'>): Promise<StepOutputs> {
    const tenantId = command.data.tenant.tenantId;
    const { toTier } = command.data.params;
    for (const kind of BUCKET_KINDS) {
      const bucket = bucketName(tenantId, kind);
      const exists = await withObjectStore('STORAGE.QUOTA_FAILED', `checking ${bucket}`, () =>
        this.deps.store.bucketExists(bucket),
      );
      if (!exists) throw permanent('STORAGE.BUCKET_MISSING', `bucket ${bucket} not found`);
    }
    return { tier: toTier, ...(await applyQuota(this.deps, tenantId, toTier)) };
  }
}
