import { randomBytes } from 'node:crypto';
import { tenantStream, type FailureReason } from '@app/contracts';
import { TenantStreamBuilder } from '@app/tenancy';
import { EXIT } from './tenantctl';
import { startTenantctlTestStore, type TenantctlTestStore } from './tenantctl.test-helpers';

const QUOTA: FailureReason = { code: 'K8S.QUOTA_REFUSED', message: 'quota refused', retryable: false };
const hex = () => randomBytes(3).toString('hex');

let cli: TenantctlTestStore;
const tenantctl = (argv: string[]) => cli.tenantctl(argv);

/** Namespace failed for good and was rolled back: the run failed, nothing left to undo. */
const failed = new TenantStreamBuilder(`gamma-${hex()}`, '2025-01-16T10:00:00Z')
  .requested()
  .started('namespace', 'ProvisionNamespace')
  .failed('namespace', QUOTA)
  .lifecycle('RollbackStarted', { failedStep: 'namespace', reason: QUOTA })
  .ran('compensate:namespace', 'RemoveNamespace')
  .lifecycle('TenantProvisioningFailed', {
    failedStep: 'namespace',
    reason: QUOTA,
    compensatedSteps: ['namespace'],
  });
const active = new TenantStreamBuilder(`delta-${hex()}`, '2025-01-16T10:00:00Z').activeTenant();

beforeAll(async () => {
  cli = await startTenantctlTestStore({ schemaPrefix: 'tcr', readModel: true, env: { USER: 'carol' } });
  await failed.appendTo(cli.store);
  await active.appendTo(cli.store);
});

afterAll(async () => {
  await cli?.close();
});

describe('tenantctl reprovision', () => {
  it('starts run 2 of a failed tenant as the operator, then refuses while that run is under way', async () => {
    const started = await tenantctl(['reprovision', failed.tenantId, '--reason', 'quota raised', '--json']);
    expect(started).toMatchObject({ code: EXIT.OK, stderr: '' });
    const result = JSON.parse(started.stdout) as { run: number; eventId: string; duplicate: boolean };
    expect(result).toMatchObject({ tenantId: failed.tenantId, run: 2, duplicate: false });
    const events = await cli.store.readStream(tenantStream(failed.tenantId));
    expect(events[events.length - 1]).toMatchObject({
      id: result.eventId,
      type: 'ReprovisioningRequested',
      data: { run: 2, reason: 'quota raised', requestedBy: 'operator:carol' },
    });

    const again = await tenantctl(['reprovision', failed.tenantId, '--reason', 'again']);
    expect(again.code).toBe(EXIT.ERROR);
    expect(again.stderr).toContain('OPERATION.PROVISIONING_IN_PROGRESS');
    expect(await cli.store.readStream(tenantStream(failed.tenantId))).toHaveLength(events.length);
  });

  it('refuses an active tenant, an unknown one and a request without a reason', async () => {
    const up = await tenantctl(['reprovision', active.tenantId, '--reason', 'r']);
    expect(up.code).toBe(EXIT.ERROR);
    expect(up.stderr).toContain('OPERATION.TENANT_ACTIVE: tenant');
    const unknown = await tenantctl(['reprovision', `nobody-${hex()}`, '--reason', 'r']);
    expect(unknown.code).toBe(EXIT.UNKNOWN_TENANT);
    const noReason = await tenantctl(['reprovision', active.tenantId]);
    expect(noReason.code).toBe(EXIT.USAGE);
    expect(noReason.stderr).toContain("required option '--reason <text>'");
  });
});
