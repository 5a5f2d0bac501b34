import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serverAdminRoute } from './grafana-stand-in-admin';
import { orgRoute } from './grafana-stand-in-org';
import {
  type GrafanaStandInOptions,
  MAIN_ORG_ID,
  STAND_IN_ADMIN_ID,
  StandInState,
} from './grafana-stand-in-state';

export type { GrafanaStandInOptions } from './grafana-stand-in-state';

/**
 * A local stand-in for Grafana's HTTP API: records requests and models what tenant isolation rests on.
 * Users are global; organisations hold members (with a role each), data sources, folders (with permissions)
 * and dashboards. Org-scoped calls act in the organisation named by `X-Grafana-Org-Id` (the caller's current
 * organisation, 1, without it), and only a member of that organisation may act there.
 *
 * Callers: the bearer `token` and, when given, basic auth as `serverAdmin` (user id 1, Admin of the main
 * organisation and of every organisation it creates, as Grafana makes a creator). With `tokenIsServerAdmin:
 * false` the token behaves as a Grafana OSS service account: it belongs to the main organisation only and is
 * refused on the server admin APIs (`/api/admin/*`, `/api/orgs*`, `/api/users/:id/orgs`).
 *
 * New users follow Grafana's `[users]` settings: with `auto_assign_org` (default) they join the organisation
 * given as `OrgId`, else `auto_assign_org_id` (1), with `auto_assign_org_role` (default Viewer); without it,
 * Grafana creates an organisation for the user, named after it, with the user as its Admin.
 *
 * This class authenticates, records and dispatches; the state and the routes are in the `grafana-stand-in-*`
 * files beside it.
 */
export class GrafanaStandIn extends StandInState {
  readonly requests: {
    method: string;
    path: string;
    authorization?: string;
    orgHeader?: string;
    body?: unknown;
  }[] = [];
  private server?: Server;

  constructor(
    private readonly token: string,
    private readonly options: GrafanaStandInOptions = {},
  ) {
    super();
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private caller(authorization: string | undefined): 'token' | 'server-admin' | undefined {
    if (authorization === `Bearer ${this.token}`) return 'token';
    const admin = this.options.serverAdmin;
    if (admin && authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8');
      if (decoded === `${admin.user}:${admin.password}`) return 'server-admin';
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const orgHeader = req.headers['x-grafana-org-id'] as string | undefined;
    this.requests.push({
      method,
      path: url.pathname + url.search,
      authorization: req.headers.authorization,
      ...(orgHeader !== undefined ? { orgHeader } : {}),
      body,
    });
    const send = (status: number, json: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    if (url.pathname === '/api/health') return send(200, { database: 'ok' });
    const caller = this.caller(req.headers.authorization);
    if (caller === undefined) return send(401, { message: 'Unauthorized' });
    const path = url.pathname;
    const serviceAccount = caller === 'token' && this.options.tokenIsServerAdmin === false;
    if (
      serviceAccount &&
      (path.startsWith('/api/admin/') ||
        path.startsWith('/api/orgs') ||
        /^\/api\/users\/\d+\/orgs$/.test(path))
    ) {
      return send(403, { message: 'Permission denied' });
    }
    const request = { method, path, url, body };
    const admin = serverAdminRoute(this, this.options, request);
    if (admin) return send(...admin);

    // Org-scoped API: the organisation of X-Grafana-Org-Id, of which the caller must be a member.
    const orgId = orgHeader === undefined ? MAIN_ORG_ID : Number(orgHeader);
    const org = this.orgs.get(orgId);
    const member = serviceAccount
      ? orgId === MAIN_ORG_ID
      : caller === 'token' || org?.members.has(STAND_IN_ADMIN_ID);
    if (!org || !member) return send(403, { message: 'You are not a member of the organization' });
    const scoped = orgRoute(this, org, request);
    return scoped ? send(...scoped) : send(404, { message: `no route ${method} ${path}` });
  }
}
