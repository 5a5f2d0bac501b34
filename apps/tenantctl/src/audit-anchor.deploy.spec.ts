import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { anchorConfigSchema } from './audit-anchor';
import { tenantctlConfigSchema } from './cli.config';

/**
 * The audit-anchor CronJob of deploy/ (as scripts/render-deploy.sh renders it) gives `tenantctl audit anchor`
 * an environment it accepts under NODE_ENV=production, from Secrets the overlay provides, and mounts the
 * signing key where AUDIT_ANCHOR_PRIVATE_KEY_FILE points.
 */
type Obj = { kind: string; metadata: { name: string }; [key: string]: unknown };
type EnvEntry = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
};
type Container = {
  command: string[];
  envFrom: { configMapRef: { name: string } }[];
  env: EnvEntry[];
  volumeMounts: { name: string; mountPath: string }[];
};
type PodSpec = { containers: Container[]; volumes: { name: string; secret?: { secretName: string } }[] };

const ROOT = join(__dirname, '..', '..', '..');

function rendered(overlay: string): Obj[] {
  const text = readFileSync(join(ROOT, 'deploy', 'rendered', `${overlay}.yaml`), 'utf8');
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** Keys a Secret of that name will hold: a Secret in Git (local) or an ExternalSecret's target (production). */
function secretKeys(objects: Obj[], name: string): string[] {
  const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name) as
    { stringData?: Record<string, string>; data?: Record<string, string> } | undefined;
  if (secret) return Object.keys({ ...secret.data, ...secret.stringData });
  const external = objects.find(
    (o) =>
      o.kind === 'ExternalSecret' &&
      (o as unknown as { spec: { target: { name: string } } }).spec.target.name === name,
  ) as { spec: { data: { secretKey: string }[] } } | undefined;
  return external ? external.spec.data.map((d) => d.secretKey) : [];
}

describe.each(['local', 'production'])('deploy/rendered/%s.yaml: the audit-anchor CronJob', (overlay) => {
  const objects = rendered(overlay);
  const cronJob = objects.find((o) => o.kind === 'CronJob' && o.metadata.name === 'audit-anchor') as
    (Obj & { spec: { jobTemplate: { spec: { template: { spec: PodSpec } } } } }) | undefined;
  const pod = cronJob?.spec.jobTemplate.spec.template.spec as PodSpec;
  const container = pod?.containers[0];

  it('runs tenantctl audit anchor with an environment it accepts in production', () => {
    expect(container.command).toEqual(['node', 'dist/apps/tenantctl/src/main.js', 'audit', 'anchor']);
    const env: Record<string, string> = {};
    for (const { configMapRef } of container.envFrom) {
      const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === configMapRef.name) as
        { data: Record<string, string> } | undefined;
      expect([configMapRef.name, map !== undefined]).toEqual([configMapRef.name, true]);
      Object.assign(env, map?.data);
    }
    for (const entry of container.env) {
      const ref = entry.valueFrom?.secretKeyRef;
      if (ref)
        expect([entry.name, secretKeys(objects, ref.name)]).toEqual([
          entry.name,
          expect.arrayContaining([ref.key]),
        ]);
      env[entry.name] = ref ? `placeholder-${ref.key.toLowerCase()}-value` : (entry.value ?? '');
    }
    env['EVENTSTORE_URL'] = 'postgres://anchor@postgresql:5432/provisioning';
    expect(env['NODE_ENV']).toBe('production');
    expect(anchorConfigSchema(env).safeParse(env).error?.issues ?? []).toEqual([]);
    expect(tenantctlConfigSchema.safeParse(env).error?.issues ?? []).toEqual([]);
    // The check has teeth: without a bucket credential, production refuses to start.
    const { S3_ADMIN_SECRET_KEY: _dropped, ...missing } = env;
    expect(
      anchorConfigSchema(missing)
        .safeParse(missing)
        .error?.issues.map((i) => i.path[0]),
    ).toEqual(['S3_ADMIN_SECRET_KEY']);
  });

  it('mounts the signing key Secret where AUDIT_ANCHOR_PRIVATE_KEY_FILE points, never from Git', () => {
    const config = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === 'audit-anchor-config',
    ) as unknown as {
      data: Record<string, string>;
    };
    const file = config.data['AUDIT_ANCHOR_PRIVATE_KEY_FILE'];
    const volume = pod.volumes.find((v) => v.secret?.secretName === 'audit-anchor-signing-key');
    const mount = container.volumeMounts.find((m) => m.name === volume?.name);
    expect(`${mount?.mountPath}/private.pem`).toBe(file);
    expect(objects.some((o) => o.kind === 'Secret' && o.metadata.name === 'audit-anchor-signing-key')).toBe(
      false,
    );
    if (overlay === 'production')
      expect(secretKeys(objects, 'audit-anchor-signing-key')).toEqual(['private.pem']);
  });
});
