import { grafanaFolderUid, grafanaLogin, grafanaSecretPath, namespaceName } from '@app/contracts';
import { manifestGuard } from '@app/kube';
import type { CommandHandlers } from '@app/platform';
import type { SecretStore } from '@app/secrets';
import { randomBytes } from 'node:crypto';
import type { MonitoringDelivery } from './adapters/delivery';
import type { GrafanaApi } from './adapters/grafana.client';
import { grafanaOrgName, tenantDataSource, type TenantDataSourceSettings } from './domain/grafana-tenancy';
import { dashboard, dashboardUid, monitoringFiles } from './domain/monitoring';

export interface MonitoringHandlerDeps {
  delivery: MonitoringDelivery;
  grafana: GrafanaApi;
  secrets: SecretStore;
  managedBy: string;
  /** How each tenant organisation's data source reaches Prometheus. */
  tenantDataSource: TenantDataSourceSettings;
  /** Grafana's main organisation (`GRAFANA_ORG_ID`), 1 by default. */
  mainOrgId?: number;
  /** 24 random bytes as base64url by default; injectable for tests. */
  generatePassword?: () => string;
}

const guard = manifestGuard('MONITORING');

export function createHandlers(deps: MonitoringHandlerDeps): CommandHandlers {
  const generatePassword = deps.generatePassword ?? (() => randomBytes(24).toString('base64url'));
  const mainOrgId = deps.mainOrgId ?? 1;
  return {
    ProvisionMonitoring: guard<'ProvisionMonitoring'>(async (command, correlationId) => {
      const { tenant } = command.data;
      const result = await deps.delivery.apply(tenant, monitoringFiles(tenant, deps.managedBy), {
        reason: 'ProvisionMonitoring',
        correlationId,
      });
      return {
        namespace: namespaceName(tenant.tenantId),
        mode: deps.delivery.mode,
        changed: result.changed,
        ...(result.revision ? { revision: result.revision } : {}),
        serviceMonitor: 'tenant-monitoring',
        prometheusRule: 'tenant-alerts',
        dashboardConfigMap: 'tenant-dashboard',
      };
    }),

    RemoveMonitoring: guard<'RemoveMonitoring'>(async (command, correlationId) => {
      const { tenant } = command.data;
      const result = await deps.delivery.remove(tenant, monitoringFiles(tenant, deps.managedBy), {
        reason: 'RemoveMonitoring',
        correlationId,
      });
      return { namespace: namespaceName(tenant.tenantId), mode: deps.delivery.mode, changed: result.changed };
    }),

    /**
     * Spec 11.3 with a tenant-unique login (`grafanaLogin`; the spec's `abc-corp-admin` would collide for two
     * tenants of one company), in an organisation of the tenant's own whose only data source is pinned to its
     * namespace: a Viewer of a shared organisation could query every tenant's metrics. The password is stored
     * once (putIfAbsent) and never rotated by a redelivery.
     */
    CreateGrafanaViewer: guard<'CreateGrafanaViewer'>(async (command) => {
      const { tenant } = command.data;
      const login = grafanaLogin(tenant.tenantId);
      const folderUid = grafanaFolderUid(tenant.tenantId);
      const secretPath = grafanaSecretPath(tenant.tenantId);
      const orgName = grafanaOrgName(tenant.tenantId);
      const stored = await deps.secrets.putIfAbsent(secretPath, { login, password: generatePassword() });
      const org = await deps.grafana.ensureOrg(orgName);
      const dataSource = tenantDataSource(tenant.tenantId, deps.tenantDataSource);
      await deps.grafana.ensureDataSource(org.id, dataSource);
      let user: { id: number } | undefined = await deps.grafana.findUser(login);
      const created = user === undefined;
      let emailShared = false;
      if (!user) {
        const made = await deps.grafana.createUser(
          { name: `${tenant.companyName} Admin`, email: tenant.adminEmail, login, password: stored.password },
          org.id,
        );
        user = { id: made.id };
        emailShared = made.emailShared;
      } else {
        // An existing user may predate the stored secret (a secret lost, or stored anew by an attempt that
        // died before using it): its password is set to the stored one, which is idempotent.
        await deps.grafana.setPassword(user.id, stored.password);
      }
      await deps.grafana.setOrgRole(org.id, login, user.id, 'Viewer');
      // Its own organisation only: Grafana's auto_assign_org, or the shared organisation every tenant once
      // sat in, may have made it a member of another one.
      for (const other of await deps.grafana.userOrgs(user.id)) {
        if (other.orgId !== org.id) await deps.grafana.removeFromOrg(other.orgId, user.id);
      }
      await deps.grafana.ensureFolder(org.id, folderUid, `Tenant: ${tenant.companyName}`);
      await deps.grafana.saveDashboard(org.id, dashboard(tenant, 'folder'), folderUid);
      await deps.grafana.setFolderPermissions(org.id, folderUid, [{ userId: user.id, permission: 1 }]);
      return {
        login,
        userId: user.id,
        created,
        // Another tenant's viewer has the admin e-mail (one customer, two shops): this one has none.
        ...(emailShared ? { emailShared } : {}),
        role: 'Viewer',
        orgId: org.id,
        orgName,
        dataSourceUid: dataSource.uid,
        namespace: namespaceName(tenant.tenantId),
        folderUid,
        dashboardUid: dashboardUid(tenant.tenantId, 'folder'),
        secretPath,
      };
    }),

    /** Deletes the tenant's organisation (its data source, folder and dashboard with it) and the viewer. */
    RemoveGrafanaViewer: guard<'RemoveGrafanaViewer'>(async (command) => {
      const { tenant } = command.data;
      const login = grafanaLogin(tenant.tenantId);
      const folderUid = grafanaFolderUid(tenant.tenantId);
      const user = await deps.grafana.findUser(login);
      const org = await deps.grafana.findOrg(grafanaOrgName(tenant.tenantId));
      if (org) await deps.grafana.deleteOrg(org.id);
      if (user) await deps.grafana.deleteUser(user.id);
      // A tenant created when every tenant shared the main organisation has its folder there.
      await deps.grafana.deleteDashboard(mainOrgId, dashboardUid(tenant.tenantId, 'folder'));
      await deps.grafana.deleteFolder(mainOrgId, folderUid);
      await deps.secrets.delete(grafanaSecretPath(tenant.tenantId));
      return { login, userRemoved: user !== undefined, orgRemoved: org !== undefined, folderUid };
    }),
  };
}
