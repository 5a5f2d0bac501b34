import { isImageTag, type TenantProfile } from '@app/contracts';
import { type ChangeScope, type GitOpsConfig, GitWorkingCopy, assertValidObject } from '@app/kube';
import { permanent } from '@app/platform';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import type { Logger } from 'pino';
import {
  APPLICATIONS_DIR,
  APPLICATION_SET_DIR,
  APPLICATION_SET_FILE,
  BOOTSTRAP_DIR,
  type RepositoryFile,
  applicationFile,
  bootstrapFiles,
  registrationDir,
  renderApplicationSetRegistration,
  renderBootstrap,
  renderRegistrationKustomization,
  tenantRegistrationFile,
} from '../domain/argocd-bootstrap';
import {
  type ApplicationSetElement,
  application,
  applicationSet,
  applicationSetElement,
  renderTenantRegistration,
  type RenderOptions,
  KUSTOMIZATION,
  fileContent,
  renderIndexes,
  tenantTreeRoot,
  toYaml,
} from '@app/plans';
import type { DeliveryDriver, DeliveryResult, TenantChange } from './delivery.port';

export { APPLICATION_SET_FILE, applicationFile, tenantRegistrationFile };

/** Tree-relative paths we write: lowercase segments, no `..`, no absolute paths, no shell metacharacters. */
const SAFE_RELATIVE_PATH = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9]+)*(\/[a-z0-9][a-z0-9_-]*(\.[a-z0-9]+)*)*\/?$/;
export function assertSafePath(path: string): void {
  if (!SAFE_RELATIVE_PATH.test(path) || path.split('/').includes('..')) {
    throw permanent('K8S.UNSAFE_PATH', `refusing to write path ${JSON.stringify(path.slice(0, 120))}`);
  }
}

/**
 * Delivers tenants the spec's way (phase 2.1, 6.1): the tenant's kustomize tree and its registration (its
 * `config.json` for the ApplicationSet's git files generator, or its Application) are committed to the manifests repository that Argo CD watches, with the commit discipline of
 * `GitWorkingCopy` (start from the remote tip, commit only on a difference, redo a lost push race). Each
 * registration also writes `bootstrap/` (argocd-bootstrap.ts), so a repository gains or updates it with the next
 * tenant; unchanged content makes no commit.
 */
export class GitOpsDriver implements DeliveryDriver {
  readonly mode = 'gitops' as const;
  private readonly working: GitWorkingCopy;
  /** The bootstrap and ApplicationSet files: the same for every change (options are fixed), rendered once. */
  private bootstrap?: RepositoryFile[];
  private applicationSetFiles?: RepositoryFile[];

  constructor(
    config: GitOpsConfig,
    private readonly options: RenderOptions,
    logger: Logger,
  ) {
    this.working = new GitWorkingCopy(config, 'K8S', logger);
  }

  health(): Promise<boolean> {
    return this.working.health();
  }

  /** What is committed (pushed) for the tenant, whichever replica committed it. */
  async tenantPaths(tenantId: string): Promise<Set<string>> {
    return this.working.committedFiles(tenantTreeRoot(tenantId));
  }

  async applyTenant(change: TenantChange): Promise<DeliveryResult> {
    for (const file of [...change.put, ...change.remove]) assertSafePath(file.path);
    for (const file of change.put) for (const object of file.objects) assertValidObject(object);
    return this.commit(
      change.tenant,
      {
        reason: change.reason,
        correlationId: change.correlationId,
        paths: this.paths(change.tenant.tenantId, change.application !== 'keep'),
      },
      async (scope) => {
        const root = this.absolute(tenantTreeRoot(change.tenant.tenantId));
        const applied: string[] = [];
        const removed: string[] = [];
        for (const file of change.remove) {
          const target = join(root, file.path);
          if (existsSync(target)) {
            await rm(target, { recursive: true, force: true });
            removed.push(file.path);
          }
        }
        for (const file of change.put) {
          await this.write(join(root, file.path), fileContent(file));
          applied.push(file.path);
        }
        await this.writeIndexes(change.tenant, change.imageTag);
        if (change.application !== 'keep')
          await this.updateRegistration(change.tenant, change.application === 'register', scope);
        return { applied, removed };
      },
    );
  }

