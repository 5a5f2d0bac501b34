import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Grafana's HTTP API: records requests, models users, org roles, folders, permissions.
 * Accepts the bearer `token` and, when given, basic auth as `serverAdmin`. With `tokenIsServerAdmin: false` it
 * behaves as Grafana OSS does: a token (a service account's) is refused on the server admin API `/api/admin/*`.
 */
export interface GrafanaStandInOptions {
  serverAdmin?: { user: string; password: string };
  /** Default true (the token may call everything), so tests about other behaviour need no admin user. */
  tokenIsServerAdmin?: boolean;
}

export class GrafanaStandIn {
  readonly requests: { method: string; path: string; authorization?: string; body?: unknown }[] = [];
  readonly users = new Map<
    number,
    { id: number; login: string; email: string; name: string; role: string; password: string }
  >();
  readonly folders = new Map<
    string,
    { uid: string; title: string; permissions: { userId: number; permission: number }[] }
  >();
  readonly dashboards = new Map<
    string,
    { uid: string; folderUid: string; title: string; panels: unknown[] }
  >();
  private nextId = 2;
  private server?: Server;

  constructor(
    private readonly token: string,
    private readonly options: GrafanaStandInOptions = {},
  ) {}

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

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.requests.push({
      method,
      path: url.pathname + url.search,
      authorization: req.headers.authorization,
      body,
    });
    const send = (status: number, json: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    if (url.pathname === '/api/health') return send(200, { database: 'ok' });
    const caller = this.caller(req.headers.authorization);
    if (caller === undefined) return send(401, { message: 'Unauthorized' });
    const path = url.pathname;
    if (caller === 'token' && this.options.tokenIsServerAdmin === false && path.startsWith('/api/admin/')) {
      return send(403, { message: 'Permission denied' });
    }
    let m: RegExpExecArray | null;
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
      const id = this.nextId++;
      this.users.set(id, { id, login, email, name, role: 'Viewer', password });
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
    if (method === 'POST' && (m = /^\/api\/orgs\/1\/users$/.exec(path))) {
      const user = [...this.users.values()].find((u) => u.login === body?.loginOrEmail);
      if (!user) return send(404, { message: 'user not found' });
      return send(409, { message: 'User is already member of this organization' });
    }
    if (method === 'PATCH' && (m = /^\/api\/orgs\/1\/users\/(\d+)$/.exec(path))) {
      const user = this.users.get(Number(m[1]));
      if (!user) return send(404, { message: 'user not found' });
      user.role = String(body?.role);
      return send(200, { message: 'Organization user updated' });
    }
    if (method === 'DELETE' && (m = /^\/api\/admin\/users\/(\d+)$/.exec(path))) {
      return this.users.delete(Number(m[1]))
        ? send(200, { message: 'User deleted' })
        : send(404, { message: 'user not found' });
    }
    if ((m = /^\/api\/folders\/([^/]+)\/permissions$/.exec(path)) && method === 'POST') {
      const folder = this.folders.get(decodeURIComponent(m[1]));
      if (!folder) return send(404, { message: 'folder not found' });
      folder.permissions = (body?.items as { userId: number; permission: number }[]) ?? [];
      return send(200, { message: 'Folder permissions updated' });
    }
    if ((m = /^\/api\/folders\/([^/]+)$/.exec(path))) {
      const uid = decodeURIComponent(m[1]);
      if (method === 'GET')
        return this.folders.has(uid)
          ? send(200, this.folders.get(uid))
          : send(404, { message: 'folder not found' });
      if (method === 'DELETE') {
        if (!this.folders.delete(uid)) return send(404, { message: 'folder not found' });
        for (const [key, d] of this.dashboards) if (d.folderUid === uid) this.dashboards.delete(key);
        return send(200, { message: 'Folder deleted' });
      }
    }
    if (method === 'POST' && path === '/api/folders') {
      const { uid, title } = body as { uid: string; title: string };
      if (this.folders.has(uid)) return send(409, { message: 'a folder with the same uid already exists' });
      // New folders start with Grafana's defaults: Editor and Viewer roles can see them.
      this.folders.set(uid, { uid, title, permissions: [{ userId: -1, permission: 1 }] });
      return send(200, { uid, title });
    }
    if (method === 'POST' && path === '/api/dashboards/db') {
      const { dashboard, folderUid } = body as {
        dashboard: { uid: string; title: string; panels: unknown[] };
        folderUid: string;
      };
      if (!this.folders.has(folderUid)) return send(400, { message: 'folder not found' });
      this.dashboards.set(dashboard.uid, {
        uid: dashboard.uid,
        folderUid,
        title: dashboard.title,
        panels: dashboard.panels,
      });
      return send(200, { status: 'success', uid: dashboard.uid });
    }
    if (method === 'DELETE' && (m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path))) {
      return this.dashboards.delete(decodeURIComponent(m[1]))
        ? send(200, { title: 'deleted' })
        : send(404, { message: 'Dashboard not found' });
    }
    return send(404, { message: `no route ${method} ${path}` });
  }
}
