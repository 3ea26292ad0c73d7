// A filtered benchmark run folds into latest.json row by row: the rows it measured replace theirs, the
// case's other rows and every other case's stay, in the registry's order.
import { describe, expect, it } from 'vitest';
import { mergeResults } from '../../bench/merge-results.js';

const order = ['lse', 'screen', 'grid'];
const row = (name: string, params: Record<string, number | string>, ms: number) => ({ name, params, ours_ms: ms });

describe('mergeResults', () => {
  const earlier = {
    env: { date: 'old', wall_cross_check: [row('screen', { N: 2048, view: 'a' }, 1), row('grid', { K: 256 }, 2)] },
    cases: [row('lse', { N: 2048 }, 10), row('screen', { N: 2048, view: 'a' }, 11), row('screen', { N: 2048, view: 'b' }, 12),
      row('grid', { K: 256 }, 13), row('grid', { K: 4096 }, 14)],
  };

  it('replaces the rows measured, keeps the case\'s others and adds new ones after them', () => {
    const now = { env: { date: 'new', wall_cross_check: [row('grid', { K: 4096 }, 99), row('screen', { N: 16383, view: 'a' }, 98)] },
      cases: [row('grid', { K: 4096 }, 24), row('screen', { N: 16383, view: 'a' }, 21)] };
    const merged = mergeResults(earlier, now, order);
    expect(merged.cases.map((c) => [c.name, c.params, c.ours_ms])).toEqual([
      ['lse', { N: 2048 }, 10],
      ['screen', { N: 2048, view: 'a' }, 11],
      ['screen', { N: 2048, view: 'b' }, 12],
      ['screen', { N: 16383, view: 'a' }, 21],
      ['grid', { K: 256 }, 13],
      ['grid', { K: 4096 }, 24],
    ]);
    expect(merged.env.date).toBe('new');
    expect(merged.env.wall_cross_check.map((w) => [w.name, w.ours_ms])).toEqual([['screen', 1], ['screen', 98], ['grid', 2], ['grid', 99]]);
  });

  it('keeps rows of cases the registry no longer has at the end, and reads a file without wall rows', () => {
    const merged = mergeResults({ cases: [row('gone', { x: 1 }, 5), row('lse', { N: 2048 }, 10)] },
      { env: { date: 'new' }, cases: [row('lse', { N: 2048 }, 30)] }, order);
    expect(merged.cases.map((c) => [c.name, c.ours_ms])).toEqual([['lse', 30], ['gone', 5]]);
    expect(merged.env.wall_cross_check).toEqual([]);
  });
});
