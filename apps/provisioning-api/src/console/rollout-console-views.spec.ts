import { randomUUID } from 'node:crypto';
import { rolloutStream, type FailureReason, type RolloutEventData } from '@app/contracts';
import { MemoryEventStore } from '@app/event-store';
import { foldRollout, type RolloutPayload, type RolloutStatus } from '@app/lifecycle';
import { rolloutEvent, Rollouts, rolloutView, type RolloutView } from '@app/rollouts';
import { UseCaseError } from '@app/tenancy';
import pino from 'pino';
import { consolePage } from './assets/page';
import { CONSOLE_CSS } from './assets/styles';
import {
  rolloutActions,
  rolloutConsoleDetail,
  rolloutConsoleItem,
  type RolloutAction,
} from './rollout-console-views';

const ROLLOUT_ID = '7d444840-9dc0-11d1-b245-5ffdce74fad2';
const AT = '2025-06-01T10:00:00.000Z';
const [A, B, C, D] = ['alpha-shop-a00001', 'bravo-shop-a00002', 'charlie-shop-a00003', 'delta-shop-a00004'];
const BROKEN: FailureReason = {
  code: 'K8S.VERIFICATION_FAILED',
  message: 'deployment api-gateway has 0 of 2 replicas available',
  retryable: false,
};

const started: RolloutEventData['RolloutStarted'] = {
  rolloutId: ROLLOUT_ID,
  imageTag: 'v2.4.0',
  selection: { tiers: ['premium', 'business'], regions: ['eu-west'] },
  canarySize: 1,
  batchSize: 2,
  waves: [[A], [B, C], [D]],
  requestedBy: 'operator:olivia',
  reason: 'release 2.4',
  startedAt: AT,
};

const wave = (n: number): RolloutPayload => ({
  type: 'RolloutWaveStarted',
  data: { wave: n, tenantIds: started.waves[n], startedAt: AT },
});
const begin = (n: number, tenantId: string, attempt = 1): RolloutPayload => ({
  type: 'RolloutTenantStarted',
  data: { wave: n, tenantId, attempt, requestEventId: randomUUID(), startedAt: AT },
});
const succeed = (
  n: number,
  tenantId: string,
  outcome: 'applied' | 'already-applied' = 'applied',
): RolloutPayload => ({
  type: 'RolloutTenantSucceeded',
  data: { wave: n, tenantId, attempt: 1, outcome, succeededAt: AT },
});
const decision = (type: 'RolloutPaused' | 'RolloutResumed' | 'RolloutAborted', reason: string) =>
  ({
    type,
    data: {
      requestedBy: 'operator:carol',
      reason,
      [{ RolloutPaused: 'pausedAt', RolloutResumed: 'resumedAt', RolloutAborted: 'abortedAt' }[type]]: AT,
    },
  }) as RolloutPayload;

/** The canary applied, then the batch: B failed (halting the rollout), C still in flight, D not started. */
const HALTED: RolloutPayload[] = [
  wave(0),
  begin(0, A),
  succeed(0, A),
  wave(1),
  begin(1, B),
  begin(1, C),
  { type: 'RolloutTenantFailed', data: { wave: 1, tenantId: B, attempt: 1, error: BROKEN, failedAt: AT } },
  { type: 'RolloutHalted', data: { wave: 1, tenantId: B, error: BROKEN, haltedAt: AT } },
];

function view(...after: RolloutPayload[]): RolloutView {
  const events = [{ type: 'RolloutStarted', data: started }, ...after];
  return rolloutView(foldRollout(events.map((event, revision) => ({ ...event, revision })))!);
}

