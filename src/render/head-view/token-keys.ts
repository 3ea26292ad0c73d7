// The keyboard's way to what hovering a token does in the head view: the canvas takes focus, ↑ / ↓ move the
// focused token, ← / → switch between the query column and the key column, Home / End jump to the first
// and last token, Escape shows every link again. A visually hidden live region says which token, for
// screen readers (the canvas itself says nothing).
import type { TokenSide } from './head-view-layout';

export interface TokenKeyTarget {
  readonly tokens: number;
  readonly focus: { side: TokenSide; index: number } | null;
  focusToken(side: TokenSide, index: number | null): void;
}

/** Attaches the key handler; the function returned removes it (and the tabindex and live region it added). */
export function attachTokenKeys(canvas: HTMLCanvasElement, target: TokenKeyTarget): () => void {
  const addedTabIndex = !canvas.hasAttribute('tabindex');
  if (addedTabIndex) canvas.tabIndex = 0;
  const live = document.createElement('div');
  live.setAttribute('role', 'status');
  live.style.cssText = 'position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap';
  canvas.after(live);
  const announce = (text: string) => (live.textContent = text);
  const onKey = (event: KeyboardEvent) => {
    const next = nextFocus(event.key, target.focus, target.tokens);
    if (next === undefined) return;
    event.preventDefault();
    if (next === null) {
      if (target.focus) target.focusToken(target.focus.side, null);
      announce('Every link shown.');
      return;
    }
    target.focusToken(next.side, next.index);
    announce(`${next.side === 'query' ? 'Query' : 'Key'} ${next.index}: only its links shown.`);
  };
  canvas.addEventListener('keydown', onKey);
  return () => {
    canvas.removeEventListener('keydown', onKey);
    live.remove();
    if (addedTabIndex) canvas.removeAttribute('tabindex');
  };
}

/** The focus after `key`: a token, null for none, undefined when the key is not ours. */
export function nextFocus(
  key: string,
  focus: { side: TokenSide; index: number } | null,
  tokens: number,
): { side: TokenSide; index: number } | null | undefined {
  const side = focus?.side ?? 'query';
  const index = focus?.index ?? -1;
  const last = tokens - 1;
  switch (key) {
    case 'ArrowDown':
      return { side, index: Math.min(last, index + 1) };
    case 'ArrowUp':
      return { side, index: index < 0 ? last : Math.max(0, index - 1) };
    case 'ArrowLeft':
      return { side: 'query', index: Math.max(0, index) };
    case 'ArrowRight':
      return { side: 'key', index: Math.max(0, index) };
    case 'Home':
      return { side, index: 0 };
    case 'End':
      return { side, index: last };
    case 'Escape':
      return null;
    default:
      return undefined;
  }
}
