import { randomBytes, randomUUID } from 'node:crypto';
import { generateTenantId } from '@app/contracts';
import { DRIFT_RESOURCES, driftIdOf } from '@app/lifecycle';
import { TenantStreamBuilder } from '@app/tenancy';
import { ENTRY_MODULE } from '../console/browser-modules';
import { TestOidcProvider } from '../testing/oidc-provider.test-helpers';
import { startTestApi, type TestApi } from '../testing/test-api.test-helpers';
import { signWebhook } from './auth';

/**
 * Every route the app registers, read from Express's router once the app is up (so a route added later is
 * covered without touching this spec), must fall under one rule below; each rule is then proven over HTTP.
 */

interface Route {
  method: string;
  path: string;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const API = '/api/v1/';
/** Billing's webhooks: their own credentials (bearer secret, HMAC or Stripe signature), never an API token. */
const WEBHOOKS = '/api/v1/provisioning/webhooks/';

/**
 * The routes anyone may call, each with why: one path, or (`under`) every path below a prefix. Outside
 * production the API documents are open (local development).
 */
const PUBLIC: readonly ({ method: string; reason: string } & ({ path: string } | { under: string }))[] = [
  { method: 'GET', path: '/health', reason: 'liveness probe: the kubelet calls it without credentials' },
  { method: 'GET', path: '/ready', reason: 'readiness probe: the kubelet calls it without credentials' },
  {
    method: 'GET',
    path: '/console',
    reason: 'the console shell: static markup; every datum it shows comes from /api/v1 with a token',
  },
  { method: 'GET', path: '/console/app.css', reason: 'the console stylesheet (static)' },
  { method: 'GET', path: '/console/:module', reason: 'the console browser modules (static code, no data)' },
  {
    method: 'GET',
    path: '/api/docs',
    reason: 'Swagger UI; under NODE_ENV=production docsAuthMiddleware requires a token',
  },
  {
    method: 'GET',
    under: '/api/docs/',
    reason: "Swagger UI's page and scripts; under NODE_ENV=production docsAuthMiddleware requires a token",
  },
  {
    method: 'GET',
    path: '/api/docs-json',
    reason: 'the OpenAPI document; under NODE_ENV=production docsAuthMiddleware requires a token',
  },
  {
    method: 'GET',
    path: '/api/docs-yaml',
    reason: 'the OpenAPI document; under NODE_ENV=production docsAuthMiddleware requires a token',
  },
  {
    method: 'GET',
    path: '/api/asyncapi.json',
    reason: 'the AsyncAPI document; under NODE_ENV=production it requires a token (asyncapi.route.ts)',
  },
];

/** Routes guarded by a credential of their own: METRICS_TOKEN for the Prometheus scraper. */
const OWN_TOKEN: readonly Route[] = [{ method: 'GET', path: '/metrics' }];

type Rule = 'public' | 'own-token' | 'webhook' | 'operator' | 'authenticated';

const key = (route: Route) => `${route.method} ${route.path}`;

function isPublic(entry: (typeof PUBLIC)[number], route: Route): boolean {
  if (entry.method !== route.method) return false;
  return 'path' in entry ? entry.path === route.path : route.path.startsWith(entry.under);
}

function ruleOf(route: Route): Rule | undefined {
  if (PUBLIC.some((entry) => isPublic(entry, route))) return 'public';
  if (OWN_TOKEN.some((entry) => key(entry) === key(route))) return 'own-token';
  if (STATE_CHANGING.has(route.method) && route.path.startsWith(WEBHOOKS)) return 'webhook';
  if (STATE_CHANGING.has(route.method) && route.path.startsWith(API)) return 'operator';
  if (route.method === 'GET' && route.path.startsWith(API)) return 'authenticated';
  return undefined;
}

interface ExpressLayer {
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
}

/** Every method and path of Express's router: Nest's controllers and what the app mounted itself. */
function registeredRoutes(api: TestApi): Route[] {
  const express = api.app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } };
  const routes: Route[] = [];
  for (const layer of express.router.stack) {
    if (!layer.route) continue;
    const { path, methods } = layer.route;
    if (typeof path !== 'string') throw new Error(`a route with a non-string path: ${String(path)}`);
    for (const [method, on] of Object.entries(methods)) {
      if (on) routes.push({ method: method === '_all' ? 'ALL' : method.toUpperCase(), path });
    }
  }
  return routes;
}