describe('rollout console views', () => {
  it('lists a rollout with its state, image tag, wave and progress counts', () => {
    expect(rolloutConsoleItem(view())).toEqual({
      rollout_id: ROLLOUT_ID,
      image_tag: 'v2.4.0',
      status: 'running',
      badge: { level: 'progress', label: 'Running' },
      requested_by: 'operator:olivia',
      reason: 'release 2.4',
      started_at: AT,
      completed_at: null,
      wave: { current: null, total: 3, label: 'Not started' },
      progress: {
        pending: 4,
        in_progress: 0,
        succeeded: 0,
        skipped: 0,
        failed: 0,
        total: 4,
        done: 0,
        percent: 0,
      },
      halt: null,
      actions: ['pause', 'abort'],
    });
    const batch = rolloutConsoleItem(view(wave(0), begin(0, A), succeed(0, A), wave(1), begin(1, B)));
    expect(batch.wave).toEqual({ current: 1, total: 3, label: 'Batch 1 (wave 2 of 3)' });
    expect(batch.progress).toMatchObject({ pending: 2, in_progress: 1, succeeded: 1, done: 1, percent: 25 });
  });

  it('names the failing tenant and its error when halted, and offers resume and abort', () => {
    const item = rolloutConsoleItem(view(...HALTED));
    expect(item).toMatchObject({
      status: 'halted',
      badge: { level: 'critical', label: `Halted: ${B} failed` },
      halt: { wave: 1, tenant_id: B, code: BROKEN.code, message: BROKEN.message, halted_at: AT },
      actions: ['resume', 'abort'],
    });
    expect(item.progress).toMatchObject({ failed: 1, in_progress: 1, pending: 1, succeeded: 1, percent: 25 });
  });

  it('shows each wave and each tenant: pending, in progress, succeeded, failed with its error', () => {
    const detail = rolloutConsoleDetail(view(...HALTED));
    expect(detail).toMatchObject({
      selection: 'Active tenants of tiers premium, business; regions eu-west',
      canary_size: 1,
      batch_size: 2,
      decisions: [],
    });
    expect(
      detail.waves.map((w) => ({
        label: w.label,
        badge: w.badge,
        tenants: w.tenants.map((t) => [t.tenant_id, t.status, t.badge.label, t.detail]),
      })),
    ).toEqual([
      {
        label: 'Canary',
        badge: { level: 'ok', label: 'Done' },
        tenants: [[A, 'succeeded', 'Succeeded', 'deployed with the tag and verified healthy']],
      },
      {
        label: 'Batch 1',
        badge: { level: 'critical', label: '1 failed' },
        tenants: [
          [B, 'failed', 'Failed', `${BROKEN.code}: ${BROKEN.message}`],
          [C, 'in_progress', 'In progress', ''],
        ],
      },
      {
        label: 'Batch 2',
        badge: { level: 'neutral', label: 'Not started' },
        tenants: [[D, 'pending', 'Pending', '']],
      },
    ]);
    expect(detail.waves[1].tenants[0]).toMatchObject({ badge: { level: 'critical' }, finished_at: AT });
  });

  it('after a resume, shows the failed tenant waiting for its retry, then its second attempt', () => {
    const resumed = [...HALTED, decision('RolloutResumed', 'replicas fixed')];
    const waiting = rolloutConsoleDetail(view(...resumed));
    expect(waiting).toMatchObject({ status: 'running', halt: null, actions: ['pause', 'abort'] });
    expect(waiting.waves[1].tenants[0]).toMatchObject({
      status: 'pending',
      attempt: 1,
      badge: { level: 'neutral', label: 'Pending retry' },
      // The error of the attempt that failed stays visible until the next one starts.
      detail: `${BROKEN.code}: ${BROKEN.message}`,
    });
    expect(waiting.decisions).toEqual([
      { action: 'resumed', by: 'operator:carol', reason: 'replicas fixed', at: AT },
    ]);
    const retried = rolloutConsoleDetail(view(...resumed, begin(1, B, 2)));
    expect(retried.waves[1].tenants[0]).toMatchObject({
      status: 'in_progress',
      attempt: 2,
      badge: { level: 'progress', label: 'In progress (attempt 2)' },
      detail: '',
    });
  });

  it('marks a completed rollout done at 100 %, a tenant already on the tag, and offers nothing', () => {
    const completed = rolloutConsoleDetail(
      view(
        wave(0),
        begin(0, A),
        succeed(0, A, 'already-applied'),
        wave(1),
        begin(1, B),
        begin(1, C),
        succeed(1, B),
        {
          type: 'RolloutTenantSkipped',
          data: { wave: 1, tenantId: C, reason: 'tenant cancelled', skippedAt: AT },
        },
        wave(2),
        begin(2, D),
        succeed(2, D),
        { type: 'RolloutCompleted', data: { succeeded: 3, skipped: 1, completedAt: AT } },
      ),
    );
    expect(completed).toMatchObject({
      status: 'completed',
      badge: { level: 'ok', label: 'Completed' },
      completed_at: AT,
      wave: { current: 2, total: 3, label: 'All 3 done' },
      progress: { done: 4, total: 4, percent: 100, skipped: 1 },
      actions: [],
    });
    expect(completed.waves[0].tenants[0].detail).toBe('already ran the tag');
    expect(completed.waves[1].tenants[1]).toMatchObject({
      status: 'skipped',
      badge: { level: 'neutral', label: 'Skipped' },
      detail: 'tenant cancelled',
    });
  });

  it('a paused rollout offers resume and abort; an aborted one nothing', () => {
    const paused = rolloutConsoleItem(view(wave(0), begin(0, A), decision('RolloutPaused', 'hold')));
    expect(paused).toMatchObject({
      badge: { level: 'warning', label: 'Paused' },
      actions: ['resume', 'abort'],
    });
    const aborted = rolloutConsoleItem(view(decision('RolloutAborted', 'superseded')));
    expect(aborted).toMatchObject({ badge: { level: 'neutral', label: 'Aborted' }, actions: [] });
    expect(rolloutConsoleDetail(view()).selection).toBe(
      'Active tenants of tiers premium, business; regions eu-west',
    );
    expect(
      rolloutConsoleDetail(
        rolloutView(
          foldRollout([{ type: 'RolloutStarted', data: { ...started, selection: {} }, revision: 0 }])!,
        ),
      ).selection,
    ).toBe('Every active tenant');
  });
});

