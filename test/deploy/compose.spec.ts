import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { appConfigs } from '../support/app-config';
import { APPS } from '../support/local-stack';

/**
 * docker-compose.yml as `docker compose up` reads it, without a Docker engine: YAML with merge keys, `${...}`
 * interpolated the way compose does from the values of `.env.example`, then checked against the apps' own
 * configuration schemas.
 */
const root = join(__dirname, '../..');

/** KEY=VALUE lines of an env file (compose's `.env` form), comments and blank lines skipped. */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) vars[match[1]] = match[2].trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return vars;
}

/**
 * Compose's interpolation: `$$` is a literal `$`; `${VAR}`, `$VAR`; `${VAR:-default}` (unset or empty),
 * `${VAR-default}` (unset); `${VAR:?error}` (unset or empty), `${VAR?error}` (unset) fail with the message;
 * defaults may themselves hold `${...}`.
 */
export function interpolate(text: string, vars: Record<string, string | undefined>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char !== '$') {
      out += char;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== '{') {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))?.[0];
      if (!name) throw new Error(`invalid interpolation at "${text.slice(i, i + 20)}"`);
      out += vars[name] ?? '';
      i += 1 + name.length;
      continue;
    }
    let depth = 1;
    let end = i + 2;
    for (; end < text.length && depth > 0; end++) {
      if (text[end] === '{') depth++;
      else if (text[end] === '}') depth--;
    }
    if (depth !== 0) throw new Error(`unclosed \${ in "${text}"`);
    const body = text.slice(i + 2, end - 1);
    const form = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([\s\S]*))?$/.exec(body);
    if (!form) throw new Error(`invalid interpolation \${${body}}`);
    const [, name, operator, argument = ''] = form;
    const value = vars[name];
    const unset = operator?.startsWith(':') ? value === undefined || value === '' : value === undefined;
    if (operator?.endsWith('-')) out += unset ? interpolate(argument, vars) : value;
    else if (operator?.endsWith('?')) {
      if (unset) throw new Error(`required variable ${name} is missing a value: ${argument}`);
      out += value;
    } else out += value ?? '';
    i = end;
  }
  return out;
}

function interpolateAll(node: unknown, vars: Record<string, string | undefined>): unknown {
  if (typeof node === 'string') return interpolate(node, vars);
  if (Array.isArray(node)) return node.map((item) => interpolateAll(item, vars));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, vars)]));
  }
  return node;
}

interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}
interface Service {
  image?: string;
  command?: string[];
  profiles?: string[];
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition?: string; required?: boolean }> | string[];
}
interface Compose {
  services: Record<string, Service>;
}

export function loadCompose(vars: Record<string, string | undefined>, text = composeText): Compose {
  return interpolateAll(parse(text, { merge: true }), vars) as Compose;
}

/** `repository[:tag]`: pinned when it names a version (digits), never `latest` or another moving tag. */
export function imageProblem(image: string | undefined): string | undefined {
  if (!image) return 'no image';
  const tag = /:([^:/@]+)$/.exec(image)?.[1];
  if (image.includes('@sha256:')) return undefined;
  if (!tag) return `image ${image} has no tag`;
  if (/^(latest|stable|lts|edge|main|master|nightly)$/i.test(tag) || !/\d/.test(tag)) {
    return `image ${image} is not pinned to a version`;
  }
  return undefined;
}

/** Variables that name something other than where the app connects (written into Git for Argo CD). */
const NOT_A_CONNECTION = new Set(['ARGOCD_REPO_URL']);

/** The hosts an app's environment points at: every URL, `host:port` value and `*_HOST` variable. */
export function pointedHosts(env: Record<string, string>): { variable: string; host: string }[] {
  const hosts: { variable: string; host: string }[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (NOT_A_CONNECTION.has(variable) || value === '') continue;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      hosts.push({ variable, host: new URL(value).hostname });
    } else if (/^[a-z0-9.-]+:\d+$/i.test(value) || /_HOST$/.test(variable)) {
      hosts.push({ variable, host: value.replace(/:\d+$/, '') });
    }
  }
  return hosts;
}

