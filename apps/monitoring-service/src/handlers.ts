import { grafanaFolderUid, grafanaLogin, grafanaSecretPath, namespaceName } from '@app/contracts';
import { manifestGuard } from '@app/kube';
import type { CommandHandlers } from '@app/platform';
import type { SecretStore } from '@app/secrets';
import { randomBytes } from 'node:crypto';
import type { MonitoringDelivery } from './adapters/delivery';
import type { GrafanaApi } from './adapters/grafana.client';
import { dashboard, dashboardUid, monitoringFiles } from './domain/monitoring';

export interface MonitoringHandlerDeps {
  delivery: MonitoringDelivery;
  grafana: GrafanaApi;
  secrets: SecretStore;
  managedBy: string;
  /** 24 random bytes as base64url by default; injectable for tests. */
  generatePassword?: () => string;
}

const guard = manifestGuard('MONITORING');

export function createHandlers(deps: MonitoringHandlerDeps): CommandHandlers {
  const generatePassword = deps.generatePassword ?? (() => randomBytes(24).toString('base64url'));
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
     * tenants of one company). The password is stored once (putIfAbsent) and never rotated by a redelivery.
     */
    CreateGrafanaViewer: guard<'CreateGrafanaViewer'>(async (command) => {
      const { tenant } = command.data;
      const login = grafanaLogin(tenant.tenantId);
      const folderUid = grafanaFolderUid(tenant.tenantId);
      const secretPath = grafanaSecretPath(tenant.tenantId);
      const stored = await deps.secrets.putIfAbsent(secretPath, { login, password: generatePassword() });
      let user: { id: number } | undefined = await deps.grafana.findUser(login);
      const created = user === undefined;
      let emailShared = false;
      if (!user) {
        const made = await deps.grafana.createUser({
          name: `${tenant.companyName} Admin`,
          email: tenant.adminEmail,
          login,
          password: stored.password,
        });
        user = { id: made.id };
        emailShared = made.emailShared;
      } else {
        // An existing user may predate the stored secret (a secret lost, or stored anew by an attempt that
        // died before using it): its password is set to the stored one, which is idempotent.
        await deps.grafana.setPassword(user.id, stored.password);
      }
      await deps.grafana.setOrgRole(login, user.id, 'Viewer');
      await deps.grafana.ensureFolder(folderUid, `Tenant: ${tenant.companyName}`);
      await deps.grafana.saveDashboard(dashboard(tenant, 'folder'), folderUid);
      await deps.grafana.setFolderPermissions(folderUid, [{ userId: user.id, permission: 1 }]);
      return {
        login,
        userId: user.id,
        created,
        // Another tenant's viewer has the admin e-mail (one customer, two shops): this one has none.
        ...(emailShared ? { emailShared } : {}),
        role: 'Viewer',
        folderUid,
        dashboardUid: dashboardUid(tenant.tenantId, 'folder'),
        secretPath,
      };
    }),

    RemoveGrafanaViewer: guard<'RemoveGrafanaViewer'>(async (command) => {
      const { tenant } = command.data;
      const login = grafanaLogin(tenant.tenantId);
      const user = await deps.grafana.findUser(login);
      if (user) await deps.grafana.deleteUser(user.id);
      await deps.grafana.deleteDashboard(dashboardUid(tenant.tenantId, 'folder'));
      await deps.grafana.deleteFolder(grafanaFolderUid(tenant.tenantId));
      await deps.secrets.delete(grafanaSecretPath(tenant.tenantId));
      return { login, userRemoved: user !== undefined, folderUid: grafanaFolderUid(tenant.tenantId) };
    }),
  };
}
