// A tooltip that follows the pointer over an element's stage: views report what is under the pointer
// (asynchronously, after a small readback), the tooltip shows it beside the pointer. It is also the
// element's live region, so keyboard and screen-reader users hear what the hover says.
export interface Tooltip {
  /** Shows `text` beside the pointer; null hides it. */
  show(text: string | null): void;
  destroy(): void;
}

const OFFSET_PX = 14;

export function createTooltip(stage: HTMLElement): Tooltip {
  const tip = document.createElement('div');
  tip.setAttribute('part', 'tooltip');
  tip.setAttribute('role', 'status');
  tip.hidden = true;
  stage.append(tip);
  let [x, y] = [0, 0];
  const track = (event: PointerEvent) => {
    const rect = stage.getBoundingClientRect();
    [x, y] = [event.clientX - rect.left, event.clientY - rect.top];
    place();
  };
  function place(): void {
    // Flip to the pointer's other side near the right and bottom edges, so the text stays inside.
    const flipX = x + OFFSET_PX + tip.offsetWidth > stage.clientWidth;
    const flipY = y + OFFSET_PX + tip.offsetHeight > stage.clientHeight;
    tip.style.left = `${flipX ? x - OFFSET_PX - tip.offsetWidth : x + OFFSET_PX}px`;
    tip.style.top = `${flipY ? y - OFFSET_PX - tip.offsetHeight : y + OFFSET_PX}px`;
  }
  stage.addEventListener('pointermove', track);
  return {
    show(text) {
      tip.hidden = text === null;
      if (text === null) return;
      tip.textContent = text;
      place();
    },
    destroy() {
      stage.removeEventListener('pointermove', track);
      tip.remove();
    },
  };
}
