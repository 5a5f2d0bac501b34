import type { LifecycleEventData } from '@app/contracts';
import {
  GATING_STEPS,
  PURGE_STEPS,
  admitSubscriptionCancelled,
  purgeKey,
  reportedStatus,
} from '@app/lifecycle';
import { decide, type DecidedEvent } from './decide';
import { backupIdFor } from './deprovisioning';
import { nextDeadline, pendingCommands } from './queries';
import {
  PERMANENT,
  PROFILE,
  TEST_CONFIG,
  TRANSIENT,
  TenantSim,
  changesState,
  lifecycleEvent,
  resultEvent,
  startedSteps,
  types,
} from './testing';

const DAY = 86_400;

/**
 * Each test here picks its cancellation's deletion date itself, some a day or less away: the orchestrator's own
 * grace-period floor is off (0 days) unless a test passes a config with one (see "the grace period floor").
 */
const NO_FLOOR = { ...TEST_CONFIG, gracePeriodDays: 0 };

function activeTenant(config = NO_FLOOR): TenantSim {
  const sim = new TenantSim(config);
  sim.request();
  return sim.activate();
}

/** Billing's cancellation of the tenant now, with `graceDays` until deletion. */
function cancellationData(sim: TenantSim, graceDays = 30): LifecycleEventData['CancellationRequested'] {
  return {
    subscriptionId: PROFILE.subscriptionId,
    reason: 'downgrade',
    requestedAt: sim.now.toISOString(),
    deletionDate: new Date(sim.now.getTime() + graceDays * DAY * 1000).toISOString(),
    requestedBy: 'billing',
  };
}

function cancel(sim: TenantSim, graceDays = 30) {
  const data = cancellationData(sim, graceDays);
  const decisions = sim.emit('CancellationRequested', data);
  return { decisions, deletionDate: data.deletionDate };
}

/** Succeeds every running backup step of the current round until the backup is verified; what was decided. */
function completeBackup(sim: TenantSim): DecidedEvent[] {
  const decided: DecidedEvent[] = [];
  for (;;) {
    const running = sim.runningSteps().filter((key) => key.includes(':backup-'));
    if (running.length === 0) return decided;
    for (const key of running) decided.push(...sim.succeed(key));
  }
}

/**
 * Moves to the deletion date, where the final backup round is taken (the tenant as it is then), and completes
 * it: what the tenant decides once that final backup is verified (without the BackupCompleted itself).
 */
function atDeletionDate(sim: TenantSim, deletionDate: string): DecidedEvent[] {
  const started = sim.advanceTo(deletionDate);
  expect(types(started)).toContain('BackupStarted');
  return completeBackup(sim).filter(
    (d) => d.type !== 'BackupCompleted' && !(d.type === 'StepStarted' && d.data.step.includes(':backup-')),
  );
}

