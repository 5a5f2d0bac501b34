import type {
  Reply,
  StandInDataSource,
  StandInOrg,
  StandInRequest,
  StandInState,
} from './grafana-stand-in-state';

/**
 * The Grafana stand-in's organisation-scoped API, acting in one organisation the caller may act in: data
 * sources (secure values never answered), folders with their permissions, and dashboards. Undefined when the
 * request is not one of these routes.
 */
export function orgRoute(
  state: StandInState,
  org: StandInOrg,
  { method, path, body }: StandInRequest,
): Reply | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^\/api\/datasources\/uid\/([^/]+)$/.exec(path))) {
    const uid = decodeURIComponent(m[1]);
    const existing = org.dataSources.get(uid);
    if (method === 'GET') {
      if (!existing) return [404, { message: 'Data source not found' }];
      // Grafana never answers with secure values, only which ones are set.
      const { secureJsonData, ...shown } = existing;
      const secureJsonFields = Object.fromEntries(Object.keys(secureJsonData).map((key) => [key, true]));
      return [200, { ...shown, secureJsonFields }];
    }
    if (method === 'DELETE') {
      if (!existing) return [404, { message: 'Data source not found' }];
      org.dataSources.delete(uid);
      return [200, { message: 'Data source deleted' }];
    }
    if (method === 'PUT') {
      if (!existing) return [404, { message: 'Data source not found' }];
      const updated = { ...dataSourceFrom(body), id: existing.id, uid };
      org.dataSources.set(uid, updated);
      return [
        200,
        { datasource: updated, id: updated.id, message: 'Datasource updated', name: updated.name },
      ];
    }
  }
  if (method === 'POST' && path === '/api/datasources') {
    const ds = { ...dataSourceFrom(body), id: state.nextDataSource() };
    if ([...org.dataSources.values()].some((d) => d.name === ds.name || d.uid === ds.uid)) {
      return [409, { message: 'data source with the same name already exists' }];
    }
    org.dataSources.set(ds.uid, ds);
    return [200, { datasource: ds, id: ds.id, message: 'Datasource added', name: ds.name }];
  }
  if ((m = /^\/api\/folders\/([^/]+)\/permissions$/.exec(path)) && method === 'POST') {
    const folder = org.folders.get(decodeURIComponent(m[1]));
    if (!folder) return [404, { message: 'folder not found' }];
    folder.permissions = (body?.items as { userId: number; permission: number }[]) ?? [];
    return [200, { message: 'Folder permissions updated' }];
  }
  if ((m = /^\/api\/folders\/([^/]+)$/.exec(path))) {
    const uid = decodeURIComponent(m[1]);
    if (method === 'GET')
      return org.folders.has(uid) ? [200, org.folders.get(uid)] : [404, { message: 'folder not found' }];
    if (method === 'DELETE') {
      if (!org.folders.delete(uid)) return [404, { message: 'folder not found' }];
      for (const [key, d] of org.dashboards) if (d.folderUid === uid) org.dashboards.delete(key);
      return [200, { message: 'Folder deleted' }];
    }
  }
  if (method === 'POST' && path === '/api/folders') {
    const { uid, title } = body as { uid: string; title: string };
    if (org.folders.has(uid)) return [409, { message: 'a folder with the same uid already exists' }];
    // New folders start with Grafana's defaults: Editor and Viewer roles can see them.
    org.folders.set(uid, { orgId: org.id, uid, title, permissions: [{ userId: -1, permission: 1 }] });
    return [200, { uid, title }];
  }
  if (method === 'POST' && path === '/api/dashboards/db') {
    const { dashboard, folderUid } = body as {
      dashboard: { uid: string; title: string; panels: unknown[] };
      folderUid: string;
    };
    if (!org.folders.has(folderUid)) return [400, { message: 'folder not found' }];
    org.dashboards.set(dashboard.uid, {
      orgId: org.id,
      uid: dashboard.uid,
      folderUid,
      title: dashboard.title,
      panels: dashboard.panels,
    });
    return [200, { status: 'success', uid: dashboard.uid }];
  }
  if (method === 'DELETE' && (m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path))) {
    return org.dashboards.delete(decodeURIComponent(m[1]))
      ? [200, { title: 'deleted' }]
      : [404, { message: 'Dashboard not found' }];
  }
  return undefined;
}

function dataSourceFrom(body: Record<string, unknown> | undefined): Omit<StandInDataSource, 'id'> {
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
