import {
  type GrafanaStandInOptions,
  MAIN_ORG_ID,
  type Reply,
  STAND_IN_ADMIN_ID,
  type StandInOrg,
  type StandInRequest,
  type StandInState,
} from './grafana-stand-in-state';

/**
 * The Grafana stand-in's server admin API: users (`/api/admin/users`, `/api/users`) and organisations with
 * their members (`/api/orgs`). New users follow Grafana's `[users]` settings (`auto_assign_org`,
 * `auto_assign_org_role`). Undefined when the request is not one of these routes.
 */
export function serverAdminRoute(
  state: StandInState,
  options: GrafanaStandInOptions,
  { method, path, url, body }: StandInRequest,
): Reply | undefined {
  let m: RegExpExecArray | null;

  // Users.
  if (method === 'GET' && path === '/api/users/lookup') {
    const key = url.searchParams.get('loginOrEmail');
    const user = [...state.users.values()].find((u) => u.login === key || u.email === key);
    return user ? [200, user] : [404, { message: 'user not found' }];
  }
  if (method === 'POST' && path === '/api/admin/users') {
    const { login, name, password } = body as { login: string; name: string; password: string };
    // Grafana stores the login as the e-mail of a user created without one.
    const email = typeof body?.email === 'string' && body.email !== '' ? body.email : login;
    if ([...state.users.values()].some((u) => u.login === login || u.email === email)) {
      return [412, { message: 'user already exists' }];
    }
    let org: StandInOrg;
    let role: string;
    if (options.autoAssignOrg === false) {
      org = state.createOrg(email);
      role = 'Admin';
    } else {
      const orgId = typeof body?.OrgId === 'number' && body.OrgId !== 0 ? body.OrgId : MAIN_ORG_ID;
      const found = state.orgs.get(orgId);
      if (!found) return [400, { message: 'Organization not found' }];
      org = found;
      role = options.autoAssignOrgRole ?? 'Viewer';
    }
    const id = state.nextUserId();
    state.users.set(id, { id, login, email, name, password, orgId: org.id });
    org.members.set(id, role);
    return [200, { id, message: 'User created' }];
  }
  if (method === 'PUT' && (m = /^\/api\/admin\/users\/(\d+)\/password$/.exec(path))) {
    const user = state.users.get(Number(m[1]));
    if (!user) return [404, { message: 'user not found' }];
    if (typeof body?.password !== 'string' || body.password.length < 4) {
      return [400, { message: 'New password is too short' }];
    }
    user.password = body.password;
    return [200, { message: 'User password updated' }];
  }
  if (method === 'DELETE' && (m = /^\/api\/admin\/users\/(\d+)$/.exec(path))) {
    const id = Number(m[1]);
    if (!state.users.delete(id)) return [404, { message: 'user not found' }];
    for (const org of state.orgs.values()) org.members.delete(id);
    return [200, { message: 'User deleted' }];
  }
  if (method === 'GET' && (m = /^\/api\/users\/(\d+)\/orgs$/.exec(path))) {
    const id = Number(m[1]);
    if (!state.users.has(id)) return [404, { message: 'user not found' }];
    return [200, state.membershipsOf(id)];
  }

  // Organisations.
  if (method === 'GET' && (m = /^\/api\/orgs\/name\/([^/]+)$/.exec(path))) {
    const org = state.orgByName(decodeURIComponent(m[1]));
    return org ? [200, { id: org.id, name: org.name }] : [404, { message: 'Organization not found' }];
  }
  if (method === 'POST' && path === '/api/orgs') {
    const name = String(body?.name ?? '');
    if (name === '') return [400, { message: 'name is required' }];
    if (state.orgByName(name)) return [409, { message: 'Organization name taken' }];
    const org = state.createOrg(name);
    org.members.set(STAND_IN_ADMIN_ID, 'Admin');
    return [200, { orgId: org.id, message: 'Organization created' }];
  }
  if ((m = /^\/api\/orgs\/(\d+)$/.exec(path)) && method === 'DELETE') {
    const org = state.orgs.get(Number(m[1]));
    if (!org) return [404, { message: 'Failed to delete organization. ID not found' }];
    if (org.id === MAIN_ORG_ID) return [400, { message: 'Can not delete org for current user' }];
    state.orgs.delete(org.id);
    for (const userId of [...org.members.keys()]) state.leave(org, userId);
    return [200, { message: 'Organization deleted' }];
  }
  if ((m = /^\/api\/orgs\/(\d+)\/users$/.exec(path))) {
    const org = state.orgs.get(Number(m[1]));
    if (!org) return [404, { message: 'Organization not found' }];
    if (method === 'GET') {
      return [200, [...org.members].map(([userId, role]) => ({ orgId: org.id, userId, role }))];
    }
    if (method === 'POST') {
      const key = body?.loginOrEmail;
      const user = [...state.users.values()].find((u) => u.login === key || u.email === key);
      if (!user) return [404, { message: 'User not found' }];
      if (org.members.has(user.id)) {
        return [409, { message: 'User is already member of this organization' }];
      }
      org.members.set(user.id, String(body?.role));
      return [200, { message: 'User added to organization', userId: user.id }];
    }
  }
  if ((m = /^\/api\/orgs\/(\d+)\/users\/(\d+)$/.exec(path))) {
    const org = state.orgs.get(Number(m[1]));
    const userId = Number(m[2]);
    if (!org || !org.members.has(userId)) return [404, { message: 'user not found' }];
    if (method === 'PATCH') {
      org.members.set(userId, String(body?.role));
      return [200, { message: 'Organization user updated' }];
    }
    if (method === 'DELETE') {
      const admins = [...org.members].filter(([, role]) => role === 'Admin');
      if (admins.length === 1 && admins[0][0] === userId) {
        return [400, { message: 'Cannot remove last organization admin' }];
      }
      state.leave(org, userId);
      // The admin API deletes a user left in no organisation.
      if (state.membershipsOf(userId).length === 0) state.users.delete(userId);
      return [200, { message: 'User removed from organization' }];
    }
  }
  return undefined;
}