function environment(service: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]),
  );
}

function dependencies(service: Service): Record<string, { condition?: string; required?: boolean }> {
  const deps = service.depends_on ?? {};
  return Array.isArray(deps) ? Object.fromEntries(deps.map((d) => [d, {}])) : deps;
}

const configs = appConfigs('production');

/** Every problem of a resolved compose file, as sentences naming the service and the variable. */
export function composeProblems(compose: Compose, options: { profiles?: string[] } = {}): string[] {
  const problems: string[] = [];
  const active = (name: string) => {
    const profiles = compose.services[name]?.profiles ?? [];
    return profiles.length === 0 || profiles.some((p) => options.profiles?.includes(p));
  };
  for (const [name, service] of Object.entries(compose.services)) {
    const image = imageProblem(service.image);
    if (image) problems.push(`${name}: ${image}`);
    const test = service.healthcheck?.test;
    if (!test || service.healthcheck?.disable || (Array.isArray(test) && test[0] === 'NONE')) {
      problems.push(`${name}: no healthcheck`);
    }
    for (const [target, dep] of Object.entries(dependencies(service))) {
      const depended = compose.services[target];
      if (!depended) {
        problems.push(`${name}: depends on ${target}, which is not a service`);
        continue;
      }
      if (dep.condition === 'service_healthy' && !depended.healthcheck?.test) {
        problems.push(`${name}: waits for ${target} to be healthy, which has no healthcheck`);
      }
      if (!active(target) && dep.required !== false) {
        problems.push(`${name}: depends on ${target}, off by default (profile), without required: false`);
      }
    }
  }
  for (const app of APPS) {
    const service = compose.services[app];
    if (!service) {
      problems.push(`${app}: no such service`);
      continue;
    }
    const env = environment(service);
    const config = configs[app];
    for (const problem of config.validate(env)) problems.push(`${app}: ${problem}`);
    const known = config.knownVariables();
    for (const variable of Object.keys(env)) {
      if (!known.has(variable)) problems.push(`${app}: sets ${variable}, which the app does not read`);
    }
    const port = app === 'provisioning-api' ? env.PORT : env.HEALTH_PORT;
    if (!port) problems.push(`${app}: no ${app === 'provisioning-api' ? 'PORT' : 'HEALTH_PORT'}`);
    const test = JSON.stringify(service.healthcheck?.test ?? '');
    if (!test.includes('node') || !test.includes(app === 'provisioning-api' ? 'PORT' : 'HEALTH_PORT')) {
      problems.push(`${app}: healthcheck does not ask the app's own /health port with node`);
    }
    if (!/^postgres(ql)?:\/\//.test(env.EVENTSTORE_URL ?? '') && !options.profiles?.includes('eventstore')) {
      problems.push(`${app}: EVENTSTORE_URL is not PostgreSQL by default`);
    }
    if (JSON.stringify(service.command) !== JSON.stringify(['node', `dist/apps/${app}/src/main.js`])) {
      problems.push(`${app}: command is not node dist/apps/${app}/src/main.js`);
    }
    const deps = dependencies(service);
    for (const { variable, host } of pointedHosts(env)) {
      if (host === app) continue;
      if (!compose.services[host]) {
        problems.push(`${app}: ${variable} points at ${host}, which is not a compose service`);
      } else if (!active(host)) {
        problems.push(`${app}: ${variable} points at ${host}, which does not run without its profile`);
      } else if (deps[host]?.condition !== 'service_healthy') {
        problems.push(`${app}: ${variable} points at ${host} without waiting for it to be healthy`);
      }
    }
  }
  return problems;
}

const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const example = parseEnvFile(readFileSync(join(root, '.env.example'), 'utf8'));
const clone = <T>(value: T): T => structuredClone(value);

