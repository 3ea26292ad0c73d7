// Tokens as DOM text over a link view's canvas. A column of labels is a line of token positions in canvas
// pixels (origin + i·step); where rows are thinner than a line of text only every k-th token gets a label,
// so a column holds at most a screenful of elements, made once and reused. Hovering a label reports its
// token (event delegation on the host), which the views turn into a focus.

export interface LabelColumn {
  /** Names the column in hover reports and data attributes, e.g. 'query'. */
  readonly side: string;
  /** The column's own texts (e.g. layer names); default the tokens. */
  readonly texts?: readonly string[];
  /** Canvas pixels of token 0's anchor and the step to the next token. */
  originX: number;
  originY: number;
  stepX: number;
  stepY: number;
  /** Where the text sits relative to its anchor: ending there, starting there, or centred on it. */
  readonly align: 'end' | 'start' | 'centre';
}

export interface TokenLabels {
  /** Places the labels for the canvas's current size; cheap to call when nothing moved. */
  update(tokens: readonly string[], columns: readonly LabelColumn[]): void;
  /** Marks one token's label (bold), or none. */
  highlight(side: string | null, index: number | null): void;
  /** The elements now shown (tests, styling). */
  readonly shown: readonly HTMLElement[];
  destroy(): void;
}

const LINE_PX = 14;
/** Narrowest slot, in CSS pixels, a horizontal run of labels gives each one. */
const MIN_SLOT_PX = 28;

export function createTokenLabels(
  canvas: HTMLCanvasElement,
  label: string,
  onHover: (side: string | null, index: number | null) => void,
): TokenLabels | null {
  const parent = canvas.parentElement;
  if (!parent) return null; // a detached canvas shows no text
  const host = document.createElement('div');
  host.dataset['glassbox'] = `${label}.labels`;
  host.style.cssText = 'position:absolute;overflow:hidden;pointer-events:none';
  canvas.after(host);
  const pool: HTMLElement[] = [];
  const shown: HTMLElement[] = [];
  let marked: HTMLElement | null = null;

  function element(i: number): HTMLElement {
    let el = pool[i];
    if (!el) {
      el = document.createElement('div');
      el.className = 'glassbox-token-label';
      el.style.cssText = 'position:absolute;left:0;top:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;' +
        `pointer-events:auto;cursor:default;font:12px/${LINE_PX}px system-ui,sans-serif;color:#e8e8e8;text-shadow:0 0 3px #000`;
      host.append(el);
      pool.push(el);
    }
    return el;
  }

  function hovered(event: Event): HTMLElement | null {
    const target = event.target;
    return target instanceof HTMLElement && target.classList.contains('glassbox-token-label') ? target : null;
  }
  const over = (event: PointerEvent) => {
    const el = hovered(event);
    if (el) onHover(el.dataset['side'] ?? null, Number(el.dataset['index']));
  };
  const out = (event: PointerEvent) => {
    if (hovered(event) && !(event.relatedTarget instanceof HTMLElement && event.relatedTarget.classList.contains('glassbox-token-label'))) {
      onHover(null, null);
    }
  };
  host.addEventListener('pointerover', over);
  host.addEventListener('pointerout', out);

  return {
    shown,
    update(tokens, columns) {
      placeOver(host, canvas);
      const css = canvas.clientWidth > 0 && canvas.width > 0 ? canvas.clientWidth / canvas.width : 1;
      shown.length = 0;
      for (const column of columns) {
        const vertical = Math.abs(column.stepY) >= Math.abs(column.stepX);
        const pitch = Math.hypot(column.stepX, column.stepY) * css;
        const every = Math.max(1, Math.ceil((vertical ? LINE_PX : MIN_SLOT_PX) / Math.max(pitch, 1e-9)));
        const texts = column.texts ?? tokens;
        for (let i = 0; i < texts.length; i += every) {
          const el = element(shown.length);
          const x = (column.originX + i * column.stepX) * css;
          const y = (column.originY + i * column.stepY) * css;
          const shift = column.align === 'end' ? '-100%' : column.align === 'centre' ? '-50%' : '0px';
          el.textContent = texts[i]!;
          el.title = `${column.side} ${i}: ${texts[i]}`;
          el.dataset['side'] = column.side;
          el.dataset['index'] = String(i);
          el.style.transform = `translate(${x}px, ${y}px) translate(${shift}, -50%)`;
          el.style.maxWidth = vertical ? `${Math.max(canvas.clientWidth / 4, 24)}px` : `${pitch * every}px`;
          el.style.display = '';
          shown.push(el);
        }
      }
      for (let i = shown.length; i < pool.length; i++) pool[i]!.style.display = 'none';
    },
    highlight(side, index) {
      if (marked) marked.style.fontWeight = '';
      marked = shown.find((el) => el.dataset['side'] === side && Number(el.dataset['index']) === index) ?? null;
      if (marked) marked.style.fontWeight = 'bold';
    },
    destroy() {
      host.removeEventListener('pointerover', over);
      host.removeEventListener('pointerout', out);
      host.remove();
    },
  };
}

// Absolute boxes and the canvas share a containing block (the nearest positioned ancestor), which is
// what offsetLeft/offsetTop are measured from; clientLeft/clientTop step over the canvas's border.
function placeOver(host: HTMLElement, canvas: HTMLCanvasElement): void {
  host.style.left = `${canvas.offsetLeft + canvas.clientLeft}px`;
  host.style.top = `${canvas.offsetTop + canvas.clientTop}px`;
  host.style.width = `${canvas.clientWidth}px`;
  host.style.height = `${canvas.clientHeight}px`;
}
