import { unifiedDiff } from './line-diff';

const labels = { before: 'a', after: 'b' };

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('x\ny\n', 'x\ny\n', labels)).toBe('');
  });

  it('shows a changed line with three lines of context, numbered as diff -u does', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8'].join('\n') + '\n';
    const after = ['1', '2', '3', '4', 'five', '6', '7', '8'].join('\n') + '\n';
    expect(unifiedDiff(before, after, labels)).toBe(
      ['--- a', '+++ b', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'),
    );
  });

  it('splits distant changes into hunks and keeps additions and removals in order', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const after = [...lines.slice(0, 2), 'new', ...lines.slice(2, 17), ...lines.slice(18)];
    const diff = unifiedDiff(lines.join('\n'), after.join('\n'), labels);
    expect(diff.match(/^@@/gm)).toHaveLength(2);
    expect(diff).toContain('@@ -1,5 +1,6 @@\n l0\n l1\n+new\n l2\n l3\n l4\n');
    expect(diff).toContain('-l17\n');
  });

  it('diffs against an empty text', () => {
    expect(unifiedDiff('', 'a\nb\n', labels)).toBe('--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  });
});