describe('docker-compose.yml, resolved with .env.example', () => {
  const compose = loadCompose(example);

  it('starts every app with a configuration it accepts under NODE_ENV=production', () => {
    expect(composeProblems(compose)).toEqual([]);
  });

  it('points the k8s-service and the monitoring-service at one GitOps remote, served by a compose service', () => {
    const k8s = environment(compose.services['k8s-service']);
    const monitoring = environment(compose.services['monitoring-service']);
    expect(k8s.GITOPS_REMOTE).toBeDefined();
    expect(monitoring.GITOPS_REMOTE).toBe(k8s.GITOPS_REMOTE);
    expect(k8s.K8S_DELIVERY).toBe('gitops');
    expect(monitoring.MONITORING_DELIVERY).toBe('gitops');
  });

  it('gives the stand-ins the ports and token the apps call them with', () => {
    const standins = environment(compose.services['compose-standins']);
    const notification = environment(compose.services['notification-service']);
    const k8s = environment(compose.services['k8s-service']);
    expect(new URL(notification.WEBSITES_API_URL).port).toBe(standins.WEBSITES_PORT);
    expect(notification.WEBSITES_API_TOKEN).toBe(standins.WEBSITES_API_TOKEN);
    expect(new URL(k8s.TENANT_HEALTH_BASE_URL).port).toBe(standins.TENANT_HEALTH_PORT);
    expect(compose.services['compose-standins'].command).toEqual([
      'node',
      'dist/scripts/compose-standins.js',
    ]);
  });

  it('logs the monitoring-service into Grafana as the server admin Grafana is created with', () => {
    const grafana = environment(compose.services.grafana);
    const monitoring = environment(compose.services['monitoring-service']);
    expect(monitoring.GRAFANA_ADMIN_USER).toBe(grafana.GF_SECURITY_ADMIN_USER);
    expect(monitoring.GRAFANA_ADMIN_PASSWORD).toBe(grafana.GF_SECURITY_ADMIN_PASSWORD);
    expect(monitoring.GRAFANA_ADMIN_TOKEN).toBeUndefined();
  });

  it('runs EventStoreDB only under its profile, and the documented override reaches it', () => {
    expect(compose.services.eventstore.profiles).toEqual(['eventstore']);
    const esdb = loadCompose({ ...example, EVENTSTORE_URL: 'esdb://eventstore:2113?tls=false' });
    expect(environment(esdb.services.orchestrator).EVENTSTORE_URL).toBe('esdb://eventstore:2113?tls=false');
    expect(composeProblems(esdb, { profiles: ['eventstore'] })).toEqual([]);
    // The same override without the profile points the apps at a service that is not running.
    expect(composeProblems(esdb)).toContain(
      'orchestrator: EVENTSTORE_URL points at eventstore, which does not run without its profile',
    );
  });

  it('requires every secret from the environment: without one, compose refuses to start', () => {
    for (const secret of [
      'WEBHOOK_SIGNING_SECRET',
      'GRAFANA_ADMIN_PASSWORD',
      'SECRET_STORE_KEY',
      'POSTGRES_PASSWORD',
    ]) {
      const { [secret]: _removed, ...rest } = example;
      expect(() => loadCompose(rest)).toThrow(`required variable ${secret} is missing a value`);
    }
  });
});