let api: TestApi;
const oidc = new TestOidcProvider();
/** Active, so an unguarded cancel, purge, drift check or reprovision would find something to append to. */
const tenant = new TenantStreamBuilder(
  generateTenantId('Route Auth', randomBytes(3).toString('hex')),
  '2025-01-15T10:00:00Z',
).activeTenant();

/**
 * A syntactically valid value per route parameter, by the path segment it follows: the request reaches the
 * guard with an id its handler would accept. A route with a parameter not listed fails the spec by name.
 */
const PARAMS: Record<string, () => string> = {
  'tenants/:id': () => tenant.tenantId,
  'drift/:driftId': () => driftIdOf(1, DRIFT_RESOURCES[0].resource),
  'rollouts/:id': () => randomUUID(),
  'reconciliations/:id': () => randomUUID(),
  'actions/:actionId': () => randomUUID(),
  'console/:module': () => ENTRY_MODULE,
};

function concretePath(route: Route): string {
  return route.path.replace(/([^/]+)\/:([A-Za-z0-9_]+)/g, (match: string) => {
    const value = PARAMS[match];
    if (!value) throw new Error(`${key(route)}: no sample value for ${match}; add one to PARAMS`);
    return `${match.slice(0, match.indexOf('/'))}/${encodeURIComponent(value())}`;
  });
}