describe('rollout console actions', () => {
  const ALL: RolloutAction[] = ['pause', 'resume', 'abort'];
  const BY_STATUS: Record<RolloutStatus, RolloutPayload[]> = {
    running: [],
    paused: [decision('RolloutPaused', 'hold')],
    halted: HALTED,
    aborted: [decision('RolloutAborted', 'stop')],
    completed: [
      wave(0),
      begin(0, A),
      succeed(0, A),
      wave(1),
      begin(1, B),
      begin(1, C),
      succeed(1, B),
      succeed(1, C),
      wave(2),
      begin(2, D),
      succeed(2, D),
      { type: 'RolloutCompleted', data: { succeeded: 4, skipped: 0, completedAt: AT } },
    ],
  };

  /** Whether the rollouts use case accepts `action` on a rollout in `status` (a fresh store each time). */
  async function accepted(status: RolloutStatus, action: RolloutAction): Promise<boolean> {
    const store = new MemoryEventStore({ logger: pino({ level: 'silent' }) });
    const payloads: RolloutPayload[] = [{ type: 'RolloutStarted', data: started }, ...BY_STATUS[status]];
    await store.append(
      rolloutStream(ROLLOUT_ID),
      payloads.map((payload) => rolloutEvent(ROLLOUT_ID, payload, randomUUID(), new Date(AT), 'rollout')),
      { expectedRevision: 'no_stream' },
    );
    const state = foldRollout(await store.readStream(rolloutStream(ROLLOUT_ID)));
    expect(state?.status).toBe(status);
    const rollouts = new Rollouts(store, () => new Date(AT), randomUUID);
    try {
      await rollouts.decide({ rolloutId: ROLLOUT_ID, action, reason: 'r', operator: 'carol' });
      return true;
    } catch (error) {
      if (error instanceof UseCaseError && error.code === 'ROLLOUT.ACTION_REFUSED') return false;
      throw error;
    }
  }

  it.each(Object.keys(BY_STATUS) as RolloutStatus[])(
    'offers, when %s, exactly the actions the rollouts use case accepts',
    async (status) => {
      const acceptedActions: RolloutAction[] = [];
      for (const action of ALL) if (await accepted(status, action)) acceptedActions.push(action);
      expect(rolloutActions(status).slice().sort()).toEqual(acceptedActions.sort());
    },
  );
});

describe('rollout console page', () => {
  it('has its navigation link, list and detail views with the action buttons, and its styles', () => {
    const page = consolePage('v1');
    expect(page).toContain('<a href="#/rollouts" data-nav="rollouts">Rollouts</a>');
    expect(page).toContain(
      '<section id="rollouts-view" class="view" hidden aria-labelledby="rollouts-title">',
    );
    expect(page).toContain('<section id="rollout-view" class="view" hidden aria-labelledby="rollout-title">');
    for (const id of [
      'rollouts-table',
      'rollouts-summary',
      'r-state',
      'r-facts',
      'r-halt',
      'r-progress',
      'r-waves',
      'r-pause',
      'r-resume',
      'r-abort',
      'r-decisions',
    ]) {
      expect(page).toContain(`id="${id}"`);
    }
    expect(CONSOLE_CSS).toContain('.rollout-progress progress');
  });
});
