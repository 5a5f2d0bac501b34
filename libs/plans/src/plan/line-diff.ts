/**
 * A unified diff (`diff -u` hunks, three lines of context) of two texts, by the longest common subsequence of
 * their lines. The rendered objects are a few hundred lines at most, so the quadratic table is small.
 */

type Op = { kind: ' ' | '-' | '+'; line: string; before: number; after: number };

const CONTEXT = 3;

function operations(before: string[], after: string[]): Op[] {
  const n = before.length;
  const m = after.length;
  // lcs[i][j]: length of the longest common subsequence of before[i..] and after[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = before[i] === after[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      ops.push({ kind: ' ', line: before[i], before: i++, after: j++ });
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      // Removals before additions, as diff prints a replaced line.
      ops.push({ kind: '-', line: before[i], before: i++, after: j });
    } else {
      ops.push({ kind: '+', line: after[j], before: i, after: j++ });
    }
  }
  return ops;
}

function lines(text: string): string[] {
  if (text === '') return [];
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
}

function range(start: number, count: number): string {
  // diff -u numbers lines from 1, and an empty side by the line before it.
  return `${count === 0 ? start : start + 1},${count}`;
}

/** The hunks of `diff -u before after`, headed by `--- label`/`+++ label`; '' when the texts are equal. */
export function unifiedDiff(
  before: string,
  after: string,
  labels: { before: string; after: string },
): string {
  const ops = operations(lines(before), lines(after));
  const changed = ops.map((op, index) => (op.kind === ' ' ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return '';
  const hunks: string[] = [];
  let start = 0;
  while (start < changed.length) {
    let end = start;
    while (end + 1 < changed.length && changed[end + 1] - changed[end] <= 2 * CONTEXT + 1) end++;
    const from = Math.max(0, changed[start] - CONTEXT);
    const to = Math.min(ops.length - 1, changed[end] + CONTEXT);
    const slice = ops.slice(from, to + 1);
    const beforeCount = slice.filter((op) => op.kind !== '+').length;
    const afterCount = slice.filter((op) => op.kind !== '-').length;
    hunks.push(
      `@@ -${range(slice[0].before, beforeCount)} +${range(slice[0].after, afterCount)} @@\n` +
        slice.map((op) => `${op.kind}${op.line}\n`).join(''),
    );
    start = end + 1;
  }
  return `--- ${labels.before}\n+++ ${labels.after}\n${hunks.join('')}`;
}