describe('deprovisioning', () => {
  it('soft-deletes, backs up, verifies, waits for the deletion date, purges in order, then confirms', () => {
    const sim = activeTenant();
    const { decisions, deletionDate } = cancel(sim);
    expect(sim.state.status).toBe('deprovisioning');
    const backupId = backupIdFor(PROFILE.tenantId, 1, 1);
    expect(types(decisions)).toEqual([
      'StepStarted',
      'StepStarted',
      'StepStarted',
      'BackupStarted',
      'StepStarted',
      'StepStarted',
    ]);
    expect(decisions.map((d) => d.data)).toEqual([
      expect.objectContaining({
        commandType: 'MarkNamespaceDeprovisioning',
        params: { deprovisioningDate: sim.now.toISOString(), deletionDate },
      }),
      expect.objectContaining({
        commandType: 'SendCancellationNotice',
        params: { deletionDate, reason: 'downgrade' },
      }),
      expect.objectContaining({
        step: 'cancel-1:soft-delete-website',
        commandType: 'SoftDeleteWebsiteRecord',
        params: { websiteId: 4711, deletedAt: sim.now.toISOString() },
      }),
      { backupId },
      expect.objectContaining({ commandType: 'BackupDatabases', params: { backupId } }),
      expect.objectContaining({ commandType: 'BackupStorage', params: { backupId } }),
    ]);
    sim.succeed('cancel-1:mark-namespace');
    sim.succeed('cancel-1:cancellation-notice');
    sim.succeed('cancel-1:soft-delete-website');

    const verifyDb = sim.succeed('cancel-1:backup-1:databases', { manifestKey: 'db/manifest.json' });
    expect(verifyDb).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          commandType: 'VerifyDatabaseBackup',
          params: { backupId, manifestKey: 'db/manifest.json' },
        }),
      }),
    ]);
    sim.succeed('cancel-1:backup-1:storage', { manifestKey: 'st/manifest.json' });
    sim.succeed('cancel-1:backup-1:verify-databases');
    const completed = sim.succeed('cancel-1:backup-1:verify-storage');
    expect(completed).toEqual([
      expect.objectContaining({
        type: 'BackupCompleted',
        data: { backupId, manifests: ['db/manifest.json', 'st/manifest.json'] },
      }),
    ]);
    expect(nextDeadline(sim.state)).toEqual(new Date(deletionDate));
    expect(sim.advanceTo(new Date(Date.parse(deletionDate) - 1000))).toEqual([]);

    // At the deletion date a final round is taken, and the purge starts from it.
    const purgeStart = atDeletionDate(sim, deletionDate);
    expect(types(purgeStart)).toEqual(['PurgeStarted', 'StepStarted']);
    expect(purgeStart[0]?.data).toEqual({
      backupId: backupIdFor(PROFILE.tenantId, 1, 2),
      startedAt: deletionDate,
    });
    expect(sim.state.status).toBe('purging');

    const order: string[] = [];
    while (sim.state.status === 'purging') {
      const running = sim.runningSteps().filter((key) => key.startsWith('purge:'));
      expect(running.length).toBeGreaterThan(0);
      for (const key of running) {
        order.push(key);
        sim.succeed(key);
      }
    }
    expect(order).toEqual([
      'purge:workloads',
      'purge:namespace',
      'purge:databases',
      'purge:storage',
      'purge:broker',
      'purge:monitoring',
      'purge:grafana-viewer',
      'purge:website',
    ]);
    expect(sim.run('purge:website').params).toEqual({ websiteId: 4711 });
    expect(sim.state.status).toBe('purged');
    expect(sim.run('purged:deletion-confirmation')).toMatchObject({
      commandType: 'SendDeletionConfirmation',
      params: { purgedAt: sim.state.purge?.purgedAt },
    });
    sim.succeed('purged:deletion-confirmation');

    // After the purge a reactivation is refused: the intake makes a new tenant.
    const reactivation = sim.emit('TenantReactivated', {
      subscriptionId: 'sub_new',
      reactivatedAt: sim.now.toISOString(),
      requestedBy: 'billing',
    });
    expect(reactivation).toEqual([]);
    expect(sim.state.status).toBe('purged');
    expect(pendingCommands(sim.state)).toEqual([]);
    expect(nextDeadline(sim.state)).toBeUndefined();
  });

  it('blocks the purge while the backup cannot be verified and retries the backup with a fresh id', () => {
    const sim = activeTenant();
    const { deletionDate } = cancel(sim, 100 / DAY); // due before the blocked backup's retry
    completeBackupExceptVerification(sim);
    sim.fail('cancel-1:backup-1:verify-storage', TRANSIENT);
    const blocked = sim.fail('cancel-1:backup-1:verify-storage', PERMANENT);
    const retryAt = new Date(sim.now.getTime() + TEST_CONFIG.purgeRetryDelaySeconds * 1000).toISOString();
    expect(blocked).toEqual([
      expect.objectContaining({ type: 'PurgeBlocked', data: { reason: PERMANENT, retryAt } }),
    ]);
    expect(nextDeadline(sim.state)).toEqual(new Date(retryAt));

    // The deletion date passes while blocked: no purge without a verified backup.
    expect(sim.advanceTo(deletionDate).filter((d) => d.type === 'PurgeStarted')).toEqual([]);
    const secondRound = sim.advanceTo(retryAt);
    const backupId = backupIdFor(PROFILE.tenantId, 1, 2);
    expect(types(secondRound)).toEqual(['BackupStarted', 'StepStarted', 'StepStarted']);
    expect(secondRound[0]?.data).toEqual({ backupId });
    expect(startedSteps(secondRound)).toEqual(['cancel-1:backup-2:databases', 'cancel-1:backup-2:storage']);

    completeBackup(sim);
    expect(sim.state.cancellation?.backup).toMatchObject({ verified: true, backupId });
    expect(sim.state.status).toBe('purging');
    expect(sim.state.purge?.backupId).toBe(backupId);
  });

  it('blocks the purge when a backup reports no manifest to verify against', () => {
    const sim = activeTenant();
    cancel(sim);
    const blocked = sim.succeed('cancel-1:backup-1:databases', {});
    expect(types(blocked)).toEqual(['PurgeBlocked']);
  });

  it('lets an operator retry a blocked backup before its retry time', () => {
    const sim = activeTenant();
    cancel(sim);
    sim.fail('cancel-1:backup-1:databases', PERMANENT);
    expect(sim.state.cancellation?.backup.blockedUntil).toBeDefined();
    const retry = sim.emit('OperatorRetryRequested', {
      step: 'backup',
      reason: 'disk freed',
      operator: 'op',
    });
    expect(types(retry)[0]).toBe('BackupStarted');
  });

  it('reactivates during the grace period: no purge, namespace unmarked, record restored, customer told', () => {
    const sim = activeTenant();
    const { deletionDate } = cancel(sim);
    completeBackup(sim);
    sim.succeed('cancel-1:mark-namespace');
    sim.succeed('cancel-1:cancellation-notice');
    sim.succeed('cancel-1:soft-delete-website');
    const reactivatedAt = sim.now.toISOString();
    const decisions = sim.emit('TenantReactivated', {
      subscriptionId: 'sub_again',
      reactivatedAt,
      requestedBy: 'billing',
    });
    expect(sim.state.status).toBe('active');
    expect(decisions.map((d) => d.data)).toEqual([
      expect.objectContaining({
        step: 'reactivate-1:unmark-namespace',
        commandType: 'UnmarkNamespaceDeprovisioning',
      }),
      expect.objectContaining({
        step: 'reactivate-1:restore-website',
        commandType: 'RestoreWebsiteRecord',
        params: { websiteId: 4711 },
      }),
      expect.objectContaining({ commandType: 'SendReactivationNotice', params: { reactivatedAt } }),
    ]);
    sim.succeed('reactivate-1:unmark-namespace');
    sim.succeed('reactivate-1:restore-website');
    sim.succeed('reactivate-1:reactivation-notice');
    expect(nextDeadline(sim.state)).toBeUndefined();
    expect(sim.advanceTo(new Date(Date.parse(deletionDate) + DAY * 1000))).toEqual([]);
    expect(sim.state.status).toBe('active');

    // A second cancellation is a new cycle with its own command ids.
    cancel(sim);
    expect(sim.state.cancellation?.cycle).toBe(2);
    expect(sim.runningSteps()).toContain('cancel-2:mark-namespace');
    expect(sim.runningSteps()).toContain('cancel-2:soft-delete-website');
    expect(sim.runningSteps()).toContain('cancel-2:backup-1:databases');
  });

  it('waits for the namespace marking to settle before unmarking it', () => {
    const sim = activeTenant();
    cancel(sim);
    const decisions = sim.emit('TenantReactivated', {
      subscriptionId: 'sub_again',
      reactivatedAt: sim.now.toISOString(),
      requestedBy: 'billing',
    });
    expect(startedSteps(decisions)).toEqual(['reactivate-1:reactivation-notice']);
    expect(startedSteps(sim.succeed('cancel-1:mark-namespace'))).toEqual(['reactivate-1:unmark-namespace']);
  });

  it('refuses a cancellation of a purging tenant and a reactivation of a purging tenant', () => {
    const sim = activeTenant();
    const { deletionDate } = cancel(sim, 1);
    completeBackup(sim);
    atDeletionDate(sim, deletionDate);
    expect(sim.state.status).toBe('purging');
    sim.emit('TenantReactivated', {
      subscriptionId: 's',
      reactivatedAt: sim.now.toISOString(),
      requestedBy: 'b',
    });
    expect(sim.state.status).toBe('purging');
  });

  it('parks a stuck purge step, waits (never skips) and retries it later', () => {
    const sim = activeTenant();
    const { deletionDate } = cancel(sim, 1);
    completeBackup(sim);
    atDeletionDate(sim, deletionDate);
    sim.succeed('purge:workloads');
    sim.advance(900); // RemoveNamespace's deadline
    const parked = sim.advance(900);
    expect(types(parked)).toEqual(['StepTimedOut', 'StepParked']);
    const retryAt = parked[1]?.type === 'StepParked' ? parked[1].data.retryAt : undefined;
    expect(retryAt).toBe(
      new Date(sim.now.getTime() + TEST_CONFIG.purgeRetryDelaySeconds * 1000).toISOString(),
    );
    expect(sim.state.steps[purgeKey('databases')]).toBeUndefined();
    expect(nextDeadline(sim.state)).toEqual(new Date(retryAt as string));
    expect(sim.advance(TEST_CONFIG.purgeRetryDelaySeconds - 1)).toEqual([]);
    const retried = sim.advance(1);
    expect(retried).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ step: 'purge:namespace', attempt: 3 }) }),
    ]);
    for (const step of PURGE_STEPS.slice(1)) sim.succeed(purgeKey(step.resource));
    expect(sim.state.status).toBe('purged');
  });

  it('lets an operator retry a parked purge step before its retry time', () => {
    const sim = activeTenant();
    const { deletionDate } = cancel(sim, 1);
    completeBackup(sim);
    atDeletionDate(sim, deletionDate);
    sim.fail('purge:workloads', PERMANENT);
    expect(sim.run('purge:workloads').status).toBe('parked');
    const retry = sim.emit('OperatorRetryRequested', {
      step: 'purge:workloads',
      reason: 'argo back',
      operator: 'op',
    });
    expect(retry).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ step: 'purge:workloads', attempt: 2 }) }),
    ]);
  });

  it('moves a suspended tenant into deprovisioning and back to suspended on reactivation', () => {
    const sim = activeTenant();
    sim.emit('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' });
    sim.succeed('workloads-1:suspend');
    cancel(sim);
    expect(sim.state.status).toBe('deprovisioning');
    sim.emit('TenantReactivated', {
      subscriptionId: 's',
      reactivatedAt: sim.now.toISOString(),
      requestedBy: 'b',
    });
    expect(sim.state.status).toBe('suspended');
  });
});

