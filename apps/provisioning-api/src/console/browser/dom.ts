/**
 * DOM helpers of the console (text only): data is only ever rendered through `textContent` and attributes,
 * never parsed as markup.
 */
import type { Level } from './types.js';

const STATE_GLYPH: Record<string, string> = {
  succeeded: '\u2713',
  running: '\u25CF',
  failed: '\u2715',
  timed_out: '\u231B',
  parked: '\u23F8',
  pending: '\u25CB',
};
const STATE_LEVEL: Record<string, Level> = {
  succeeded: 'ok',
  running: 'progress',
  failed: 'critical',
  timed_out: 'critical',
  parked: 'warning',
  pending: 'neutral',
};
export const TENANT_LEVEL: Record<string, Level> = {
  requested: 'progress',
  provisioning: 'progress',
  rolling_back: 'critical',
  active: 'ok',
  failed: 'critical',
  cancelled: 'neutral',
  deprovisioning: 'neutral',
  purged: 'neutral',
  suspended: 'neutral',
  suspending: 'progress',
  resuming: 'progress',
};

/** The page's element with this id (every id the scripts use is in the page the server renders). */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`console page has no element #${id}`);
  return node as T;
}

export type Attributes = Record<string, string | number | boolean | null | undefined>;
export type Child = Node | string | number | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attributes,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'className') node.className = String(value);
    else if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear<T extends Node>(node: T): T {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function humanize(value: unknown): string {
  return String(value).replace(/_/g, ' ');
}

export function badge(level: string, label: string, glyph?: string): HTMLSpanElement {
  const node = el('span', { className: 'badge level-' + level });
  if (glyph) node.append(el('span', { className: 'glyph', 'aria-hidden': 'true', text: glyph }));
  node.append(el('span', { text: label }));
  return node;
}

export function setBadge(node: HTMLElement, level: string, label: string): void {
  node.className = 'badge level-' + level;
  node.textContent = label;
}

export function stateBadge(state: string): HTMLSpanElement {
  return badge(TENANT_LEVEL[state] || 'neutral', humanize(state));
}

export function stepBadge(state: string): HTMLSpanElement {
  return badge(STATE_LEVEL[state] || 'neutral', humanize(state), STATE_GLYPH[state]);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  const minutes = Math.floor(ms / 60000);
  const seconds = Math.round((ms % 60000) / 1000);
  return minutes + ' min ' + String(seconds).padStart(2, '0') + ' s';
}

export function formatAge(iso: string): string {
  const ms = Date.now() - Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return minutes + ' min';
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return hours + ' h';
  return Math.floor(hours / 24) + ' days';
}

export function timeNode(iso: string, text: string): HTMLTimeElement {
  return el('time', { datetime: iso, title: iso, text: text });
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? String(iso)
    : date.toLocaleString(undefined, { hour12: false }) +
        '.' +
        String(date.getMilliseconds()).padStart(3, '0');
}

export function announce(message: string): void {
  const live = $('live');
  live.textContent = '';
  // A fresh text node makes screen readers announce a repeated message too.
  window.setTimeout(() => {
    live.textContent = message;
  }, 50);
}

export function focusHeading(id: string): void {
  const heading = document.getElementById(id);
  if (heading) heading.focus({ preventScroll: false });
}

/** Shows one view of the page (hiding the others) and marks its navigation link as the current page. */
export function showView(id: string): void {
  for (const view of document.querySelectorAll<HTMLElement>('.view')) view.hidden = view.id !== id;
  for (const link of document.querySelectorAll<HTMLElement>('[data-nav]')) {
    const current =
      (id === 'tenants-view' && link.dataset.nav === 'tenants') ||
      (id === 'attention-view' && link.dataset.nav === 'attention') ||
      (id === 'slo-view' && link.dataset.nav === 'slo') ||
      ((id === 'rollouts-view' || id === 'rollout-view') && link.dataset.nav === 'rollouts') ||
      (id === 'reconciliation-view' && link.dataset.nav === 'reconciliation');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}
