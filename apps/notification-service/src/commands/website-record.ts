import type { StepOutputs, TenantProfile } from '@app/contracts';
import { withWebsites, type WebsiteRecordPatch } from '../adapters/websites-client';
import type { NotificationHandlerDeps } from './deps';

/**
 * Sets fields of the tenant's record: the one CreateWebsiteRecord reported, else the one the service finds.
 * A record already gone (a purge or rollback removed it) is an answer, `found: false`, not a failure.
 */
export function patchRecord(
  deps: NotificationHandlerDeps,
  tenant: TenantProfile,
  websiteId: string | number | null | undefined,
  patch: WebsiteRecordPatch,
  code: string,
): Promise<StepOutputs> {
  return withWebsites(code, async () => {
    const id = websiteId ?? (await deps.websites.findByTenant(tenant.tenantId));
    if (id === null) return { websiteId: null, found: false };
    if (!(await deps.websites.update(id, patch))) return { websiteId: id, found: false };
    const outputs: StepOutputs = { websiteId: id, found: true, status: patch.status };
    if ('activated_at' in patch) outputs.activatedAt = patch.activated_at;
    if ('deleted_at' in patch) outputs.deletedAt = patch.deleted_at;
    return outputs;
  });
}
