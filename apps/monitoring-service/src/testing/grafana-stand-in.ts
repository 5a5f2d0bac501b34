import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

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
 */
export interface GrafanaStandInOptions {
  serverAdmin?: { user: string; password: string };
  /** Default true (the token may call everything), so tests about other behaviour need no admin user. */
  tokenIsServerAdmin?: boolean;
  autoAssignOrg?: boolean;
  autoAssignOrgRole?: 'Viewer' | 'Editor' | 'Admin';
}

export interface StandInUser {
  id: number;
  login: string;
  email: string;
  name: string;
  password: string;
  /** The user's current organisation. */
  orgId: number;
}
export interface StandInDataSource {
  id: number;
  uid: string;
  name: string;
  type: string;
  access: string;
  url: string;
  isDefault: boolean;
  jsonData: Record<string, unknown>;
  secureJsonData: Record<string, string>;
}
export interface StandInFolder {
  orgId: number;
  uid: string;
  title: string;
  permissions: { userId: number; permission: number }[];
}
export interface StandInDashboard {
  orgId: number;
  uid: string;
  folderUid: string;
  title: string;
  panels: unknown[];
}
export interface StandInOrg {
  id: number;
  name: string;
  /** userId → role. */
  members: Map<number, string>;
  dataSources: Map<string, StandInDataSource>;
  folders: Map<string, StandInFolder>;
  dashboards: Map<string, StandInDashboard>;
}

/** The server admin's user id (Grafana's first user). */
export const STAND_IN_ADMIN_ID = 1;
const MAIN_ORG_ID = 1;

export class GrafanaStandIn {
  readonly requests: {
    method: string;
    path: string;
    authorization?: string;
    orgHeader?: string;
    body?: unknown;
  }[] = [];
  readonly users = new Map<number, StandInUser>();
  readonly orgs = new Map<number, StandInOrg>();
  private nextId = STAND_IN_ADMIN_ID + 1;
  private nextOrgId = MAIN_ORG_ID + 1;
  private nextDataSourceId = 1;
  private server?: Server;

  constructor(
    private readonly token: string,
    private readonly options: GrafanaStandInOptions = {},
  ) {
    this.orgs.set(MAIN_ORG_ID, this.newOrg(MAIN_ORG_ID, 'Main Org.'));
    this.orgs.get(MAIN_ORG_ID)!.members.set(STAND_IN_ADMIN_ID, 'Admin');
  }

  /** Every folder of every organisation by uid (tenant folder uids are unique across organisations). */
  get folders(): Map<string, StandInFolder> {
    return new Map([...this.orgs.values()].flatMap((org) => [...org.folders]));
  }
  /** Every dashboard of every organisation by uid. */
  get dashboards(): Map<string, StandInDashboard> {
    return new Map([...this.orgs.values()].flatMap((org) => [...org.dashboards]));
  }
  orgByName(name: string): StandInOrg | undefined {
    return [...this.orgs.values()].find((org) => org.name === name);
  }
  /** The organisations a user belongs to, with its role in each. */
  membershipsOf(userId: number): { orgId: number; name: string; role: string }[] {
    return [...this.orgs.values()]
      .filter((org) => org.members.has(userId))
      .map((org) => ({ orgId: org.id, name: org.name, role: org.members.get(userId)! }));
  }

