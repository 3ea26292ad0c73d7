// The head view's keyboard: which token each key focuses.
import { describe, expect, it } from 'vitest';
import { nextFocus } from '../../src/render/head-view/token-keys';

describe('nextFocus', () => {
  it('starts on the query column and walks it with the arrows, clamped at the ends', () => {
    expect(nextFocus('ArrowDown', null, 5)).toEqual({ side: 'query', index: 0 });
    expect(nextFocus('ArrowUp', null, 5)).toEqual({ side: 'query', index: 4 });
    expect(nextFocus('ArrowDown', { side: 'key', index: 2 }, 5)).toEqual({ side: 'key', index: 3 });
    expect(nextFocus('ArrowDown', { side: 'key', index: 4 }, 5)).toEqual({ side: 'key', index: 4 });
    expect(nextFocus('ArrowUp', { side: 'query', index: 0 }, 5)).toEqual({ side: 'query', index: 0 });
  });

  it('switches columns keeping the index, jumps with Home/End, clears with Escape, ignores other keys', () => {
    expect(nextFocus('ArrowRight', { side: 'query', index: 3 }, 5)).toEqual({ side: 'key', index: 3 });
    expect(nextFocus('ArrowLeft', { side: 'key', index: 3 }, 5)).toEqual({ side: 'query', index: 3 });
    expect(nextFocus('End', { side: 'key', index: 1 }, 7)).toEqual({ side: 'key', index: 6 });
    expect(nextFocus('Home', { side: 'key', index: 5 }, 7)).toEqual({ side: 'key', index: 0 });
    expect(nextFocus('Escape', { side: 'key', index: 5 }, 7)).toBeNull();
    expect(nextFocus('a', { side: 'key', index: 5 }, 7)).toBeUndefined();
  });
});
