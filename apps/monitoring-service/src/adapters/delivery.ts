import { type TenantProfile, namespaceName } from '@app/contracts';
import { type GitOpsConfig, GitWorkingCopy, type KubeClient, assertValidObject } from '@app/kube';
import { permanent } from '@app/platform';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { parse, stringify } from 'yaml';
import { type MonitoringFile, monitoringKustomization, toYaml } from '@app/plans';

export interface MonitoringDelivery {
  readonly mode: 'gitops' | 'direct';
  apply(
    tenant: TenantProfile,
    files: MonitoringFile[],
    context: { reason: string; correlationId: string },
  ): Promise<{ changed: boolean; revision?: string }>;
  remove(
    tenant: TenantProfile,
    files: MonitoringFile[],
    context: { reason: string; correlationId: string },
  ): Promise<{ changed: boolean; revision?: string }>;
  health(): Promise<boolean>;
}

/** Server-side apply of the monitoring objects; deletion in reverse; absent is success. */
export class DirectMonitoringDelivery implements MonitoringDelivery {
  readonly mode = 'direct' as const;
  constructor(private readonly client: KubeClient) {}
  async apply(_tenant: TenantProfile, files: MonitoringFile[]) {
    const objects = files.flatMap((file) => file.objects);
    for (const object of objects) assertValidObject(object);
    for (const object of objects) await this.client.apply(object);
    return { changed: objects.length > 0 };
  }
  async remove(_tenant: TenantProfile, files: MonitoringFile[]) {
    let changed = false;
    for (const object of files.flatMap((file) => file.objects).reverse())
      changed = (await this.client.delete(object)) || changed;
    return { changed };
  }
  health() {
    return this.client.reachable();
  }
}

/**
 * GitOps delivery of `tenants/<id>/monitoring/` into the manifests repository the k8s-service writes: the
 * files plus `monitoring/` in the tenant's root kustomization (the k8s-service keeps it listed when it
 * regenerates the root). Same commit discipline as the k8s-service (`GitWorkingCopy`).
 */
export class GitOpsMonitoringDelivery implements MonitoringDelivery {
  readonly mode = 'gitops' as const;
  private readonly working: GitWorkingCopy;

  constructor(config: GitOpsConfig, logger: Logger) {
    this.working = new GitWorkingCopy(config, 'MONITORING', logger);
  }

  health(): Promise<boolean> {
    return this.working.health();
  }

  async apply(
    tenant: TenantProfile,
    files: MonitoringFile[],
    context: { reason: string; correlationId: string },
  ) {
    for (const object of files.flatMap((file) => file.objects)) assertValidObject(object);
    return this.commit(tenant, context, async (root) => {
      for (const file of files)
        await this.write(join(root, 'monitoring', safe(file.path)), toYaml(file.objects));
      await this.write(join(root, 'monitoring', 'kustomization.yaml'), monitoringKustomization());
      await this.listInRoot(root, true);
    });
  }

  async remove(
    tenant: TenantProfile,
    _files: MonitoringFile[],
    context: { reason: string; correlationId: string },
  ) {
    return this.commit(tenant, context, async (root) => {
      await rm(join(root, 'monitoring'), { recursive: true, force: true });
      await this.listInRoot(root, false);
    });
  }

  private async listInRoot(root: string, present: boolean): Promise<void> {
    const path = join(root, 'kustomization.yaml');
    if (!existsSync(path)) return;
    const document = parse(await readFile(path, 'utf8')) as { resources?: string[] };
    const resources = (document.resources ?? []).filter((entry) => entry !== 'monitoring/');
    if (present) resources.push('monitoring/');
    document.resources = resources;
    await writeFile(path, stringify(document, { lineWidth: 0 }));
  }

  private async write(path: string, content: string) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }

  /**
   * The tenant's `monitoring/` directory and root kustomization are all a change reads and writes: nothing
   * else is looked at to find what it did, and a commit of the k8s-service that touches neither (another
   * tenant's) is no reason to run it again when it wins the push race.
   */
  private async commit(
    tenant: TenantProfile,
    context: { reason: string; correlationId: string },
    mutate: (root: string) => Promise<void>,
  ): Promise<{ changed: boolean; revision?: string }> {
    namespaceName(tenant.tenantId); // validates the id before it becomes a path
    const root = `tenants/${tenant.tenantId}`;
    const { changed, revision } = await this.working.commit(
      { ...context, tenantId: tenant.tenantId, paths: [`${root}/monitoring`, `${root}/kustomization.yaml`] },
      () => mutate(join(this.working.workdir, root)),
    );
    return { changed, revision };
  }
}

function safe(path: string): string {
  if (!/^[a-z0-9-]+\.yaml$/.test(path)) throw permanent('MONITORING.UNSAFE_PATH', 'unexpected file name');
  return path;
}