function completeBackupExceptVerification(sim: TenantSim): void {
  sim.succeed('cancel-1:mark-namespace');
  sim.succeed('cancel-1:cancellation-notice');
  sim.succeed('cancel-1:soft-delete-website');
  sim.succeed('cancel-1:backup-1:databases');
  sim.succeed('cancel-1:backup-1:storage');
}

function reactivate(sim: TenantSim) {
  return sim.emit('TenantReactivated', {
    subscriptionId: 'sub_again',
    reactivatedAt: sim.now.toISOString(),
    requestedBy: 'billing',
  });
}

const ACTIVATE = 'website-activation';
const SOFT_DELETE = 'cancel-1:soft-delete-website';
const RESTORE = 'reactivate-1:restore-website';

/** Every website-record command the decider started, in order. */
function recordCommands(sim: TenantSim): string[] {
  return sim.decided.flatMap((d) =>
    d.type === 'StepStarted' && d.data.commandType.endsWith('WebsiteRecord') ? [d.data.step] : [],
  );
}

/** Provisioned and activated, the after-activation steps left running; the TenantActivated decided. */
function justActivated(sim = new TenantSim()): { sim: TenantSim; activatedAt: string } {
  sim.request();
  let activatedAt = '';
  while (sim.state.status === 'provisioning') {
    const step = GATING_STEPS.find((s) => sim.state.steps[s.name]?.status === 'running');
    if (!step) throw new Error('stuck');
    for (const decision of sim.succeed(step.name)) {
      if (decision.type === 'TenantActivated') activatedAt = decision.data.activatedAt;
    }
  }
  sim.succeed('welcome-email');
  sim.succeed('grafana-viewer');
  return { sim, activatedAt };
}

