import { permanent, retryable, type StepError } from '@app/platform';
import type { GrafanaCredentials } from '../config';
import type { Dashboard } from '../domain/monitoring';

/**
 * Grafana HTTP API calls of spec 11.3 plus the folder and its permissions, as a server admin (basic auth) or with
 * a token (see `GrafanaCredentials` for why Grafana OSS needs the former).
 */
export interface GrafanaApi {
  findUser(login: string): Promise<{ id: number } | undefined>;
  /**
   * Creates the user; when another user already has the e-mail (Grafana keeps e-mails unique: one customer
   * with two shops), creates it without one (Grafana then uses the login) and says so with `emailShared`.
   */
  createUser(user: {
    name: string;
    email: string;
    login: string;
    password: string;
  }): Promise<{ id: number; emailShared: boolean }>;
  setPassword(userId: number, password: string): Promise<void>;
  setOrgRole(login: string, userId: number, role: 'Viewer'): Promise<void>;
  ensureFolder(uid: string, title: string): Promise<void>;
  saveDashboard(dashboard: Dashboard, folderUid: string): Promise<void>;
  /** Replaces every permission of the folder: only these users keep access (admins always do). */
  setFolderPermissions(uid: string, items: { userId: number; permission: 1 | 2 | 4 }[]): Promise<void>;
  deleteUser(userId: number): Promise<void>;
  deleteDashboard(uid: string): Promise<void>;
  deleteFolder(uid: string): Promise<void>;
  health(): Promise<boolean>;
}

/** The Authorization header of a set of credentials (a bare string is a token). */
export function grafanaAuthorization(credentials: GrafanaCredentials | string): string {
  if (typeof credentials === 'string') return `Bearer ${credentials}`;
  if ('token' in credentials) return `Bearer ${credentials.token}`;
  return `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`, 'utf8').toString('base64')}`;
}

export class GrafanaClient implements GrafanaApi {
  private readonly authorization: string;

  constructor(
    private readonly baseUrl: string,
    credentials: GrafanaCredentials | string,
    private readonly orgId = 1,
  ) {
    this.authorization = grafanaAuthorization(credentials);
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: {
          authorization: this.authorization,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15000),
      });
    } catch (error) {
      throw retryable('MONITORING.GRAFANA_UNREACHABLE', `${method} ${path}: Grafana unreachable`, error);
    }
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  }

  private fail(method: string, path: string, status: number, json: unknown): StepError {
    const message = `${method} ${path}: HTTP ${status} ${String((json as { message?: string } | undefined)?.message ?? '').slice(0, 200)}`;
    return status >= 500 || status === 429
      ? retryable('MONITORING.GRAFANA_UNAVAILABLE', message)
      : permanent('MONITORING.GRAFANA_REJECTED', message);
  }

  async findUser(login: string) {
    const path = `/api/users/lookup?loginOrEmail=${encodeURIComponent(login)}`;
    const { status, json } = await this.call('GET', path);
    if (status === 404) return undefined;
    if (status !== 200) throw this.fail('GET', '/api/users/lookup', status, json);
    return { id: (json as { id: number }).id };
  }

  async createUser(user: { name: string; email: string; login: string; password: string }) {
    const { status, json } = await this.call('POST', '/api/admin/users', { ...user, OrgId: this.orgId });
    if (status === 200) return { id: (json as { id: number }).id, emailShared: false };
    // 412: the login or the e-mail is taken. The caller looked the login up first, so it is the e-mail
    // (unless the login is taken too, which the second attempt reports).
    if (status === 412 && (await this.findUser(user.email)) !== undefined) {
      const { email: _shared, ...withoutEmail } = user;
      const retry = await this.call('POST', '/api/admin/users', { ...withoutEmail, OrgId: this.orgId });
      if (retry.status === 200) return { id: (retry.json as { id: number }).id, emailShared: true };
      throw this.fail('POST', '/api/admin/users', retry.status, retry.json);
    }
    throw this.fail('POST', '/api/admin/users', status, json);
  }

  async setPassword(userId: number, password: string) {
    const path = `/api/admin/users/${userId}/password`;
    const { status, json } = await this.call('PUT', path, { password });
    if (status !== 200) throw this.fail('PUT', '/api/admin/users/:id/password', status, json);
  }

  async setOrgRole(login: string, userId: number, role: 'Viewer') {
    const add = await this.call('POST', `/api/orgs/${this.orgId}/users`, { loginOrEmail: login, role });
    // Already a member (the admin API adds new users to the org): set the role explicitly instead.
    if (add.status === 409) {
      const patch = await this.call('PATCH', `/api/orgs/${this.orgId}/users/${userId}`, { role });
      if (patch.status !== 200)
        throw this.fail('PATCH', `/api/orgs/${this.orgId}/users/${userId}`, patch.status, patch.json);
    } else if (add.status !== 200)
      throw this.fail('POST', `/api/orgs/${this.orgId}/users`, add.status, add.json);
  }

  async ensureFolder(uid: string, title: string) {
    const existing = await this.call('GET', `/api/folders/${encodeURIComponent(uid)}`);
    if (existing.status === 200) return;
    const { status, json } = await this.call('POST', '/api/folders', { uid, title });
    if (status !== 200 && status !== 409 && status !== 412)
      throw this.fail('POST', '/api/folders', status, json);
  }

  async saveDashboard(dashboard: Dashboard, folderUid: string) {
    const { status, json } = await this.call('POST', '/api/dashboards/db', {
      dashboard,
      folderUid,
      overwrite: true,
    });
    if (status !== 200) throw this.fail('POST', '/api/dashboards/db', status, json);
  }

  async setFolderPermissions(uid: string, items: { userId: number; permission: 1 | 2 | 4 }[]) {
    const path = `/api/folders/${encodeURIComponent(uid)}/permissions`;
    const { status, json } = await this.call('POST', path, { items });
    if (status !== 200) throw this.fail('POST', path, status, json);
  }

  private async deleteAbsentOk(path: string) {
    const { status, json } = await this.call('DELETE', path);
    if (status !== 200 && status !== 404) throw this.fail('DELETE', path, status, json);
  }
  deleteUser(userId: number) {
    return this.deleteAbsentOk(`/api/admin/users/${userId}`);
  }
  deleteDashboard(uid: string) {
    return this.deleteAbsentOk(`/api/dashboards/uid/${encodeURIComponent(uid)}`);
  }
  deleteFolder(uid: string) {
    return this.deleteAbsentOk(`/api/folders/${encodeURIComponent(uid)}`);
  }

  async health() {
    try {
      return (await this.call('GET', '/api/health')).status === 200;
    } catch {
      return false;
    }
  }
}