  async removeTenant(
    tenant: TenantProfile,
    context: { reason: string; correlationId: string },
  ): Promise<DeliveryResult> {
    const paths = this.paths(tenant.tenantId, true);
    return this.commit(tenant, { ...context, paths }, async (scope) => {
      const root = this.absolute(tenantTreeRoot(tenant.tenantId));
      const removed = existsSync(root) ? [tenantTreeRoot(tenant.tenantId)] : [];
      // Registration first: migrating an earlier list layout writes this tenant's config file too.
      await this.updateRegistration(tenant, false, scope);
      await rm(root, { recursive: true, force: true });
      return { applied: [], removed };
    });
  }

  // -------------------------------------------------------------------------------------------------------

  /**
   * What a change reads and writes: the tenant's directory, and with its registration `bootstrap/` and the
   * registration directory (application mode: the tenant's Application and the directory's kustomization,
   * which every other registration rewrites too). Nothing else is looked at to find what the change did.
   */
  private paths(tenantId: string, registration: boolean): string[] {
    const paths = [tenantTreeRoot(tenantId)];
    if (!registration) return paths;
    if (this.options.argoMode === 'application')
      return [...paths, BOOTSTRAP_DIR, applicationFile(tenantId), `${APPLICATIONS_DIR}/${KUSTOMIZATION}`];
    return [...paths, BOOTSTRAP_DIR, APPLICATION_SET_DIR];
  }

  private async commit(
    tenant: TenantProfile,
    context: { reason: string; correlationId: string; paths: string[] },
    mutate: (scope: ChangeScope) => Promise<{ applied: string[]; removed: string[] }>,
  ): Promise<DeliveryResult> {
    const { changed, revision, result } = await this.working.commit(
      { ...context, tenantId: tenant.tenantId },
      mutate,
    );
    return { mode: this.mode, changed, revision, ...result };
  }

  private absolute(repoPath: string): string {
    const workdir = this.working.workdir;
    const target = resolve(workdir, repoPath);
    if (target !== workdir && !target.startsWith(workdir + sep)) {
      throw permanent('K8S.UNSAFE_PATH', 'path escapes the working copy');
    }
    return target;
  }
  /**
   * Writes only a content that differs: a file left as it was keeps its timestamps, so git's staging of the
   * change does not read and hash it again.
   */
  private async write(path: string, content: string): Promise<void> {
    const existing = await readFile(path, 'utf8').catch(() => undefined);
    if (existing === content) return;
    if (existing === undefined) await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }

  /** The `newTag` the tenant's kustomization names now (an image tag change's), if it is a valid tag. */
  private async treeImageTag(root: string): Promise<string | undefined> {
    const existing = await readFile(join(root, KUSTOMIZATION), 'utf8').catch(() => undefined);
    if (existing === undefined) return undefined;
    const { images } = (parse(existing) ?? {}) as { images?: { newTag?: unknown }[] };
    const tag = Array.isArray(images) ? images[0]?.newTag : undefined;
    return isImageTag(tag) ? tag : undefined;
  }

  private async listTree(tenantId: string): Promise<Set<string>> {
    const root = this.absolute(tenantTreeRoot(tenantId));
    const found = new Set<string>();
    if (!existsSync(root)) return found;
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (entry.isFile()) found.add(relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
    }
    return found;
  }

  private async writeIndexes(tenant: TenantProfile, imageTag: string | undefined): Promise<void> {
    const root = this.absolute(tenantTreeRoot(tenant.tenantId));
    const tag = imageTag ?? (await this.treeImageTag(root)) ?? this.options.imageTag;
    const options = tag === this.options.imageTag ? this.options : { ...this.options, imageTag: tag };
    const indexes = renderIndexes(tenant, options, await this.listTree(tenant.tenantId));
    for (const [path, content] of Object.entries(indexes)) {
      if (content === null) await rm(join(root, path), { force: true });
      else await this.write(join(root, path), content);
    }
  }