describe('website record activation (spec 11.1)', () => {
  it('sets the record active after TenantActivated, by the created record id, at the activation instant', () => {
    const { sim, activatedAt } = justActivated();
    expect(activatedAt).toBe(sim.now.toISOString());
    expect(sim.run(ACTIVATE)).toMatchObject({
      commandType: 'ActivateWebsiteRecord',
      service: 'notification',
      kind: 'after-activation',
      status: 'running',
      params: { websiteId: 4711, activatedAt },
    });
    // Later decisions do not move the instant: it is the tenant's, not the command's.
    sim.advance(30);
    expect(sim.succeed(ACTIVATE, { websiteId: 4711, found: true, status: 'active', activatedAt })).toEqual(
      [],
    );
    expect(sim.state.status).toBe('active');
    expect(pendingCommands(sim.state)).toEqual([]);
    expect(recordCommands(sim)).toEqual(['website', ACTIVATE]);
  });

  it('retries a failed activation with the same parameters, then parks it; the tenant stays active', () => {
    const { sim, activatedAt } = justActivated();
    sim.fail(ACTIVATE, TRANSIENT);
    expect(sim.run(ACTIVATE)).toMatchObject({ attempt: 2, params: { websiteId: 4711, activatedAt } });
    expect(types(sim.fail(ACTIVATE, TRANSIENT))).toEqual(['StepParked']);
    expect(sim.state.status).toBe('active');
    expect(sim.decided.some((d) => d.type === 'RollbackStarted')).toBe(false);
  });

  it('soft-deletes for a cancellation only once an activation in flight has landed', () => {
    const { sim } = justActivated();
    cancel(sim);
    expect(sim.state.steps[SOFT_DELETE]).toBeUndefined();
    expect(startedSteps(sim.succeed(ACTIVATE))).toEqual([SOFT_DELETE]);
    expect(recordCommands(sim)).toEqual(['website', ACTIVATE, SOFT_DELETE]);
  });

  it('parks an activation failing after a cancellation instead of retrying it, and retries it on request only after the restore', () => {
    const { sim, activatedAt } = justActivated();
    cancel(sim);
    const failed = sim.fail(ACTIVATE, TRANSIENT);
    expect(types(failed)).toContain('StepParked');
    expect(startedSteps(failed)).toEqual([SOFT_DELETE]);
    sim.succeed(SOFT_DELETE);
    // A retry would mark the soft-deleted record active: it waits for the tenant to operate again.
    const asked = sim.emit('OperatorRetryRequested', { step: ACTIVATE, reason: 'x', operator: 'op' });
    expect(startedSteps(asked)).toEqual([]);
    sim.succeed('cancel-1:mark-namespace');
    expect(startedSteps(reactivate(sim))).not.toContain(ACTIVATE);
    expect(sim.run(RESTORE).status).toBe('running');
    expect(startedSteps(sim.succeed(RESTORE))).toEqual([ACTIVATE]);
    expect(sim.run(ACTIVATE)).toMatchObject({ attempt: 2, params: { websiteId: 4711, activatedAt } });
    expect(recordCommands(sim)).toEqual(['website', ACTIVATE, SOFT_DELETE, RESTORE, ACTIVATE]);
  });
});

/** The tenant's stream as written before the website record's activation step existed. */
function withoutActivationStep(sim: TenantSim): TenantSim {
  const legacy = new TenantSim();
  for (const event of sim.events) {
    if ((event.data as { step?: unknown }).step !== ACTIVATE) legacy.fold(event);
  }
  legacy.now = sim.now;
  return legacy;
}

describe('website record activation of a tenant activated before the step existed', () => {
  it('activates the record at the tenant activation instant recorded then', () => {
    const { sim, activatedAt } = justActivated();
    sim.advance(DAY);
    const legacy = withoutActivationStep(sim);
    expect(legacy.state.steps[ACTIVATE]).toBeUndefined();
    expect(startedSteps(legacy.decide())).toEqual([ACTIVATE]);
    expect(legacy.run(ACTIVATE).params).toEqual({ websiteId: 4711, activatedAt });
  });

  it('waits during a grace period, then for the reactivation restore to land', () => {
    const { sim } = justActivated();
    sim.succeed(ACTIVATE);
    cancel(sim);
    for (const key of ['cancel-1:mark-namespace', 'cancel-1:cancellation-notice', SOFT_DELETE]) {
      sim.succeed(key);
    }
    const legacy = withoutActivationStep(sim);
    expect(startedSteps(legacy.decide())).toEqual([]);
    expect(startedSteps(reactivate(legacy))).not.toContain(ACTIVATE);
    expect(startedSteps(legacy.succeed(RESTORE))).toEqual([ACTIVATE]);
  });
});

