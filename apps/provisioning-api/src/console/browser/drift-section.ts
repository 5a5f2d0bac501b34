/** The tenant page's Drift section: the last check, each open drift, and a repair approval for those that wait. */
import { clear, el, formatTime, humanize, $ } from './dom.js';
import { postJson, tenantPath } from './api.js';
import { openReasonDialog } from './dialogs.js';
import type { DriftEntryView, DriftView } from './types.js';

/** Asks for the operator's reason, recorded with DriftRepairApproved, before the repair runs. */
function openApproval(tenantId: string, drift: DriftEntryView, returnFocus: HTMLElement): void {
  openReasonDialog({
    title: 'Approve the repair of drift ' + drift.drift_id,
    context:
      'Tenant ' +
      tenantId +
      ': the orchestrator runs the provision command of ' +
      humanize(drift.resource) +
      ' again, then verifies it. Your name and reason are recorded in the tenant stream.',
    submitLabel: 'Approve repair',
    returnFocus: returnFocus,
    done: 'Repair of drift ' + drift.drift_id + ' approved for ' + tenantId + '.',
    send: (reason, key) =>
      postJson(
        tenantPath(tenantId, '/drift/' + encodeURIComponent(drift.drift_id) + '/repair'),
        { reason: reason },
        key,
      ),
  });
}

export function renderDrift(tenantId: string, drift: DriftView | undefined): void {
  const section = $('t-drift-section');
  section.hidden = !drift || (!drift.last_check && drift.open.length === 0);
  if (!drift) return;
  const last = drift.last_check;
  $('t-drift-last').textContent = last
    ? 'Last check ' +
      last.check +
      ': ' +
      humanize(last.status) +
      (last.finished_at ? ' at ' + formatTime(last.finished_at) : '') +
      ' (' +
      last.requested_by +
      '). Detected ' +
      drift.detected +
      ', repaired ' +
      drift.repaired +
      '.'
    : 'Never checked.';
  const list = clear($('t-drift'));
  for (const entry of drift.open) {
    const item = el(
      'li',
      { 'data-drift': entry.drift_id },
      el(
        'span',
        {},
        el('strong', { className: 'mono', text: entry.drift_id }),
        ' ' + humanize(entry.kind) + ' \u2014 ' + humanize(entry.status) + ' \u2014 ' + entry.code + ': ',
        entry.message,
        entry.error ? ' (last repair: ' + entry.error.code + ': ' + entry.error.message + ')' : '',
      ),
    );
    if (entry.status === 'awaiting_approval' || entry.status === 'repair_failed') {
      const button = el('button', { type: 'button', className: 'primary', text: 'Approve repair\u2026' });
      button.addEventListener('click', () => openApproval(tenantId, entry, button));
      item.append(button);
    }
    list.append(item);
  }
}