describe('the compose checks fail on a broken file', () => {
  const compose = loadCompose(example);

  it('a required variable removed', () => {
    const broken = clone(compose);
    delete broken.services['monitoring-service'].environment!.GRAFANA_ADMIN_PASSWORD;
    expect(composeProblems(broken).join('\n')).toMatch(/monitoring-service: .*GRAFANA_ADMIN_PASSWORD/);
    const api = clone(compose);
    delete api.services['provisioning-api'].environment!.WEBHOOK_SIGNING_SECRET;
    expect(composeProblems(api).join('\n')).toContain(
      'provisioning-api: invalid configuration: WEBHOOK_SIGNING_SECRET',
    );
  });

  it('a variable the app does not read', () => {
    const broken = clone(compose);
    broken.services['broker-service'].environment!.GRAFANA_URL = 'http://grafana:3000';
    expect(composeProblems(broken)).toContain(
      'broker-service: sets GRAFANA_URL, which the app does not read',
    );
  });

  it('an unpinned or untagged image', () => {
    expect(imageProblem('minio/minio:latest')).toContain('not pinned');
    expect(imageProblem('axllent/mailpit')).toContain('no tag');
    expect(imageProblem('localhost:5000/x')).toContain('no tag');
    expect(imageProblem('rabbitmq:management')).toContain('not pinned');
    expect(imageProblem('grafana/grafana:11.5.1')).toBeUndefined();
    const broken = clone(compose);
    broken.services.minio.image = 'minio/minio:latest';
    expect(composeProblems(broken)).toContain('minio: image minio/minio:latest is not pinned to a version');
  });

  it('a host that is no service, or one the app does not wait for', () => {
    const broken = clone(compose);
    broken.services['notification-service'].environment!.SMTP_URL = 'smtp://mailhog:1025';
    broken.services['k8s-service'].environment!.TENANT_HEALTH_BASE_URL = 'http://grafana:3000';
    expect(composeProblems(broken).sort()).toEqual([
      'k8s-service: TENANT_HEALTH_BASE_URL points at grafana without waiting for it to be healthy',
      'notification-service: SMTP_URL points at mailhog, which is not a compose service',
    ]);
  });

  it('a missing healthcheck, health port or dependency', () => {
    const broken = clone(compose);
    delete broken.services.orchestrator.healthcheck;
    delete broken.services['storage-service'].environment!.HEALTH_PORT;
    delete broken.services.grafana.healthcheck;
    (broken.services['database-service'].depends_on as Record<string, object>).redis = {};
    const problems = composeProblems(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        'orchestrator: no healthcheck',
        'storage-service: no HEALTH_PORT',
        'grafana: no healthcheck',
        'monitoring-service: waits for grafana to be healthy, which has no healthcheck',
        'database-service: depends on redis, which is not a service',
      ]),
    );
  });

  it('EventStoreDB as the default event store', () => {
    const broken = clone(compose);
    broken.services.orchestrator.environment!.EVENTSTORE_URL = 'esdb://eventstore:2113?tls=false';
    expect(composeProblems(broken)).toContain('orchestrator: EVENTSTORE_URL is not PostgreSQL by default');
  });
});

describe('compose interpolation', () => {
  it('follows compose for defaults, required values, nesting and $$', () => {
    const vars = { SET: 'v', EMPTY: '' };
    expect(interpolate('${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} $SET $$HOME', vars)).toBe(
      'v d  d v $HOME',
    );
    expect(interpolate('${UNSET:-a${SET}b}', vars)).toBe('avb');
    expect(interpolate('${EMPTY?x}', vars)).toBe('');
    expect(() => interpolate('${EMPTY:?set EMPTY}', vars)).toThrow('EMPTY is missing a value: set EMPTY');
    expect(() => interpolate('${UNSET?no}', vars)).toThrow('UNSET');
  });
});

describe('the app healthcheck command', () => {
  let server: Server;
  let status = 200;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => res.writeHead(req.url === '/health' ? status : 404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // Runs the compose file's own command with this Node (the image's major version) against a local /health.
  const exitCode = (env: Record<string, string>): Promise<number | null> => {
    const test = loadCompose(example).services.orchestrator.healthcheck!.test as string[];
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    return new Promise((resolve) => {
      const child = execFile(process.execPath, test.slice(2), { env: { PATH: process.env.PATH, ...env } });
      child.on('exit', (code) => resolve(code));
    });
  };

  it('passes on a healthy /health and fails otherwise', async () => {
    status = 200;
    expect(await exitCode({ HEALTH_PORT: String(port) })).toBe(0);
    expect(await exitCode({ PORT: String(port) })).toBe(0);
    status = 503;
    expect(await exitCode({ HEALTH_PORT: String(port) })).toBe(1);
    // Three Node processes in a row: more than Jest's default 5 s on a loaded two-core machine.
  }, 30_000);
});