describe('website record through cancellation and reactivation', () => {
  it('is soft-deleted once per cancellation cycle, at the cancellation instant, by the created record id', () => {
    const sim = activeTenant();
    cancel(sim);
    const first = sim.run(SOFT_DELETE);
    expect(first).toMatchObject({
      commandType: 'SoftDeleteWebsiteRecord',
      service: 'notification',
      kind: 'operation',
      params: { websiteId: 4711, deletedAt: sim.now.toISOString() },
    });
    sim.succeed(SOFT_DELETE, { websiteId: 4711, found: true });
    const redelivered = resultEvent(first, first.commandId, { ok: true, outputs: {} }, sim.now);
    expect(sim.append(redelivered)).toEqual([]);
    completeBackup(sim);
    sim.succeed('cancel-1:mark-namespace');
    sim.succeed('cancel-1:cancellation-notice');
    expect(sim.advance(3600)).toEqual([]);

    reactivate(sim);
    sim.succeed(RESTORE);
    sim.advance(3600);
    cancel(sim);
    const second = sim.run('cancel-2:soft-delete-website');
    expect(second.commandId).not.toBe(first.commandId);
    expect(second.params).toEqual({ websiteId: 4711, deletedAt: sim.now.toISOString() });
    expect(recordCommands(sim)).toEqual([
      'website',
      ACTIVATE,
      SOFT_DELETE,
      RESTORE,
      'cancel-2:soft-delete-website',
    ]);
  });

  it('is left alone by a cancellation during provisioning, which rolls the tenant back instead', () => {
    const sim = new TenantSim();
    sim.request();
    while (sim.state.steps['website']?.status !== 'succeeded') {
      const step = GATING_STEPS.find((s) => sim.state.steps[s.name]?.status === 'running');
      if (!step) throw new Error('stuck');
      sim.succeed(step.name);
    }
    cancel(sim);
    for (let i = 0; sim.state.status === 'rolling_back' && i < 50; i++) {
      for (const key of sim.runningSteps()) sim.succeed(key);
    }
    expect(sim.state.status).toBe('cancelled');
    expect(recordCommands(sim)).toEqual(['website', 'compensate:website']);
  });

  it.each<[string, (sim: TenantSim) => void, number, string]>([
    ['succeeded', (sim) => sim.succeed(SOFT_DELETE), 1, 'succeeded'],
    [
      'succeeded on its retry',
      (sim) => {
        sim.fail(SOFT_DELETE, TRANSIENT);
        expect(sim.run(SOFT_DELETE).status).toBe('running');
        expect(sim.state.steps[RESTORE]).toBeUndefined();
        sim.succeed(SOFT_DELETE);
      },
      2,
      'succeeded',
    ],
    ['failed for good', (sim) => sim.fail(SOFT_DELETE, PERMANENT), 1, 'parked'],
    [
      'timed out on every attempt',
      (sim) => {
        sim.advance(60);
        expect(sim.run(SOFT_DELETE)).toMatchObject({ status: 'running', attempt: 2 });
        expect(sim.state.steps[RESTORE]).toBeUndefined();
        sim.advance(60);
      },
      2,
      'parked',
    ],
  ])(
    'restores the record after a reactivation once the soft delete %s, never before',
    (_, end, attempts, how) => {
      const sim = activeTenant();
      cancel(sim);
      expect(startedSteps(reactivate(sim))).not.toContain(RESTORE);
      expect(sim.state.status).toBe('active');
      end(sim);
      expect(sim.run(SOFT_DELETE)).toMatchObject({ status: how, attempt: attempts });
      expect(sim.run(RESTORE)).toMatchObject({
        status: 'running',
        commandType: 'RestoreWebsiteRecord',
        service: 'notification',
        params: { websiteId: 4711 },
      });
      sim.succeed(RESTORE, { websiteId: 4711, found: true });
      expect(recordCommands(sim).filter((step) => step === RESTORE)).toHaveLength(1);
    },
  );

  it('restores even when the orchestrator had not yet soft-deleted (reactivated before it decided)', () => {
    const sim = activeTenant();
    sim.fold(lifecycleEvent('CancellationRequested', cancellationData(sim), sim.now));
    expect(startedSteps(reactivate(sim))).toContain(RESTORE);
    expect(sim.state.steps[SOFT_DELETE]).toBeUndefined();
  });

  it.each<[string, (sim: TenantSim) => void, string]>([
    ['succeeded', (sim) => sim.succeed(RESTORE), 'succeeded'],
    ['failed for good', (sim) => sim.fail(RESTORE, PERMANENT), 'parked'],
  ])('soft-deletes for a new cancellation only once the last restore %s', (_, end, how) => {
    const sim = activeTenant();
    cancel(sim);
    sim.succeed(SOFT_DELETE);
    reactivate(sim);
    expect(sim.run(RESTORE).status).toBe('running');
    cancel(sim);
    expect(sim.state.cancellation?.cycle).toBe(2);
    expect(sim.state.steps['cancel-2:soft-delete-website']).toBeUndefined();
    end(sim);
    expect(sim.run(RESTORE).status).toBe(how);
    expect(sim.run('cancel-2:soft-delete-website')).toMatchObject({ status: 'running', attempt: 1 });
  });

  it.each<[string, (sim: TenantSim) => void, string]>([
    ['still running', () => undefined, 'running'],
    ['parked', (sim) => sim.fail(SOFT_DELETE, PERMANENT), 'parked'],
  ])(
    'purges on time while the soft delete is %s, and a late soft delete finds nothing',
    (_, settle, status) => {
      const sim = activeTenant();
      const { deletionDate } = cancel(sim, 30 / DAY); // due before the soft delete's deadline
      sim.succeed('cancel-1:mark-namespace');
      sim.succeed('cancel-1:cancellation-notice');
      settle(sim);
      completeBackup(sim);
      expect(types(atDeletionDate(sim, deletionDate))).toContain('PurgeStarted');
      expect(sim.run(SOFT_DELETE).status).toBe(status);
      if (status === 'running')
        expect(sim.succeed(SOFT_DELETE, { websiteId: 4711, found: false })).toEqual([]);
      while (sim.state.status === 'purging') {
        for (const key of sim.runningSteps().filter((k) => k.startsWith('purge:'))) sim.succeed(key);
      }
      expect(sim.state.status).toBe('purged');
      expect(recordCommands(sim).filter((step) => step === SOFT_DELETE)).toHaveLength(1);
      expect(recordCommands(sim).at(-1)).toBe('purge:website');
    },
  );
});