  private newOrg(id: number, name: string): StandInOrg {
    return {
      id,
      name,
      members: new Map(),
      dataSources: new Map(),
      folders: new Map(),
      dashboards: new Map(),
    };
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

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Grafana moves a user whose current organisation it leaves to another of its organisations. */
  private leave(org: StandInOrg, userId: number) {
    org.members.delete(userId);
    const user = this.users.get(userId);
    if (user && user.orgId === org.id) user.orgId = this.membershipsOf(userId)[0]?.orgId ?? 0;
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
    let m: RegExpExecArray | null;

    // Server admin: users.
    if (method === 'GET' && path === '/api/users/lookup') {
      const key = url.searchParams.get('loginOrEmail');
      const user = [...this.users.values()].find((u) => u.login === key || u.email === key);
      return user ? send(200, user) : send(404, { message: 'user not found' });
    }
    if (method === 'POST' && path === '/api/admin/users') {
      const { login, name, password } = body as { login: string; name: string; password: string };
      // Grafana stores the login as the e-mail of a user created without one.
      const email = typeof body?.email === 'string' && body.email !== '' ? body.email : login;
      if ([...this.users.values()].some((u) => u.login === login || u.email === email)) {
        return send(412, { message: 'user already exists' });
      }
      let org: StandInOrg;
      let role: string;
      if (this.options.autoAssignOrg === false) {
        org = this.newOrg(this.nextOrgId++, email);
        this.orgs.set(org.id, org);
        role = 'Admin';
      } else {
        const orgId = typeof body?.OrgId === 'number' && body.OrgId !== 0 ? body.OrgId : MAIN_ORG_ID;
        const found = this.orgs.get(orgId);
        if (!found) return send(400, { message: 'Organization not found' });
        org = found;
        role = this.options.autoAssignOrgRole ?? 'Viewer';
      }
      const id = this.nextId++;
      this.users.set(id, { id, login, email, name, password, orgId: org.id });
      org.members.set(id, role);
      return send(200, { id, message: 'User created' });
    }
    if (method === 'PUT' && (m = /^\/api\/admin\/users\/(\d+)\/password$/.exec(path))) {
      const user = this.users.get(Number(m[1]));
      if (!user) return send(404, { message: 'user not found' });
      if (typeof body?.password !== 'string' || body.password.length < 4) {
        return send(400, { message: 'New password is too short' });
      }
      user.password = body.password;
      return send(200, { message: 'User password updated' });
    }
    if (method === 'DELETE' && (m = /^\/api\/admin\/users\/(\d+)$/.exec(path))) {
      const id = Number(m[1]);
      if (!this.users.delete(id)) return send(404, { message: 'user not found' });
      for (const org of this.orgs.values()) org.members.delete(id);
      return send(200, { message: 'User deleted' });
    }
    if (method === 'GET' && (m = /^\/api\/users\/(\d+)\/orgs$/.exec(path))) {
      const id = Number(m[1]);
      if (!this.users.has(id)) return send(404, { message: 'user not found' });
      return send(200, this.membershipsOf(id));
    }

    // Server admin: organisations.
    if (method === 'GET' && (m = /^\/api\/orgs\/name\/([^/]+)$/.exec(path))) {
      const org = this.orgByName(decodeURIComponent(m[1]));
      return org
        ? send(200, { id: org.id, name: org.name })
        : send(404, { message: 'Organization not found' });
    }
    if (method === 'POST' && path === '/api/orgs') {
      const name = String(body?.name ?? '');
      if (name === '') return send(400, { message: 'name is required' });
      if (this.orgByName(name)) return send(409, { message: 'Organization name taken' });
      const org = this.newOrg(this.nextOrgId++, name);
      this.orgs.set(org.id, org);
      org.members.set(STAND_IN_ADMIN_ID, 'Admin');
      return send(200, { orgId: org.id, message: 'Organization created' });
    }
    if ((m = /^\/api\/orgs\/(\d+)$/.exec(path)) && method === 'DELETE') {
      const org = this.orgs.get(Number(m[1]));
      if (!org) return send(404, { message: 'Failed to delete organization. ID not found' });
      if (org.id === MAIN_ORG_ID) return send(400, { message: 'Can not delete org for current user' });
      this.orgs.delete(org.id);
      for (const userId of [...org.members.keys()]) this.leave(org, userId);
      return send(200, { message: 'Organization deleted' });
    }
    if ((m = /^\/api\/orgs\/(\d+)\/users$/.exec(path))) {
      const org = this.orgs.get(Number(m[1]));
      if (!org) return send(404, { message: 'Organization not found' });
      if (method === 'GET') {
        return send(
          200,
          [...org.members].map(([userId, role]) => ({ orgId: org.id, userId, role })),
        );
      }
      if (method === 'POST') {
        const key = body?.loginOrEmail;
        const user = [...this.users.values()].find((u) => u.login === key || u.email === key);
        if (!user) return send(404, { message: 'User not found' });
        if (org.members.has(user.id)) {
          return send(409, { message: 'User is already member of this organization' });
        }
        org.members.set(user.id, String(body?.role));
        return send(200, { message: 'User added to organization', userId: user.id });
      }
    }
    if ((m = /^\/api\/orgs\/(\d+)\/users\/(\d+)$/.exec(path))) {
      const org = this.orgs.get(Number(m[1]));
      const userId = Number(m[2]);
      if (!org || !org.members.has(userId)) return send(404, { message: 'user not found' });
      if (method === 'PATCH') {
        org.members.set(userId, String(body?.role));
        return send(200, { message: 'Organization user updated' });
      }
      if (method === 'DELETE') {
        const admins = [...org.members].filter(([, role]) => role === 'Admin');
        if (admins.length === 1 && admins[0][0] === userId) {
          return send(400, { message: 'Cannot remove last organization admin' });
        }
        this.leave(org, userId);
        // The admin API deletes a user left in no organisation.
        if (this.membershipsOf(userId).length === 0) this.users.delete(userId);
        return send(200, { message: 'User removed from organization' });
      }
    }

    // Org-scoped API: the organisation of X-Grafana-Org-Id, of which the caller must be a member.
    const orgId = orgHeader === undefined ? MAIN_ORG_ID : Number(orgHeader);
    const org = this.orgs.get(orgId);
    const member = serviceAccount
      ? orgId === MAIN_ORG_ID
      : caller === 'token' || org?.members.has(STAND_IN_ADMIN_ID);
    if (!org || !member) return send(403, { message: 'You are not a member of the organization' });

    if ((m = /^\/api\/datasources\/uid\/([^/]+)$/.exec(path))) {
      const uid = decodeURIComponent(m[1]);
      const existing = org.dataSources.get(uid);
      if (method === 'GET') {
        if (!existing) return send(404, { message: 'Data source not found' });
        // Grafana never answers with secure values, only which ones are set.
        const { secureJsonData, ...shown } = existing;
        const secureJsonFields = Object.fromEntries(Object.keys(secureJsonData).map((key) => [key, true]));
        return send(200, { ...shown, secureJsonFields });
      }
      if (method === 'DELETE') {
        if (!existing) return send(404, { message: 'Data source not found' });
        org.dataSources.delete(uid);
        return send(200, { message: 'Data source deleted' });
      }
      if (method === 'PUT') {
        if (!existing) return send(404, { message: 'Data source not found' });
        const updated = { ...this.dataSourceFrom(body), id: existing.id, uid };
        org.dataSources.set(uid, updated);
        return send(200, {
          datasource: updated,
          id: updated.id,
          message: 'Datasource updated',
          name: updated.name,
        });
      }
    }
    if (method === 'POST' && path === '/api/datasources') {
      const ds = { ...this.dataSourceFrom(body), id: this.nextDataSourceId++ };
      if ([...org.dataSources.values()].some((d) => d.name === ds.name || d.uid === ds.uid)) {
        return send(409, { message: 'data source with the same name already exists' });
      }
      org.dataSources.set(ds.uid, ds);
      return send(200, { datasource: ds, id: ds.id, message: 'Datasource added', name: ds.name });
    }
    if ((m = /^\/api\/folders\/([^/]+)\/permissions$/.exec(path)) && method === 'POST') {
      const folder = org.folders.get(decodeURIComponent(m[1]));
      if (!folder) return send(404, { message: 'folder not found' });
      folder.permissions = (body?.items as { userId: number; permission: number }[]) ?? [];
      return send(200, { message: 'Folder permissions updated' });
    }
    if ((m = /^\/api\/folders\/([^/]+)$/.exec(path))) {
      const uid = decodeURIComponent(m[1]);
      if (method === 'GET')
        return org.folders.has(uid)
          ? send(200, org.folders.get(uid))
          : send(404, { message: 'folder not found' });
      if (method === 'DELETE') {
        if (!org.folders.delete(uid)) return send(404, { message: 'folder not found' });
        for (const [key, d] of org.dashboards) if (d.folderUid === uid) org.dashboards.delete(key);
        return send(200, { message: 'Folder deleted' });
      }
    }
    if (method === 'POST' && path === '/api/folders') {
      const { uid, title } = body as { uid: string; title: string };
      if (org.folders.has(uid)) return send(409, { message: 'a folder with the same uid already exists' });
      // New folders start with Grafana's defaults: Editor and Viewer roles can see them.
      org.folders.set(uid, { orgId, uid, title, permissions: [{ userId: -1, permission: 1 }] });
      return send(200, { uid, title });
    }
    if (method === 'POST' && path === '/api/dashboards/db') {
      const { dashboard, folderUid } = body as {
        dashboard: { uid: string; title: string; panels: unknown[] };
        folderUid: string;
      };
      if (!org.folders.has(folderUid)) return send(400, { message: 'folder not found' });
      org.dashboards.set(dashboard.uid, {
        orgId,
        uid: dashboard.uid,
        folderUid,
        title: dashboard.title,
        panels: dashboard.panels,
      });
      return send(200, { status: 'success', uid: dashboard.uid });
    }
    if (method === 'DELETE' && (m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path))) {
      return org.dashboards.delete(decodeURIComponent(m[1]))
        ? send(200, { title: 'deleted' })
        : send(404, { message: 'Dashboard not found' });
    }
    return send(404, { message: `no route ${method} ${path}` });
  }

  private dataSourceFrom(body: Record<string, unknown> | undefined): Omit<StandInDataSource, 'id'> {
    return {
      uid: String(body?.uid ?? ''),
      name: String(body?.name ?? ''),
      type: String(body?.type ?? ''),
      access: String(body?.access ?? 'proxy'),
      url: String(body?.url ?? ''),
      isDefault: body?.isDefault === true,
      jsonData: (body?.jsonData as Record<string, unknown>) ?? {},
      secureJsonData: (body?.secureJsonData as Record<string, string>) ?? {},
    };
  }
}
