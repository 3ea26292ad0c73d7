// The neuron view's DOM text over the canvas: per head a title (its score s_ij and weight P_ij, filled in by
// one small readback per selection) and the five row names. Repositioned only when the geometry changed.
import { NEURON_ROW_NAMES, neuronRowOrigin, type NeuronRowIndex, type NeuronViewGeometry } from './layout';

/** One head's score and weight for the selected query and key, as `onSummary` receives them. */
export interface NeuronHeadSummary {
  head: number;
  /** s_ij = scale · Σ_c q_ic k_jc. */
  score: number;
  /** P[l, h, i, j]. */
  weight: number;
}

export interface NeuronLabels {
  place(g: NeuronViewGeometry, cssPerPixel: number): void;
  setSummary(summary: readonly NeuronHeadSummary[] | null): void;
  readonly titles: readonly HTMLElement[];
  destroy(): void;
}

const STYLE = 'position:absolute;left:0;top:0;white-space:nowrap;overflow:hidden;pointer-events:none;' +
  'font:11px/14px system-ui,sans-serif;color:#e8e8e8;text-shadow:0 0 3px #000';

/** Labels in a div laid over `canvas` inside its parent; null when the canvas has no parent to hold them. */
export function createNeuronLabels(canvas: HTMLCanvasElement, heads: number, label: string): NeuronLabels | null {
  const parent = canvas.parentElement;
  if (!parent) return null;
  const host = document.createElement('div');
  host.dataset['glassbox'] = `${label}.labels`;
  host.style.cssText = 'position:absolute;overflow:hidden;pointer-events:none';
  canvas.after(host);
  const make = (text: string) => {
    const el = document.createElement('div');
    el.style.cssText = STYLE;
    el.textContent = text;
    host.append(el);
    return el;
  };
  const titles = Array.from({ length: heads }, (_, h) => make(`head ${h}`));
  const rows = Array.from({ length: heads }, () => NEURON_ROW_NAMES.map((name) => make(name)));

  return {
    titles,
    place(g, cssPerPixel) {
      // Absolute boxes and the canvas share a containing block; clientLeft/Top step over the canvas border.
      host.style.left = `${canvas.offsetLeft + canvas.clientLeft}px`;
      host.style.top = `${canvas.offsetTop + canvas.clientTop}px`;
      host.style.width = `${canvas.clientWidth}px`;
      host.style.height = `${canvas.clientHeight}px`;
      for (let h = 0; h < heads; h++) {
        const top = neuronRowOrigin(g, h, 0).y - g.title;
        titles[h]!.style.transform = `translate(${g.gutter * cssPerPixel}px, ${top * cssPerPixel}px)`;
        rows[h]!.forEach((el, r) => {
          const origin = neuronRowOrigin(g, h, r as NeuronRowIndex);
          el.style.width = `${g.gutter * cssPerPixel - 4}px`;
          el.style.textAlign = 'right';
          // Centred on the row; text taller than the row overlaps its neighbours rather than vanishing.
          el.style.transform = `translate(0px, ${(origin.y + g.cell / 2) * cssPerPixel - 7}px)`;
        });
      }
    },
    setSummary(summary) {
      for (let h = 0; h < heads; h++) {
        const s = summary?.[h];
        titles[h]!.textContent = s ? `head ${h}   s = ${formatScore(s.score)}   P = ${s.weight.toFixed(3)}` : `head ${h}`;
      }
    },
    destroy: () => host.remove(),
  };
}

function formatScore(x: number): string {
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(3);
}
