/**
 * What the Grafana stand-in holds, shaped as Grafana shapes it: global users, and organisations holding their
 * members (with a role each), data sources, folders (with permissions) and dashboards; with the ids Grafana
 * hands out and its rule for a user leaving its current organisation.
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
export const MAIN_ORG_ID = 1;

/** A route's answer: HTTP status and JSON body. */
export type Reply = [status: number, body: unknown];

/** A request as the routes read it. */
export interface StandInRequest {
  method: string;
  path: string;
  url: URL;
  body: Record<string, unknown> | undefined;
}

export class StandInState {
  readonly users = new Map<number, StandInUser>();
  readonly orgs = new Map<number, StandInOrg>();
  private nextId = STAND_IN_ADMIN_ID + 1;
  private nextOrgId = MAIN_ORG_ID + 1;
  private nextDataSourceId = 1;

  constructor() {
    this.orgs.set(MAIN_ORG_ID, newOrg(MAIN_ORG_ID, 'Main Org.'));
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

  /** A new, empty organisation with the next id. */
  createOrg(name: string): StandInOrg {
    const org = newOrg(this.nextOrgId++, name);
    this.orgs.set(org.id, org);
    return org;
  }

  nextUserId(): number {
    return this.nextId++;
  }

  nextDataSource(): number {
    return this.nextDataSourceId++;
  }

  /** Grafana moves a user whose current organisation it leaves to another of its organisations. */
  leave(org: StandInOrg, userId: number): void {
    org.members.delete(userId);
    const user = this.users.get(userId);
    if (user && user.orgId === org.id) user.orgId = this.membershipsOf(userId)[0]?.orgId ?? 0;
  }
}

function newOrg(id: number, name: string): StandInOrg {
  return {
    id,
    name,
    members: new Map(),
    dataSources: new Map(),
    folders: new Map(),
    dashboards: new Map(),
  };
}
