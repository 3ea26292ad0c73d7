// Captions ("original", "step 120") as DOM text under each image of an image view: crisp at any DPI and
// styleable, unlike text drawn into the canvas. Repositioned only when the layout changed.
import type { ImageRect } from './image-layout';

export interface ImageCaptions {
  /** Places caption i under rects[i] (canvas backing pixels; `width` is the canvas's backing width). */
  place(rects: readonly ImageRect[], width: number): void;
  setText(captions: readonly string[]): void;
  readonly elements: readonly HTMLElement[];
  destroy(): void;
}

/** A div over the canvas inside its parent holds the captions; null when the canvas has no parent. */
export function createImageCaptions(canvas: HTMLCanvasElement, captions: readonly string[], label: string): ImageCaptions | null {
  const parent = canvas.parentElement;
  if (!parent) return null;
  const host = document.createElement('div');
  host.dataset['glassbox'] = `${label}.captions`;
  host.style.cssText = 'position:absolute;overflow:hidden;pointer-events:none';
  canvas.after(host);
  const elements: HTMLElement[] = [];

  function setText(texts: readonly string[]): void {
    while (elements.length < texts.length) {
      const el = document.createElement('div');
      el.className = 'glassbox-image-caption';
      el.style.cssText = 'position:absolute;left:0;top:0;text-align:center;white-space:nowrap;overflow:hidden;' +
        'text-overflow:ellipsis;font:12px/16px system-ui,sans-serif;color:#e8e8e8;text-shadow:0 0 3px #000';
      host.append(el);
      elements.push(el);
    }
    elements.forEach((el, i) => {
      el.textContent = texts[i] ?? '';
      el.style.display = texts[i] ? '' : 'none';
    });
  }
  setText(captions);

  return {
    elements,
    setText,
    place(rects, width) {
      // Absolute boxes share the canvas's containing block, which offsetLeft/Top are measured from.
      host.style.left = `${canvas.offsetLeft + canvas.clientLeft}px`;
      host.style.top = `${canvas.offsetTop + canvas.clientTop}px`;
      host.style.width = `${canvas.clientWidth}px`;
      host.style.height = `${canvas.clientHeight}px`;
      const css = canvas.clientWidth > 0 && width > 0 ? canvas.clientWidth / width : 1; // CSS px per backing px
      elements.forEach((el, i) => {
        const rect = rects[i];
        if (!rect) return;
        el.style.width = `${rect.width * css}px`;
        // Under the image where there is room, else over its bottom edge.
        const below = (rect.top + rect.height) * css + 2;
        el.style.transform = `translate(${rect.left * css}px, ${Math.min(below, canvas.clientHeight - 16)}px)`;
      });
    },
    destroy() {
      host.remove();
    },
  };
}
