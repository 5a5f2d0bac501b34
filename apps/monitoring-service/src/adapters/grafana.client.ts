import type { GrafanaCredentials } from '../config';
import type { GrafanaDataSource, Dashboard } from '@app/plans';
import { grafanaStepError } from './grafana.errors';

/**
 * Grafana HTTP API calls of spec 11.3 plus the tenant's organisation, its data source, the folder and its
 * permissions, as a server admin (basic auth) or with a token (see `GrafanaCredentials` for why Grafana OSS
 * needs the former: organisations and users are server admin APIs). Calls taking an `orgId` act inside that
 * organisation (`X-Grafana-Org-Id`), which the admin is a member of as the organisation's creator.
 */
export interface GrafanaApi {
  findOrg(name: string): Promise<{ id: number } | undefined>;
  /** Finds the organisation by name or creates it; a concurrent creation is found, not failed. */
  ensureOrg(name: string): Promise<{ id: number; created: boolean }>;
  /** Deletes the organisation with its data sources, folders and dashboards; absent is success. */
  deleteOrg(orgId: number): Promise<void>;
  /** Creates or updates the data source by uid, so a changed proxy URL reaches existing tenants. */
  ensureDataSource(orgId: number, dataSource: GrafanaDataSource): Promise<void>;
  findUser(login: string): Promise<{ id: number } | undefined>;
  /**
   * Creates the user in `orgId` (Grafana's `OrgId`, honoured with `auto_assign_org`); when another user already
   * has the e-mail (Grafana keeps e-mails unique: one customer with two shops), creates it without one
   * (Grafana then uses the login) and says so with `emailShared`.
   */
  createUser(
    user: { name: string; email: string; login: string; password: string },
    orgId: number,
  ): Promise<{ id: number; emailShared: boolean }>;
  setPassword(userId: number, password: string): Promise<void>;
  /** Makes the user a member of the organisation with exactly this role. */
  setOrgRole(orgId: number, login: string, userId: number, role: 'Viewer'): Promise<void>;
  /** The organisations the user belongs to. */
  userOrgs(userId: number): Promise<{ orgId: number; name: string }[]>;
  /** Removes the user from the organisation; not a member is success. */
  removeFromOrg(orgId: number, userId: number): Promise<void>;
  ensureFolder(orgId: number, uid: string, title: string): Promise<void>;
  saveDashboard(orgId: number, dashboard: Dashboard, folderUid: string): Promise<void>;
  /** Replaces every permission of the folder: only these users keep access (admins always do). */
  setFolderPermissions(
    orgId: number,
    uid: string,
    items: { userId: number; permission: 1 | 2 | 4 }[],
  ): Promise<void>;
  deleteUser(userId: number): Promise<void>;
  deleteDashboard(orgId: number, uid: string): Promise<void>;
  deleteFolder(orgId: number, uid: string): Promise<void>;
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
  ) {
    this.authorization = grafanaAuthorization(credentials);
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
    orgId?: number,
  ): Promise<{ status: number; json: unknown }> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method,
        headers: {
          authorization: this.authorization,
          'content-type': 'application/json',
          accept: 'application/json',
          ...(orgId === undefined ? {} : { 'x-grafana-org-id': String(orgId) }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15000),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw grafanaStepError(method, path, { error });
    }
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status, json };
  }

  async findOrg(name: string) {
    const path = `/api/orgs/name/${encodeURIComponent(name)}`;
    const { status, json } = await this.call('GET', path);
    if (status === 404) return undefined;
    if (status !== 200) throw grafanaStepError('GET', '/api/orgs/name/:name', { status, json });
    return { id: (json as { id: number }).id };
  }

  async ensureOrg(name: string) {
    const found = await this.findOrg(name);
    if (found) return { ...found, created: false };
    const { status, json } = await this.call('POST', '/api/orgs', { name });
    if (status === 200) return { id: (json as { orgId: number }).orgId, created: true };
    // 409: another attempt created it meanwhile.
    if (status === 409) {
      const raced = await this.findOrg(name);
      if (raced) return { ...raced, created: false };
    }
    throw grafanaStepError('POST', '/api/orgs', { status, json });
  }

  deleteOrg(orgId: number) {
    return this.deleteAbsentOk(`/api/orgs/${orgId}`);
  }

  async ensureDataSource(orgId: number, dataSource: GrafanaDataSource) {
    const path = `/api/datasources/uid/${encodeURIComponent(dataSource.uid)}`;
    const existing = await this.call('GET', path, undefined, orgId);
    if (existing.status === 200) {
      const { status, json } = await this.call('PUT', path, dataSource, orgId);
      if (status !== 200) throw grafanaStepError('PUT', '/api/datasources/uid/:uid', { status, json });
      return;
    }
    if (existing.status !== 404) throw grafanaStepError('GET', '/api/datasources/uid/:uid', existing);
    const { status, json } = await this.call('POST', '/api/datasources', dataSource, orgId);
    if (status !== 200) throw grafanaStepError('POST', '/api/datasources', { status, json });
  }

  async findUser(login: string) {
    const path = `/api/users/lookup?loginOrEmail=${encodeURIComponent(login)}`;
    const { status, json } = await this.call('GET', path);
    if (status === 404) return undefined;
    if (status !== 200) throw grafanaStepError('GET', '/api/users/lookup', { status, json });
    return { id: (json as { id: number }).id };
  }

  async createUser(user: { name: string; email: string; login: string; password: string }, orgId: number) {
    const { status, json } = await this.call('POST', '/api/admin/users', { ...user, OrgId: orgId });
    if (status === 200) return { id: (json as { id: number }).id, emailShared: false };
    // 412: the login or the e-mail is taken. The caller looked the login up first, so it is the e-mail
    // (unless the login is taken too, which the second attempt reports).
    if (status === 412 && (await this.findUser(user.email)) !== undefined) {
      const { email: _shared, ...withoutEmail } = user;
      const retry = await this.call('POST', '/api/admin/users', { ...withoutEmail, OrgId: orgId });
      if (retry.status === 200) return { id: (retry.json as { id: number }).id, emailShared: true };
      throw grafanaStepError('POST', '/api/admin/users', retry);
    }
    throw grafanaStepError('POST', '/api/admin/users', { status, json });
  }

  async setPassword(userId: number, password: string) {
    const path = `/api/admin/users/${userId}/password`;
    const { status, json } = await this.call('PUT', path, { password });
    if (status !== 200) throw grafanaStepError('PUT', '/api/admin/users/:id/password', { status, json });
  }

  async setOrgRole(orgId: number, login: string, userId: number, role: 'Viewer') {
    const add = await this.call('POST', `/api/orgs/${orgId}/users`, { loginOrEmail: login, role });
    // Already a member (created in the organisation, with Grafana's auto_assign_org_role): set the role.
    if (add.status === 409) {
      const patch = await this.call('PATCH', `/api/orgs/${orgId}/users/${userId}`, { role });
      if (patch.status !== 200) throw grafanaStepError('PATCH', `/api/orgs/${orgId}/users/${userId}`, patch);
    } else if (add.status !== 200) throw grafanaStepError('POST', `/api/orgs/${orgId}/users`, add);
  }

  async userOrgs(userId: number) {
    const path = `/api/users/${userId}/orgs`;
    const { status, json } = await this.call('GET', path);
    if (status !== 200) throw grafanaStepError('GET', '/api/users/:id/orgs', { status, json });
    return (json as { orgId: number; name: string }[]).map(({ orgId, name }) => ({ orgId, name }));
  }

  removeFromOrg(orgId: number, userId: number) {
    return this.deleteAbsentOk(`/api/orgs/${orgId}/users/${userId}`);
  }

  async ensureFolder(orgId: number, uid: string, title: string) {
    const existing = await this.call('GET', `/api/folders/${encodeURIComponent(uid)}`, undefined, orgId);
    if (existing.status === 200) return;
    const { status, json } = await this.call('POST', '/api/folders', { uid, title }, orgId);
    if (status !== 200 && status !== 409 && status !== 412)
      throw grafanaStepError('POST', '/api/folders', { status, json });
  }

  async saveDashboard(orgId: number, dashboard: Dashboard, folderUid: string) {
    const { status, json } = await this.call(
      'POST',
      '/api/dashboards/db',
      { dashboard, folderUid, overwrite: true },
      orgId,
    );
    if (status !== 200) throw grafanaStepError('POST', '/api/dashboards/db', { status, json });
  }

  async setFolderPermissions(orgId: number, uid: string, items: { userId: number; permission: 1 | 2 | 4 }[]) {
    const path = `/api/folders/${encodeURIComponent(uid)}/permissions`;
    const { status, json } = await this.call('POST', path, { items }, orgId);
    if (status !== 200) throw grafanaStepError('POST', path, { status, json });
  }

  private async deleteAbsentOk(path: string, orgId?: number) {
    const { status, json } = await this.call('DELETE', path, undefined, orgId);
    if (status !== 200 && status !== 404) throw grafanaStepError('DELETE', path, { status, json });
  }
  deleteUser(userId: number) {
    return this.deleteAbsentOk(`/api/admin/users/${userId}`);
  }
  deleteDashboard(orgId: number, uid: string) {
    return this.deleteAbsentOk(`/api/dashboards/uid/${encodeURIComponent(uid)}`, orgId);
  }
  deleteFolder(orgId: number, uid: string) {
    return this.deleteAbsentOk(`/api/folders/${encodeURIComponent(uid)}`, orgId);
  }

  async health() {
    try {
      return (await this.call('GET', '/api/health')).status === 200;
    } catch {
      return false;
    }
  }
}