describe('tier change', () => {
  const TIER_LIMIT_STEPS = [
    ['tier-1:database-limits', 'UpdateDatabaseLimits'],
    ['tier-1:broker-limits', 'UpdateBrokerLimits'],
    ['tier-1:storage-quota', 'UpdateStorageQuota'],
  ] as const;

  it('updates the quota, then records the new tier', () => {
    const sim = activeTenant();
    const decisions = sim.emit('TierChangeRequested', {
      fromTier: 'premium',
      toTier: 'business',
      requestedBy: 'b',
    });
    expect(decisions).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          step: 'tier-1:update-quota',
          commandType: 'UpdateQuota',
          params: { fromTier: 'premium', toTier: 'business' },
        }),
      }),
    ]);
    expect(sim.state.tenant?.tier).toBe('premium');
    const limits = sim.succeed('tier-1:update-quota');
    expect(limits).toEqual(
      TIER_LIMIT_STEPS.map(([step, commandType]) =>
        expect.objectContaining({
          type: 'StepStarted',
          data: expect.objectContaining({
            step,
            commandType,
            params: { fromTier: 'premium', toTier: 'business' },
          }),
        }),
      ),
    );
    expect(sim.succeed('tier-1:database-limits')).toEqual([]);
    expect(sim.succeed('tier-1:storage-quota')).toEqual([]);
    expect(sim.state.tenant?.tier).toBe('premium');
    const changed = sim.succeed('tier-1:broker-limits');
    expect(changed).toEqual([
      expect.objectContaining({ type: 'TierChanged', data: { fromTier: 'premium', toTier: 'business' } }),
    ]);
    expect(sim.state.tenant?.tier).toBe('business');
  });

  it('changes no limit when the quota update is refused', () => {
    const sim = activeTenant();
    sim.emit('TierChangeRequested', { fromTier: 'premium', toTier: 'standard', requestedBy: 'b' });
    sim.fail('tier-1:update-quota', { code: 'K8S.QUOTA_BELOW_USAGE', message: 'x', retryable: false });
    expect(Object.keys(sim.state.steps).filter((key) => key.startsWith('tier-'))).toEqual([
      'tier-1:update-quota',
    ]);
  });

  it("applies a downgrade's lower limits once its quota fits, and retries a limit that failed", () => {
    const sim = activeTenant();
    sim.emit('TierChangeRequested', { fromTier: 'premium', toTier: 'standard', requestedBy: 'b' });
    expect(startedSteps(sim.succeed('tier-1:update-quota'))).toEqual(TIER_LIMIT_STEPS.map(([step]) => step));
    const retried = sim.fail('tier-1:broker-limits', { code: 'BROKER.X', message: 'x', retryable: true });
    expect(retried).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ step: 'tier-1:broker-limits', attempt: 2 }),
      }),
    ]);
    sim.succeed('tier-1:database-limits');
    sim.succeed('tier-1:storage-quota');
    expect(types(sim.succeed('tier-1:broker-limits'))).toEqual(['TierChanged']);
    expect(sim.state.tenant?.tier).toBe('standard');
  });

  it('records the tier with an alert when a limit fails for good, and an operator retry applies it', () => {
    const sim = activeTenant();
    sim.emit('TierChangeRequested', { fromTier: 'premium', toTier: 'business', requestedBy: 'b' });
    sim.succeed('tier-1:update-quota');
    sim.succeed('tier-1:broker-limits');
    sim.succeed('tier-1:storage-quota');
    const failing = { code: 'DATABASE.X', message: 'x', retryable: true };
    sim.fail('tier-1:database-limits', failing);
    const parked = sim.fail('tier-1:database-limits', failing);
    expect(types(parked)).toEqual(['StepParked', 'TierChanged']);
    expect(sim.state.tenant?.tier).toBe('business');
    expect(sim.state.tierChange?.outcome).toBe('changed');
    const retry = sim.emit('OperatorRetryRequested', {
      step: 'tier-1:database-limits',
      reason: 'MySQL back',
      operator: 'ops',
    });
    expect(retry).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({
          step: 'tier-1:database-limits',
          commandType: 'UpdateDatabaseLimits',
          params: { fromTier: 'premium', toTier: 'business' },
        }),
      }),
    ]);
    expect(sim.succeed('tier-1:database-limits')).toEqual([]);
  });

  it('keeps the previous tier when the quota update is refused, and accepts a later request', () => {
    const sim = activeTenant();
    sim.emit('TierChangeRequested', { fromTier: 'premium', toTier: 'standard', requestedBy: 'b' });
    const refused = sim.fail('tier-1:update-quota', {
      code: 'K8S.QUOTA_BELOW_USAGE',
      message: 'x',
      retryable: false,
    });
    expect(refused).toEqual([]);
    expect(sim.state.tenant?.tier).toBe('premium');
    expect(sim.state.status).toBe('active');
    expect(sim.state.tierChange?.outcome).toBe('refused');
    const next = sim.emit('TierChangeRequested', {
      fromTier: 'premium',
      toTier: 'business',
      requestedBy: 'b',
    });
    expect(startedSteps(next)).toEqual(['tier-2:update-quota']);
  });

  it('ignores a tier change request of a tenant that is not active', () => {
    const sim = new TenantSim();
    sim.request();
    expect(
      sim.emit('TierChangeRequested', { fromTier: 'premium', toTier: 'business', requestedBy: 'b' }),
    ).toEqual([]);
  });
});

