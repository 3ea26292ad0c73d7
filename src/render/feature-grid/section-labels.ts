// Layer names as DOM text over the grid: one element per visible section only, reused from a pool, and
// repositioned only when the camera or the layout changed. A label sits in its section's header band and
// sticks to the top edge while the section's maps are still on screen below it.
import type { Camera, WorldRect } from '../camera';
import { visibleSections, type FeatureGridLayout, type GridSection } from './grid-layout';

export interface SectionLabels {
  /** Brings the labels up to date with the camera as last drawn; cheap when nothing moved. */
  update(layout: FeatureGridLayout, camera: Camera): void;
  /** The elements now shown (tests, styling). */
  readonly shown: readonly HTMLElement[];
  destroy(): void;
}

/** CSS pixels a label is kept clear of the top edge's header, so a sticky label never covers a map row. */
const LABEL_HEIGHT_PX = 16;

/**
 * `container` undefined: a div placed over the canvas inside its parent (none if the canvas has no
 * parent); an element: labels go there, and it must cover the canvas's CSS box; null: no labels.
 */
export function createSectionLabels(
  canvas: HTMLCanvasElement,
  container: HTMLElement | null | undefined,
  label: string,
): SectionLabels | null {
  if (container === null) return null;
  const ownContainer = container === undefined;
  const host = container ?? defaultContainer(canvas, label);
  if (!host) return null;
  const pool: HTMLElement[] = [];
  const assigned: (GridSection | null)[] = [];
  const shown: HTMLElement[] = [];
  const viewRect: WorldRect = { x: 0, y: 0, width: 0, height: 0 };
  let drawnVersion = -1;
  let drawnLayout: FeatureGridLayout | null = null;

  function element(i: number): HTMLElement {
    let el = pool[i];
    if (!el) {
      el = document.createElement('div');
      el.className = 'glassbox-section-label';
      el.style.cssText = 'position:absolute;left:0;top:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;pointer-events:none;' +
        'font:12px/16px system-ui,sans-serif;color:#e8e8e8;text-shadow:0 0 3px #000;will-change:transform';
      host!.append(el);
      pool.push(el);
      assigned.push(null);
    }
    return el;
  }

  return {
    shown,
    update(layout, camera) {
      if (camera.version === drawnVersion && layout === drawnLayout) return;
      [drawnVersion, drawnLayout] = [camera.version, layout];
      if (ownContainer) placeOver(host, canvas);
      // Canvas pixels (the camera's units) to CSS pixels: the backing store is CSS size × devicePixelRatio.
      const cssPerPixel = canvas.clientWidth > 0 && canvas.width > 0 ? canvas.clientWidth / canvas.width : 1;
      viewRect.x = camera.centerX - camera.width / 2 / camera.scale;
      viewRect.y = camera.centerY - camera.height / 2 / camera.scale;
      viewRect.width = camera.width / camera.scale;
      viewRect.height = camera.height / camera.scale;
      const visible = visibleSections(layout, viewRect);
      shown.length = 0;
      // Zoomed far out, headers are thinner than a line of text: a label is shown only where it clears the
      // one above it, so the names never pile up (the hover readout still names every map).
      let clearBelow = -Infinity;
      for (const section of visible) {
        const left = ((section.bounds.x - camera.centerX) * camera.scale + camera.width / 2) * cssPerPixel;
        const top = ((section.top - camera.centerY) * camera.scale + camera.height / 2) * cssPerPixel;
        const bottom = ((section.top + section.bounds.height - camera.centerY) * camera.scale + camera.height / 2) * cssPerPixel;
        const y = Math.min(Math.max(top, 0), bottom - LABEL_HEIGHT_PX);
        if (y < clearBelow) continue;
        clearBelow = y + LABEL_HEIGHT_PX;
        const i = shown.length;
        const el = element(i);
        if (assigned[i] !== section) {
          el.textContent = section.name;
          el.title = section.name;
          assigned[i] = section;
        }
        el.style.transform = `translate(${Math.max(left, 0)}px, ${y}px)`;
        el.style.maxWidth = `${Math.max(section.bounds.width * camera.scale * cssPerPixel, 48)}px`;
        el.style.display = '';
        shown.push(el);
      }
      for (let i = shown.length; i < pool.length; i++) {
        pool[i]!.style.display = 'none';
        assigned[i] = null;
      }
    },
    destroy() {
      for (const el of pool) el.remove();
      if (ownContainer) host.remove();
    },
  };
}

function defaultContainer(canvas: HTMLCanvasElement, label: string): HTMLElement | null {
  const parent = canvas.parentElement;
  if (!parent) return null;
  const host = document.createElement('div');
  host.dataset['glassbox'] = `${label}.labels`;
  host.style.cssText = 'position:absolute;overflow:hidden;pointer-events:none';
  canvas.after(host);
  placeOver(host, canvas);
  return host;
}

// Absolute boxes and the canvas share a containing block (the nearest positioned ancestor), which is
// what offsetLeft/offsetTop are measured from; clientLeft/clientTop step over the canvas's border.
function placeOver(host: HTMLElement, canvas: HTMLCanvasElement): void {
  host.style.left = `${canvas.offsetLeft + canvas.clientLeft}px`;
  host.style.top = `${canvas.offsetTop + canvas.clientTop}px`;
  host.style.width = `${canvas.clientWidth}px`;
  host.style.height = `${canvas.clientHeight}px`;
}
