/**
 * The tenant page's re-provisioning: the action when the server says the lifecycle admits it (a failed run
 * whose rollback is complete), why not otherwise, and the runs that failed before the current one.
 */
import { postJson, session, tenantPath } from './api.js';
import { openReasonDialog } from './dialogs.js';
import { $, clear, el, focusHeading, formatTime, humanize, timeNode } from './dom.js';
import type { FailedRunView, TenantView } from './types.js';

interface ReprovisionAnswer {
  run: number;
  duplicate: boolean;
}

function openReprovision(tenantId: string, nextRun: number, returnFocus: HTMLElement): void {
  openReasonDialog({
    title: 'Re-provision ' + tenantId,
    context:
      'Starts provisioning run ' +
      nextRun +
      ' of the same tenant id, subscription and domain: every step runs anew. The failed run stays in the ' +
      'history. Your name and reason are recorded in the tenant stream.',
    submitLabel: 'Re-provision',
    returnFocus: returnFocus,
    done: 'Re-provisioning of ' + tenantId + ' requested: run ' + nextRun + ' starts.',
    send: async (reason, key) => {
      const answer = await postJson<ReprovisionAnswer>(
        tenantPath(tenantId, '/reprovision'),
        { reason: reason },
        key,
      );
      $('t-actions-hint').textContent =
        'Run ' +
        answer.run +
        (answer.duplicate ? ' was already requested' : ' requested') +
        ': its steps appear above as they run.';
      return answer;
    },
  });
}

/** Shows the button when the server offers re-provisioning, and the refusal it would give otherwise. */
export function renderReprovision(tenantId: string, view: TenantView): void {
  const button = $<HTMLButtonElement>('t-reprovision');
  const actions = view.actions;
  const offered = !!actions && actions.available.includes('reprovision');
  const readOnly = !!session.principal && session.principal.role === 'auditor';
  const wasFocused = document.activeElement === button;
  button.hidden = !offered || readOnly;
  if (actions) button.onclick = () => openReprovision(tenantId, actions.next_run, button);
  // The run just requested hides the button the dialog returned to: keep the keyboard in the section.
  if (wasFocused && button.hidden) focusHeading('t-actions-title');
  if (offered) {
    $('t-actions-hint').textContent = readOnly
      ? 'Its provisioning failed and was rolled back; only operators may provision it again (your role is read-only).'
      : 'Its provisioning failed and was rolled back: re-provisioning starts run ' +
        actions.next_run +
        ' under the same tenant id and domain.';
  } else if (actions && actions.reprovision_blocked) {
    $('t-actions-hint').textContent =
      'Not yet possible to provision it again: ' + actions.reprovision_blocked;
  }
  renderFailedRuns(view.tenant.failed_runs || []);
}

function failedRunItem(failed: FailedRunView): HTMLLIElement {
  const reason = failed.failure_reason;
  const steps = failed.steps.map((step) => step.step + ' ' + humanize(step.status)).join(', ');
  return el(
    'li',
    { className: 'kind-rollback', 'data-run': failed.run },
    el(
      'div',
      { className: 'event-head' },
      el('strong', { text: 'Run ' + failed.run }),
      el(
        'span',
        {},
        reason
          ? 'failed at step ' + reason.step + ': ' + reason.code + ' \u2014 ' + reason.message
          : 'failed',
      ),
    ),
    el(
      'p',
      {},
      'Provisioned again ',
      timeNode(failed.reprovisioned_at, formatTime(failed.reprovisioned_at)),
      ' by ' + failed.reprovisioned_by + (failed.reason ? ': ' + failed.reason : '.'),
    ),
    steps
      ? el('details', {}, el('summary', { text: 'Its steps' }), el('p', { className: 'mono', text: steps }))
      : null,
  );
}

function renderFailedRuns(runs: FailedRunView[]): void {
  $('t-runs-section').hidden = runs.length === 0;
  const list = clear($('t-runs'));
  for (const failed of runs) list.append(failedRunItem(failed));
}
