import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { APPS } from '../support/local-stack';

/** The Dockerfile read as the builder reads it: continuation lines joined, comments dropped, stages split. */
const root = join(__dirname, '../..');
const dockerfileText = readFileSync(join(root, 'Dockerfile'), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const image = rest.split(/\s+/)[0].replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
      stages.push({ from: image, instructions: [] });
    } else if (stages.length === 0 && upper === 'ARG') {
      const [name, value = ''] = rest.split('=');
      args[name] = value;
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args: rest });
    }
  }
  return { args, stages };
}

const ignoreText = readFileSync(join(root, '.dockerignore'), 'utf8');

export function dockerfileProblems(text: string, dockerignore = ignoreText): string[] {
  const problems: string[] = [];
  const { stages } = parseDockerfile(text);
  const final = stages.at(-1);
  if (stages.length < 2 || !final) return ['needs a build stage and a runtime stage'];
  const build = stages[0];
  if (!/^node:24(\.\d+){0,2}-/.test(final.from))
    problems.push(`runtime base ${final.from} is not node:24-...`);
  if (build.from !== final.from)
    problems.push(`build base ${build.from} differs from runtime base ${final.from}`);
  const all = (stage: Stage, keyword: string) =>
    stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
  if (!all(build, 'RUN').some((run) => /npm ci\b(?![^&]*--omit=dev)/.test(run))) {
    problems.push('build stage does not install the dev dependencies (npm ci)');
  }
  const runs = all(final, 'RUN');
  const installs = runs.filter((run) => /\bnpm (ci|install|i)\b/.test(run));
  if (
    installs.length === 0 ||
    !installs.every((run) => /npm ci\b[^&]*--omit=dev[^&]*--ignore-scripts/.test(run))
  ) {
    problems.push('runtime stage does not install with npm ci --omit=dev --ignore-scripts');
  }
  if (!all(final, 'COPY').some((copy) => /--from=\S+\s+\S*dist\b/.test(copy))) {
    problems.push('runtime stage does not copy dist from the build stage');
  }
  if (all(final, 'COPY').some((copy) => /node_modules/.test(copy))) {
    problems.push('runtime stage copies node_modules (dev dependencies) instead of installing its own');
  }
  const user = all(final, 'USER').at(-1);
  if (!user || !/^(node|1000)(:\S+)?$/.test(user)) problems.push(`runtime stage runs as ${user ?? 'root'}`);
  const healthcheck = all(final, 'HEALTHCHECK').at(-1) ?? '';
  if (
    !/CMD\s+\[\s*"node"/.test(healthcheck) ||
    !/HEALTH_PORT/.test(healthcheck) ||
    !/\bPORT\b/.test(healthcheck)
  ) {
    problems.push('no HEALTHCHECK asking HEALTH_PORT or PORT with node');
  }
  if (!all(final, 'ARG').some((arg) => /^VERSION\b/.test(arg)))
    problems.push('runtime stage has no ARG VERSION');
  if (
    !all(final, 'LABEL').some((label) =>
      /org\.opencontainers\.image\.version="?\$\{?VERSION\}?"?/.test(label),
    )
  ) {
    problems.push('no org.opencontainers.image.version label from VERSION');
  }
  if (all(final, 'ENTRYPOINT').length > 0) problems.push('an ENTRYPOINT would tie the image to one app');
  const ignored = new Set(dockerignore.split('\n').map((line) => line.trim().replace(/^\/|\/$/g, '')));
  for (const path of ['node_modules', 'dist', 'test-output', '.git', '.env']) {
    if (!ignored.has(path)) problems.push(`.dockerignore does not keep ${path} out`);
  }
  return problems;
}

describe('Dockerfile', () => {
  it('builds one production image for every app: node 24, no install scripts, non-root, healthcheck, version', () => {
    expect(dockerfileProblems(dockerfileText)).toEqual([]);
  });

  it('every compose app and stand-in runs a file the build emits, from this one image', () => {
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    expect(build.include).toEqual(expect.arrayContaining(['apps/**/*.ts', 'scripts/**/*.ts']));
    // The build is plain tsc over these globs: every app is a directory of apps/ with its src/main.ts; tenantctl
    // is the operators' CLI, run from the same image (`node dist/apps/tenantctl/src/main.js`), not a service.
    expect(
      readdirSync(join(root, 'apps'))
        .filter((app) => app !== 'tenantctl')
        .sort(),
    ).toEqual([...APPS].sort());
    for (const app of [...APPS, 'tenantctl'])
      expect(existsSync(join(root, 'apps', app, 'src', 'main.ts'))).toBe(true);
  });

  it('fails when a property is lost', () => {
    const variants: [string, string, string][] = [
      ['--omit=dev --ignore-scripts', '--omit=dev', 'npm ci --omit=dev --ignore-scripts'],
      ['USER node', 'USER root', 'runs as root'],
      ['USER node', '', 'runs as root'],
      ['org.opencontainers.image.version="${VERSION}"', 'x=1', 'org.opencontainers.image.version'],
      ['HEALTHCHECK', '# HEALTHCHECK', 'HEALTHCHECK'],
      [
        'FROM node:${NODE_VERSION}-bookworm-slim\nARG VERSION',
        'FROM node:22-bookworm-slim\nARG VERSION',
        'not node:24',
      ],
    ];
    for (const [from, to, problem] of variants) {
      expect(dockerfileText).toContain(from);
      expect(dockerfileProblems(dockerfileText.replace(from, to)).join('\n')).toContain(problem);
    }
    expect(dockerfileProblems(dockerfileText, 'dist\n.git\n').join('\n')).toContain('node_modules');
  });

  describe('its HEALTHCHECK command', () => {
    let server: Server;
    let status = 200;
    let port = 0;
    beforeAll(async () => {
      server = createServer((req, res) => res.writeHead(req.url === '/health' ? status : 404).end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const run = (env: Record<string, string>): Promise<number | null> => {
      const healthcheck = parseDockerfile(dockerfileText)
        .stages.at(-1)!
        .instructions.find((i) => i.keyword === 'HEALTHCHECK')!.args;
      const [, exec] = /CMD\s+(\[.*\])\s*$/.exec(healthcheck)!;
      const [command, ...args] = JSON.parse(exec) as string[];
      expect(command).toBe('node');
      return new Promise((resolve) => {
        execFile(process.execPath, args, { env: { PATH: process.env.PATH, ...env } }).on('exit', resolve);
      });
    };

    it('passes on a healthy /health of HEALTH_PORT or PORT, fails otherwise', async () => {
      status = 200;
      expect(await run({ HEALTH_PORT: String(port) })).toBe(0);
      expect(await run({ PORT: String(port) })).toBe(0);
      expect(await run({})).toBe(1);
      status = 500;
      expect(await run({ PORT: String(port) })).toBe(1);
      // Four Node processes in a row: more than Jest's default 5 s on a loaded two-core machine.
    }, 30_000);
  });
});
