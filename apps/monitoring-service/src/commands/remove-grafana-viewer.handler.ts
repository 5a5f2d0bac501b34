import {
  grafanaFolderUid,
  grafanaLogin,
  grafanaSecretPath,
  type CommandMessage,
  type StepOutputs,
} from '@app/contracts';
import { HANDLER_DEPS, type CommandContext } from '@app/platform';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { grafanaOrgName, dashboardUid } from '@app/plans';
import type { MonitoringHandlerDeps } from './deps';
import { guard, secretCall } from './monitoring-step';

/** RemoveGrafanaViewer: the tenant's organisation (its data source, folder and dashboard with it) and viewer. */
@Controller()
export class RemoveGrafanaViewerHandler {
  constructor(@Inject(HANDLER_DEPS) private readonly deps: MonitoringHandlerDeps) {}

  @MessagePattern('RemoveGrafanaViewer')
  handle(
    @Payload() command: CommandMessage<'RemoveGrafanaViewer'>,
    @Ctx() context: CommandContext,
  ): Promise<StepOutputs> {
    return guard<'RemoveGrafanaViewer'>((c) => this.remove(c))(command, context);
  }

  private async remove(command: CommandMessage<'RemoveGrafanaViewer'>): Promise<StepOutputs> {
    const { grafana } = this.deps;
    const mainOrgId = this.deps.mainOrgId ?? 1;
    const { tenant } = command.data;
    const login = grafanaLogin(tenant.tenantId);
    const folderUid = grafanaFolderUid(tenant.tenantId);
    const secretPath = grafanaSecretPath(tenant.tenantId);
    const user = await grafana.findUser(login);
    const org = await grafana.findOrg(grafanaOrgName(tenant.tenantId));
    if (org) await grafana.deleteOrg(org.id);
    if (user) await grafana.deleteUser(user.id);
    // A tenant created when every tenant shared the main organisation has its folder there.
    await grafana.deleteDashboard(mainOrgId, dashboardUid(tenant.tenantId, 'folder'));
    await grafana.deleteFolder(mainOrgId, folderUid);
    await secretCall('delete', secretPath, () => this.deps.secrets.delete(secretPath));
    return { login, userRemoved: user !== undefined, orgRemoved: org !== undefined, folderUid };
  }
}
