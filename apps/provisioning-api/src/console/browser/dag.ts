/** The tenant page's drawing of the provisioning DAG (columns of steps, SVG edges) and its other steps. */
import { $, clear, el, formatDuration, stepBadge } from './dom.js';
import type { DagNode, OtherStep } from './types.js';

interface Drawn {
  item: HTMLLIElement;
  node: DagNode;
}

export function renderDag(nodes: DagNode[]): void {
  const container = clear($('t-dag'));
  const columns: HTMLOListElement[] = [];
  const byStep = new Map<string, Drawn>();
  for (const node of nodes) {
    if (!columns[node.column]) {
      columns[node.column] = el('ol', {
        className: 'dag-column',
        'aria-label': 'Stage ' + (node.column + 1),
      });
    }
    const meta: string[] = [];
    if (node.duration_ms !== null) meta.push(formatDuration(node.duration_ms));
    if (node.attempt && node.attempt > 1) meta.push('attempt ' + node.attempt);
    const item = el(
      'li',
      { className: 'dag-node state-' + node.state, 'data-step': node.step, 'data-state': node.state },
      el('span', { className: 'name mono', text: node.step }),
      stepBadge(node.state),
      meta.length ? el('span', { className: 'meta', text: meta.join(' \u00B7 ') }) : null,
      node.error
        ? el('span', { className: 'meta', text: node.error.code + ': ' + node.error.message })
        : null,
      node.drawn_after.length
        ? el('span', { className: 'meta', text: 'after ' + node.drawn_after.join(', ') })
        : null,
    );
    byStep.set(node.step, { item: item, node: node });
    columns[node.column].append(item);
  }
  for (const column of columns) if (column) container.append(column);
  drawEdges(container, byStep);
}

function drawEdges(container: HTMLElement, byStep: Map<string, Drawn>): void {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', 'edges');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('width', String(container.scrollWidth));
  svg.setAttribute('height', String(container.scrollHeight));
  const origin = container.getBoundingClientRect();
  for (const { item, node } of byStep.values()) {
    for (const dep of node.drawn_after) {
      const from = byStep.get(dep);
      if (!from) continue;
      const a = from.item.getBoundingClientRect();
      const b = item.getBoundingClientRect();
      const x1 = a.right - origin.left + container.scrollLeft;
      const y1 = a.top + a.height / 2 - origin.top;
      const x2 = b.left - origin.left + container.scrollLeft;
      const y2 = b.top + b.height / 2 - origin.top;
      const mid = (x1 + x2) / 2;
      const path = document.createElementNS(NS, 'path');
      path.setAttribute(
        'd',
        'M' + x1 + ',' + y1 + ' C' + mid + ',' + y1 + ' ' + mid + ',' + y2 + ' ' + x2 + ',' + y2,
      );
      if (from.node.state === 'succeeded') path.setAttribute('class', 'done');
      svg.append(path);
    }
  }
  container.prepend(svg);
}

export function renderOther(steps: OtherStep[]): void {
  $('t-other-section').hidden = steps.length === 0;
  const body = clear($<HTMLTableElement>('t-other').tBodies[0]);
  for (const step of steps) {
    body.append(
      el(
        'tr',
        { 'data-step': step.step },
        el('td', { className: 'mono', text: step.step }),
        el('td', { text: step.kind }),
        el('td', {}, stepBadge(step.state)),
        el('td', { text: String(step.attempt) }),
        el('td', { text: formatDuration(step.duration_ms) }),
        el('td', { text: step.error ? step.error.code + ': ' + step.error.message : '' }),
      ),
    );
  }
}