interface Attempt {
  label: string;
  headers: Record<string, string>;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function send(route: Route, headers: Record<string, string>, body: object): Promise<number> {
  const path = concretePath(route);
  const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  const call = api.http[method](path).set(headers);
  return (route.method === 'GET' ? await call : await call.send(body)).status;
}

/**
 * Sends each attempt to each route; returns what went wrong, one line per route and attempt, naming both,
 * and per route any event appended meanwhile.
 */
async function prove(
  routes: readonly Route[],
  attempts: readonly (Attempt & { expected: number })[],
  body: object,
): Promise<string[]> {
  const failures: string[] = [];
  for (const route of routes) {
    const before = await api.eventCount();
    for (const { label, headers, expected } of attempts) {
      const status = await send(route, headers, body);
      if (status !== expected)
        failures.push(`${key(route)} ${label}: answered ${status}, expected ${expected}`);
    }
    const appended = (await api.eventCount()) - before;
    if (appended !== 0) failures.push(`${key(route)}: ${appended} event(s) appended by refused requests`);
  }
  return failures;
}

let routes: Route[];
const ofRule = (rule: Rule) => routes.filter((route) => ruleOf(route) === rule);
/** Credentials that name nobody: none, a token no one holds, an OIDC access token granting no role. */
let anonymous: Attempt[];

beforeAll(async () => {
  const issuer = await oidc.start();
  api = await startTestApi({
    schemaPrefix: 'ra',
    env: {
      OIDC_ISSUER: issuer,
      OIDC_AUDIENCE: 'provisioning-api',
      METRICS_TOKEN: `mt_${randomBytes(16).toString('hex')}`,
    },
    seed: (store) => tenant.appendTo(store),
  });
  routes = registeredRoutes(api);
  anonymous = [
    { label: 'without credentials', headers: {} },
    { label: 'with an unknown token', headers: bearer(`op_${randomBytes(12).toString('hex')}`) },
    {
      label: 'with an OIDC token granting no role',
      headers: bearer(await oidc.token({ roles: ['someone-else'], preferred_username: 'mallory' })),
    },
  ];
});

afterAll(async () => {
  await api?.close();
  await oidc.stop();
});

describe('authentication and authorization of every route', () => {
  it('finds the routes Nest and the app registered, and a rule for each', () => {
    // Anchors: an enumeration that missed Nest's routes or the app's own would otherwise pass vacuously.
    expect(routes.map(key)).toEqual(
      expect.arrayContaining([
        'POST /api/v1/tenants/:id/cancel',
        'POST /api/v1/provisioning/webhooks/subscription-created',
        'GET /api/v1/tenants',
        'GET /api/asyncapi.json',
      ]),
    );
    const uncovered = routes.filter((route) => ruleOf(route) === undefined).map(key);
    expect({ 'routes under no rule (add one to route-auth.int-spec.ts)': uncovered }).toEqual({
      'routes under no rule (add one to route-auth.int-spec.ts)': [],
    });
    const stale = [
      ...PUBLIC.filter((entry) => !routes.some((route) => isPublic(entry, route))).map(
        (entry) => `${entry.method} ${'path' in entry ? entry.path : entry.under + '*'}`,
      ),
      ...OWN_TOKEN.map(key).filter((entry) => !routes.map(key).includes(entry)),
    ];
    expect({ 'listed routes the app no longer registers': stale }).toEqual({
      'listed routes the app no longer registers': [],
    });
  });

  it('state-changing routes answer 401 without a valid token and 403 to auditors; nothing is appended', async () => {
    const operatorRoutes = ofRule('operator');
    expect(operatorRoutes.length).toBeGreaterThan(5);
    const oidcAuditor = await oidc.token({ roles: ['provisioning-auditor'], preferred_username: 'arthur' });
    const attempts = [
      ...anonymous.map((attempt) => ({ ...attempt, expected: 401 })),
      { label: 'as a static auditor token', headers: bearer(api.secrets.auditor), expected: 403 },
      { label: 'as an OIDC auditor', headers: bearer(oidcAuditor), expected: 403 },
    ];
    const before = await api.eventCount();
    // The count reads the app's store: the seeded tenant is there.
    expect(before).toBe(tenant.events.length);
    const failures = await prove(operatorRoutes, attempts, { reason: 'route authorization check' });
    expect(failures).toEqual([]);
    expect(await api.eventCount()).toBe(before);
  });

  it("webhooks answer 401 without billing's credentials, an API token included; nothing is appended", async () => {
    const webhookRoutes = ofRule('webhook');
    expect(webhookRoutes.length).toBeGreaterThan(1);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const body = { event: 'subscription.created', timestamp: '2025-01-15T10:00:00Z', data: {} };
    const forged = signWebhook(`whsig_${randomBytes(16).toString('hex')}`, timestamp, JSON.stringify(body));
    const attempts = [
      ...anonymous,
      { label: "with an operator's API token", headers: bearer(api.secrets.operator) },
      {
        label: 'with a signature made with another secret',
        headers: { 'X-Signature-Timestamp': timestamp, 'X-Signature': forged },
      },
      {
        label: 'with a forged Stripe-Signature',
        headers: { 'Stripe-Signature': `t=${timestamp},v1=${forged}` },
      },
    ].map((attempt) => ({ ...attempt, expected: 401 }));
    const before = await api.eventCount();
    expect(await prove(webhookRoutes, attempts, body)).toEqual([]);
    expect(await api.eventCount()).toBe(before);
  });

  it('public routes answer without credentials (neither 401 nor 403)', async () => {
    const failures: string[] = [];
    for (const route of ofRule('public')) {
      const status = await send(route, {}, {});
      if (status === 401 || status === 403)
        failures.push(`${key(route)} is listed as public but answered ${status}`);
    }
    expect(failures).toEqual([]);
  });

  it('reads under /api/v1 and /metrics answer 401 without a valid token', async () => {
    const reads = [...ofRule('authenticated'), ...ofRule('own-token')];
    expect(reads.length).toBeGreaterThan(5);
    const attempts = anonymous.map((attempt) => ({ ...attempt, expected: 401 }));
    expect(await prove(reads, attempts, {})).toEqual([]);
  });
});