describe('suspension', () => {
  it('suspends and resumes the workloads', () => {
    const sim = activeTenant();
    expect(
      startedSteps(sim.emit('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' })),
    ).toEqual(['workloads-1:suspend']);
    expect(sim.state.status).toBe('active');
    sim.succeed('workloads-1:suspend');
    expect(sim.state.status).toBe('suspended');
    expect(startedSteps(sim.emit('ResumptionRequested', { requestedBy: 'billing' }))).toEqual([
      'workloads-2:resume',
    ]);
    sim.succeed('workloads-2:resume');
    expect(sim.state.status).toBe('active');
  });

  it('applies a resumption asked before the suspension landed after it, in order', () => {
    const sim = activeTenant();
    sim.emit('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' });
    expect(startedSteps(sim.emit('ResumptionRequested', { requestedBy: 'billing' }))).toEqual([]);
    expect(reportedStatus(sim.state)).toBe('suspending');
    expect(startedSteps(sim.succeed('workloads-1:suspend'))).toEqual(['workloads-2:resume']);
    expect(sim.state.status).toBe('suspended');
    expect(reportedStatus(sim.state)).toBe('resuming');
    sim.succeed('workloads-2:resume');
    expect(reportedStatus(sim.state)).toBe('active');
  });

  it('drops a queued resumption when the suspension fails for good: the workloads never went down', () => {
    const sim = activeTenant();
    sim.emit('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' });
    sim.emit('ResumptionRequested', { requestedBy: 'billing' });
    sim.fail('workloads-1:suspend', PERMANENT);
    expect(reportedStatus(sim.state)).toBe('active');
    expect(sim.runningSteps()).toEqual([]);
  });

  it('stays active and raises an alert when the suspension keeps failing', () => {
    const sim = activeTenant();
    sim.emit('SuspensionRequested', { reason: 'unpaid', requestedBy: 'billing' });
    const parked = sim.fail('workloads-1:suspend', PERMANENT);
    expect(types(parked)).toEqual(['StepParked']);
    expect(sim.state.status).toBe('active');
    expect(sim.state.workloadsOperation?.outcome).toBe('failed');
  });
});

describe('decide', () => {
  it('returns nothing before the tenant was requested', () => {
    const sim = new TenantSim();
    expect(decide(sim.state, sim.now, TEST_CONFIG)).toEqual([]);
  });
});

/**
 * Notices, marking and soft delete done, backup verified: only the deletion date (and the guardrails) stand
 * before the purge.
 */
function settleCancellation(sim: TenantSim): void {
  sim.succeed('cancel-1:mark-namespace');
  sim.succeed('cancel-1:cancellation-notice');
  sim.succeed('cancel-1:soft-delete-website');
  completeBackup(sim);
}

