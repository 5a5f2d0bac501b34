import { isTenantId } from '@app/contracts';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { CliFailure, EXIT } from './cli-io';
import { printable } from './format';

/**
 * The manifests repository's Argo CD registration moved from one list ApplicationSet (every tenant an element
 * of `applicationsets/tenant-applications.yaml`) to a git files generator reading each tenant's own
 * `tenants/<id>/config.json`. This is the layout the k8s-service writes (@app/plans' k8s builders); tenantctl
 * cannot import another app, so the few facts of the layout are restated here and the specs check the two agree
 * byte for byte (the migration's output against the k8s-service's golden files).
 */
export const APPLICATION_SET_FILE = 'applicationsets/tenant-applications.yaml';
export const TENANT_REGISTRATION_GLOB = 'tenants/*/config.json';

export function tenantRegistrationFile(tenantId: string): string {
  return `tenants/${tenantId}/config.json`;
}

/** A list element: the parameters the ApplicationSet's template reads (`{{tenant}}`, `{{tier}}`, ...). */
export interface RegistrationElement {
  tenant: string;
  tier: string;
  domain: string;
  region: string;
}

/** The k8s-service's `config.json`: these keys in this order, two-space JSON, a final newline. */
export function renderRegistration(element: RegistrationElement): string {
  const { tenant, tier, domain, region } = element;
  return `${JSON.stringify({ tenant, tier, domain, region }, null, 2)}\n`;
}

export type MigrationPlan =
  | { kind: 'no-application-set' }
  | { kind: 'already-migrated' }
  | {
      kind: 'migrate';
      /** Every element of the list, in its order. */
      tenants: string[];
      /** Config files to write (the others exist already and are kept: they are newer than the list). */
      write: { path: string; content: string }[];
      applicationSet: string;
    };

interface ApplicationSetDocument {
  spec?: {
    generators?: Record<string, unknown>[];
    template?: { spec?: { source?: { repoURL?: unknown; targetRevision?: unknown } } };
  };
}

const bad = (message: string) => new CliFailure(EXIT.ERROR, `${APPLICATION_SET_FILE}: ${message}`);

function elementOf(value: unknown, index: number): RegistrationElement {
  const element = (value ?? {}) as Partial<Record<keyof RegistrationElement, unknown>>;
  if (!isTenantId(element.tenant)) {
    throw bad(
      `element ${index} has no valid tenant id (${JSON.stringify(printable(String(element.tenant)))})`,
    );
  }
  for (const key of ['tier', 'domain', 'region'] as const) {
    if (typeof element[key] !== 'string' || element[key] === '') {
      throw bad(`element ${index} (tenant ${element.tenant}) has no ${key}`);
    }
  }
  return element as RegistrationElement;
}

/**
 * What migrating the repository at `workdir` means, computed without writing: the list's elements become config
 * files and the list generator becomes the git files generator over the template's own repository and revision.
 * Everything else of the ApplicationSet is kept as it is, above all its name: a new name would delete the old
 * object and with it every Application it generated.
 */
export async function planMigration(workdir: string): Promise<MigrationPlan> {
  const path = join(workdir, APPLICATION_SET_FILE);
  if (!existsSync(path)) return { kind: 'no-application-set' };
  const document = parse(await readFile(path, 'utf8')) as ApplicationSetDocument | null;
  const generators = document?.spec?.generators;
  if (!document?.spec || !Array.isArray(generators)) throw bad('no spec.generators');
  const lists = generators.filter((generator) => 'list' in generator);
  if (lists.length === 0) {
    const git = generators.find((generator) => 'git' in generator)?.git as
      { files?: { path?: string }[] } | undefined;
    if (git?.files?.some((file) => file.path === TENANT_REGISTRATION_GLOB))
      return { kind: 'already-migrated' };
    throw bad(`neither a list generator nor a git files generator over ${TENANT_REGISTRATION_GLOB}`);
  }
  if (lists.length !== generators.length) throw bad('a list generator beside other generators');
  const source = document.spec.template?.spec?.source;
  if (typeof source?.repoURL !== 'string') throw bad('the template has no source.repoURL');
  const revision = typeof source.targetRevision === 'string' ? source.targetRevision : 'HEAD';

  const elements = lists
    .flatMap((generator) => ((generator.list as { elements?: unknown[] }).elements ?? []) as unknown[])
    .map(elementOf);
  const seen = new Set<string>();
  const write: { path: string; content: string }[] = [];
  for (const element of elements) {
    if (seen.has(element.tenant)) throw bad(`tenant ${element.tenant} is listed twice`);
    seen.add(element.tenant);
    const file = tenantRegistrationFile(element.tenant);
    if (!existsSync(join(workdir, file))) write.push({ path: file, content: renderRegistration(element) });
  }
  document.spec.generators = [
    { git: { repoURL: source.repoURL, revision, files: [{ path: TENANT_REGISTRATION_GLOB }] } },
  ];
  return {
    kind: 'migrate',
    tenants: [...seen],
    write,
    applicationSet: stringify(document, { lineWidth: 0 }),
  };
}

/** Writes a plan into the working copy; `progress` is called after each config file. */
export async function applyMigration(
  workdir: string,
  plan: Extract<MigrationPlan, { kind: 'migrate' }>,
  progress: (done: number) => void,
): Promise<void> {
  let done = 0;
  for (const file of plan.write) {
    const target = join(workdir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
    progress((done += 1));
  }
  await writeFile(join(workdir, APPLICATION_SET_FILE), plan.applicationSet);
}
