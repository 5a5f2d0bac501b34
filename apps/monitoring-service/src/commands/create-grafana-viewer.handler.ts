import {
  grafanaFolderUid,
  grafanaLogin,
  grafanaSecretPath,
  namespaceName,
  type CommandMessage,
  type StepOutputs,
  type TenantProfile,
} from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { grafanaOrgName, tenantDataSource, dashboard, dashboardUid } from '@app/plans';
import type { MonitoringHandlerDeps } from './deps';
import { generateViewerPassword, guard, secretCall } from './monitoring-step';

/** The tenant's viewer as it stands after `ensureViewer`. */
interface Viewer {
  id: number;
  created: boolean;
  /** Another user has the admin e-mail, so this one was created without one. */
  emailShared: boolean;
}

/**
 * CreateGrafanaViewer: spec 11.3 with a tenant-unique login (`grafanaLogin`; the spec's `abc-corp-admin` would
 * collide for two tenants of one company), in an organisation of the tenant's own whose only data source is
 * pinned to its namespace: a Viewer of a shared organisation could query every tenant's metrics. The password
 * is stored once (putIfAbsent) and never rotated by a redelivery.
 */
@Controller()
export class CreateGrafanaViewerHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: MonitoringHandlerDeps) {}

  @MessagePattern('CreateGrafanaViewer')
  handle(
    @Payload() command: CommandMessage<'CreateGrafanaViewer'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    return guard<'CreateGrafanaViewer'>((c) => this.create(c))(command, context);
  }

  private async create(command: CommandMessage<'CreateGrafanaViewer'>): Promise<StepOutputs> {
    const { grafana } = this.deps;
    const { tenant } = command.data;
    const login = grafanaLogin(tenant.tenantId);
    const folderUid = grafanaFolderUid(tenant.tenantId);
    const secretPath = grafanaSecretPath(tenant.tenantId);
    const orgName = grafanaOrgName(tenant.tenantId);
    const generatePassword = this.deps.generatePassword ?? generateViewerPassword;
    const stored = await secretCall('store', secretPath, () =>
      this.deps.secrets.putIfAbsent(secretPath, { login, password: generatePassword() }),
    );
    const org = await grafana.ensureOrg(orgName);
    const dataSource = tenantDataSource(tenant.tenantId, this.deps.tenantDataSource);
    await grafana.ensureDataSource(org.id, dataSource);
    const viewer = await this.ensureViewer(tenant, login, stored.password, org.id);
    await grafana.setOrgRole(org.id, login, viewer.id, 'Viewer');
    await this.leaveOtherOrgs(viewer.id, org.id);
    await grafana.ensureFolder(org.id, folderUid, `Tenant: ${tenant.companyName}`);
    await grafana.saveDashboard(org.id, dashboard(tenant, 'folder'), folderUid);
    await grafana.setFolderPermissions(org.id, folderUid, [{ userId: viewer.id, permission: 1 }]);
    return {
      login,
      userId: viewer.id,
      created: viewer.created,
      // Another tenant's viewer has the admin e-mail (one customer, two shops): this one has none.
      ...(viewer.emailShared ? { emailShared: true } : {}),
      role: 'Viewer',
      orgId: org.id,
      orgName,
      dataSourceUid: dataSource.uid,
      namespace: namespaceName(tenant.tenantId),
      folderUid,
      dashboardUid: dashboardUid(tenant.tenantId, 'folder'),
      secretPath,
    };
  }

  /** Creates the viewer in the tenant's organisation, or gives an existing one the stored password. */
  private async ensureViewer(
    tenant: TenantProfile,
    login: string,
    password: string,
    orgId: number,
  ): Promise<Viewer> {
    const { grafana } = this.deps;
    const existing = await grafana.findUser(login);
    if (existing) {
      // An existing user may predate the stored secret (a secret lost, or stored anew by an attempt that
      // died before using it): its password is set to the stored one, which is idempotent.
      await grafana.setPassword(existing.id, password);
      return { id: existing.id, created: false, emailShared: false };
    }
    const made = await grafana.createUser(
      { name: `${tenant.companyName} Admin`, email: tenant.adminEmail, login, password },
      orgId,
    );
    return { id: made.id, created: true, emailShared: made.emailShared };
  }

  /**
   * Its own organisation only: Grafana's auto_assign_org, or the shared organisation every tenant once sat in,
   * may have made it a member of another one.
   */
  private async leaveOtherOrgs(userId: number, orgId: number): Promise<void> {
    const { grafana } = this.deps;
    for (const other of await grafana.userOrgs(userId)) {
      if (other.orgId !== orgId) await grafana.removeFromOrg(other.orgId, userId);
    }
  }
}