describe('purge guardrails as seen by the tenant decider', () => {
  const breakerOpen = (retryAt: string) => ({
    allowed: false as const,
    reason: { code: 'ORCHESTRATOR.PURGE_BREAKER_OPEN', message: 'paused', retryable: true },
    retryAt,
  });

  it('waits with one PurgeBlocked while the guardrails refuse, keeps the backup, and purges once allowed', () => {
    const sim = activeTenant();
    const { deletionDate } = cancel(sim, 1);
    settleCancellation(sim);
    const retryAt = new Date(Date.parse(deletionDate) + 3600_000).toISOString();
    sim.purge = breakerOpen(retryAt);
    const blocked = atDeletionDate(sim, deletionDate);
    expect(types(blocked)).toEqual(['PurgeBlocked']);
    expect(blocked[0].data).toEqual({ reason: sim.purge.allowed ? null : sim.purge.reason, retryAt });
    expect(sim.state.status).toBe('deprovisioning');
    // Waiting: no new alert, no new backup round (the final one, 2, stands), until the retry falls due.
    expect(sim.advance(600)).toEqual([]);
    expect(sim.state.cancellation?.backup.round).toBe(2);
    expect(nextDeadline(sim.state, TEST_CONFIG)?.toISOString()).toBe(retryAt);
    // Still refused when due: alerted again, still no purge and still the same verified backup.
    const later = new Date(Date.parse(retryAt) + 3600_000).toISOString();
    sim.purge = breakerOpen(later);
    expect(types(sim.advanceTo(retryAt))).toEqual(['PurgeBlocked']);
    expect(sim.state.cancellation?.backup).toMatchObject({ round: 2, verified: true });
    // The operator reset the breaker: the purge starts at once, without waiting for the retry instant.
    sim.purge = { allowed: true };
    expect(types(sim.advance(1))).toEqual(['PurgeStarted', 'StepStarted']);
    expect(sim.state.status).toBe('purging');
  });

  it('takes one round only when the cancellation is effective at once (its backup began at the deletion date)', () => {
    const sim = activeTenant();
    const { deletionDate } = cancel(sim, 0);
    settleCancellation(sim);
    expect(sim.state.cancellation?.backup).toMatchObject({ round: 1, verified: true });
    expect(types(sim.advanceTo(deletionDate))).toEqual([]);
    expect(sim.state.status).toBe('purging');
    expect(sim.state.cancellation?.backup.round).toBe(1);
  });

  it('never asks for a purge before the backup is verified, whatever the guardrails say', () => {
    const sim = activeTenant();
    const { deletionDate } = cancel(sim, 1);
    sim.purge = breakerOpen(deletionDate);
    expect(types(sim.advanceTo(deletionDate))).not.toContain('PurgeBlocked');
    expect(types(sim.advanceTo(deletionDate))).not.toContain('PurgeStarted');
  });

  it('refuses a purge whose cancellation came from neither billing nor an operator with a reason', () => {
    for (const [requestedBy, reason] of [
      ['orchestrator', 'transient error'],
      ['operator:alice', '   '],
    ] as const) {
      const sim = activeTenant();
      const deletionDate = new Date(sim.now.getTime() + DAY * 1000).toISOString();
      sim.emit('CancellationRequested', {
        subscriptionId: PROFILE.subscriptionId,
        reason,
        requestedAt: sim.now.toISOString(),
        deletionDate,
        requestedBy,
      });
      settleCancellation(sim);
      const decisions = atDeletionDate(sim, deletionDate);
      expect(types(decisions)).toEqual(['PurgeBlocked']);
      expect(decisions[0].data).toMatchObject({ reason: { code: 'ORCHESTRATOR.PURGE_NOT_AUTHORISED' } });
      expect(sim.state.status).toBe('deprovisioning');
    }
  });

  it('purges after an operator cancellation that records a reason', () => {
    const sim = activeTenant();
    const deletionDate = new Date(sim.now.getTime() + DAY * 1000).toISOString();
    sim.emit('CancellationRequested', {
      subscriptionId: PROFILE.subscriptionId,
      reason: 'customer asked by phone, ticket 42',
      requestedAt: sim.now.toISOString(),
      deletionDate,
      requestedBy: 'operator:alice',
    });
    settleCancellation(sim);
    expect(types(atDeletionDate(sim, deletionDate))).toContain('PurgeStarted');
  });

  it('decides without a guard exactly as with a permissive one', () => {
    const sim = activeTenant();
    const { deletionDate } = cancel(sim, 1);
    settleCancellation(sim);
    const at = new Date(deletionDate);
    expect(decide(sim.state, at, TEST_CONFIG)).toEqual(decide(sim.state, at, TEST_CONFIG, { allowed: true }));
  });
});

describe('billing cancellation as admitted and as folded', () => {
  const cancellation = (sim: TenantSim) =>
    lifecycleEvent('CancellationRequested', cancellationData(sim), sim.now);
  const admit = (sim: TenantSim) =>
    admitSubscriptionCancelled(sim.state, { cancellation: cancellationData(sim), newerThanLastChange: true });

  it('takes a cancellation of an active tenant, and neither admits nor takes a second one during its grace period', () => {
    const sim = activeTenant();
    expect(admit(sim)).toEqual({ events: [{ type: 'CancellationRequested', data: cancellationData(sim) }] });
    expect(changesState(sim.state, cancellation(sim))).toBe(true);
    cancel(sim);
    expect(sim.state.status).toBe('deprovisioning');
    expect(admit(sim)).toEqual({ events: [] });
    expect(changesState(sim.state, cancellation(sim))).toBe(false);
  });
});