  private async updateRegistration(
    tenant: TenantProfile,
    present: boolean,
    scope: ChangeScope,
  ): Promise<void> {
    if (present) await this.writeBootstrap();
    if (this.options.argoMode === 'application') {
      const path = this.absolute(applicationFile(tenant.tenantId));
      if (present) {
        const object = application(tenant, this.options);
        assertValidObject(object);
        await this.write(path, toYaml([object]));
      } else await rm(path, { force: true });
      await this.writeRegistrationIndex();
      return;
    }
    await this.migrateListRegistration(scope);
    const path = this.absolute(tenantRegistrationFile(tenant.tenantId));
    if (present) {
      await this.writeApplicationSet();
      await this.write(path, renderTenantRegistration(applicationSetElement(tenant)));
    } else await rm(path, { force: true });
  }

  /**
   * An earlier layout's list ApplicationSet gives way to the git files generator in the commit of the change at
   * hand, each element becoming its tenant's config file (kept if one exists), so that no tenant's Application
   * loses its input on the way (`tenantctl gitops migrate` does the same for a whole repository at once).
   */
  private async migrateListRegistration(scope: ChangeScope): Promise<void> {
    const path = this.absolute(APPLICATION_SET_FILE);
    const content = await readFile(path, 'utf8').catch(() => undefined);
    // Already the files generator's ApplicationSet (every change after the first): nothing to parse.
    if (content === undefined || content === this.renderedApplicationSet()) return;
    const elements = listElements(content);
    if (!elements) return;
    for (const element of elements) {
      // Other tenants' files: part of this change from now on.
      await scope.include(tenantRegistrationFile(element.tenant));
      const target = this.absolute(tenantRegistrationFile(element.tenant));
      if (!existsSync(target)) await this.write(target, renderTenantRegistration(element));
    }
    await this.writeApplicationSet();
  }

  /** The ApplicationSet and its directory's kustomization: the same bytes for every tenant, so no diff. */
  private async writeApplicationSet(): Promise<void> {
    for (const file of this.applicationSetRegistration())
      await this.write(this.absolute(file.path), file.content);
  }

  private applicationSetRegistration(): RepositoryFile[] {
    if (!this.applicationSetFiles) {
      assertValidObject(applicationSet(this.options));
      this.applicationSetFiles = renderApplicationSetRegistration(this.options);
    }
    return this.applicationSetFiles;
  }

  private renderedApplicationSet(): string | undefined {
    return this.applicationSetRegistration().find((file) => file.path === APPLICATION_SET_FILE)?.content;
  }

  private async writeBootstrap(): Promise<void> {
    if (!this.bootstrap) {
      const files = bootstrapFiles(this.options);
      for (const file of files) {
        assertSafePath(file.path);
        for (const object of file.objects) assertValidObject(object);
      }
      this.bootstrap = renderBootstrap(this.options, files);
    }
    for (const file of this.bootstrap) await this.write(this.absolute(file.path), file.content);
  }

  /** The registration directory's kustomization, from the files it holds (the root Application syncs it). */
  private async writeRegistrationIndex(): Promise<void> {
    const dir = registrationDir(this.options);
    const absolute = this.absolute(dir);
    const names = existsSync(absolute) ? await readdir(absolute) : [];
    const present = names.filter((name) => name.endsWith('.yaml')).map((name) => `${dir}/${name}`);
    await this.write(join(absolute, KUSTOMIZATION), renderRegistrationKustomization(this.options, present));
  }
}

/** The list generator's elements of an earlier layout's ApplicationSet, or `undefined` when it has no list. */
function listElements(content: string): ApplicationSetElement[] | undefined {
  const document = parse(content) as {
    spec?: { generators?: { list?: { elements?: ApplicationSetElement[] } }[] };
  } | null;
  const lists = (document?.spec?.generators ?? []).filter((generator) => generator.list);
  if (lists.length === 0) return undefined;
  return lists.flatMap((generator) => generator.list?.elements ?? []);
}
