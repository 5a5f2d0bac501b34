/** Operator actions: each asks for a reason in one modal dialog, recorded in the tenant's audit trail. */
import { ApiError, messageOf, postJson, session, statusOf, tenantPath } from './api.js';
import { $, announce } from './dom.js';
import { showPlan, type PlanRequest } from './plan-preview.js';

export interface ReasonDialog {
  title: string;
  context: string;
  submitLabel: string;
  returnFocus: HTMLElement | null;
  done: string;
  /** What the action would do, shown before the operator confirms (actions that delete or stop something). */
  plan?: PlanRequest;
  send(reason: string, idempotencyKey: string): Promise<unknown>;
}

function refusalMessage(error: unknown): string {
  const status = statusOf(error);
  if (status === 403) {
    return (
      'Refused: your role (' +
      (session.principal ? session.principal.role : 'unknown') +
      ') is read-only. Only operators may do this.'
    );
  }
  if (status === 409) return 'Not possible now: ' + messageOf(error);
  if (status === 400 && error instanceof ApiError && error.body && error.body.violations) {
    return error.body.violations.map((v) => v.messages.join(' ')).join(' ');
  }
  return 'The request failed: ' + messageOf(error);
}

export function openReasonDialog(options: ReasonDialog): void {
  const dialog = $<HTMLDialogElement>('reason-dialog');
  const form = $<HTMLFormElement>('reason-form');
  const reason = $<HTMLTextAreaElement>('reason');
  const errorNode = $('reason-error');
  const submit = $<HTMLButtonElement>('reason-submit');
  $('reason-title').textContent = options.title;
  $('reason-context').textContent = options.context;
  submit.textContent = options.submitLabel;
  reason.value = '';
  errorNode.textContent = '';
  // One key per opened dialog: a double submit or a network retry appends the action once.
  const idempotencyKey = crypto.randomUUID();
  const close = () => {
    dialog.close();
    if (options.returnFocus && options.returnFocus.isConnected) options.returnFocus.focus();
  };
  $('reason-cancel').onclick = close;
  form.onsubmit = async (submitEvent) => {
    submitEvent.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      errorNode.textContent = 'A reason is required.';
      reason.focus();
      return;
    }
    submit.disabled = true;
    try {
      await options.send(text, idempotencyKey);
      close();
      announce(options.done);
    } catch (error) {
      if (statusOf(error) !== 401) errorNode.textContent = refusalMessage(error);
    } finally {
      submit.disabled = false;
    }
  };
  void showPlan(options.plan);
  dialog.showModal();
  reason.focus();
}

export function openRetry(tenantId: string, step: string, returnFocus: HTMLElement): void {
  openReasonDialog({
    title: 'Retry ' + step,
    context:
      'Tenant ' +
      tenantId +
      ': the orchestrator re-issues the parked step. Your name and reason are recorded in the tenant stream.',
    submitLabel: 'Retry step',
    returnFocus: returnFocus,
    done: 'Retry of ' + step + ' requested for ' + tenantId + '.',
    send: (reason, key) => postJson(tenantPath(tenantId, '/retry'), { step: step, reason: reason }, key),
  });
}

export function openCancel(tenantId: string, returnFocus: HTMLElement): void {
  openReasonDialog({
    title: 'Cancel ' + tenantId,
    context: 'The grace period starts now; a final backup is taken and every resource is deleted at its end.',
    submitLabel: 'Cancel tenant',
    returnFocus: returnFocus,
    done: 'Cancellation of ' + tenantId + ' requested.',
    plan: { tenantId: tenantId, query: 'purge=true' },
    send: (reason, key) => postJson(tenantPath(tenantId, '/cancel'), { reason: reason }, key),
  });
}

export function openPurge(tenantId: string, returnFocus: HTMLElement): void {
  openReasonDialog({
    title: 'Purge ' + tenantId + ' now',
    context:
      'Ends the grace period early: a final backup is taken and verified, then every resource is deleted. ' +
      'The purge guardrails still apply.',
    submitLabel: 'Purge now',
    returnFocus: returnFocus,
    done: 'Purge of ' + tenantId + ' requested.',
    plan: { tenantId: tenantId, query: 'purge=true' },
    send: (reason, key) => postJson(tenantPath(tenantId, '/purge'), { reason: reason }, key),
  });
}
