// Click a map to enlarge it: the channel drawn large by a grid view of its own over the same buffer
// (zoomed onto that one map) in the page's frame loop, with its statistics read back (one 32-byte record).
// The panel follows new activations of the same layer (live input) and closes when the layers change.
import {
  createFeatureGridView,
  STATS_FIELD,
  type ColormapName,
  type Engine,
  type FeatureGridView,
  type FeatureLayer,
  type FeatureNormalization,
  type FeatureStats,
  type FrameLoop,
} from '../../src/index';

export interface DetailSettings {
  normalization: FeatureNormalization;
  colormap: ColormapName;
  sampling: 'nearest' | 'bilinear';
}

export interface DetailPanel {
  show(layers: readonly FeatureLayer[], layer: number, channel: number, stats: FeatureStats, settings: DetailSettings): Promise<void>;
  /** New activations of the same shapes: the enlarged map and its statistics follow them. */
  update(layers: readonly FeatureLayer[], stats: FeatureStats): void;
  configure(settings: DetailSettings): void;
  close(): void;
}

export function createDetailPanel(engine: Engine, loop: FrameLoop): DetailPanel {
  const panel = document.querySelector<HTMLElement>('#detail')!;
  const canvas = panel.querySelector<HTMLCanvasElement>('#detail-map')!;
  let view: FeatureGridView | null = null;
  let remove: (() => void) | null = null;
  let shown: { layer: number; channel: number } | null = null;
  const binding = (stats: FeatureStats, layer: number) => ({ buffer: stats.buffer, recordOffsets: [stats.recordOffsets[layer]!] });

  const detail: DetailPanel = {
    async show(layers, layer, channel, stats, settings) {
      detail.close();
      view = createFeatureGridView(engine, { canvas, layers: [layers[layer]!], stats: binding(stats, layer), ...settings, labels: null, label: 'FeatureMapsDemo.detail' });
      view.focusMap(0, channel);
      remove = loop.add(view);
      shown = { layer, channel };
      panel.hidden = false;
      const source = layers[layer]!;
      panel.querySelector('h2')!.textContent = `${source.name} · channel ${channel} (${source.height}×${source.width})`;
      await showStats(await stats.readRecord(layer, channel));
    },
    update(layers, stats) {
      if (!view || !shown) return;
      view.setLayers([layers[shown.layer]!], binding(stats, shown.layer));
    },
    configure(settings) {
      view?.setNormalization(settings.normalization);
      view?.setColormap(settings.colormap);
      view?.setSampling(settings.sampling);
    },
    close() {
      remove?.();
      view?.destroy();
      [view, remove, shown] = [null, null, null];
      panel.hidden = true;
    },
  };
  panel.querySelector<HTMLButtonElement>('[name=close]')!.onclick = () => detail.close();
  return detail;

  async function showStats(record: Float32Array): Promise<void> {
    const f = STATS_FIELD;
    const rows: [string, string][] = [
      ['min', record[f.min]!.toPrecision(4)],
      ['max', record[f.max]!.toPrecision(4)],
      ['mean', record[f.mean]!.toPrecision(4)],
      ['std', record[f.std]!.toPrecision(4)],
      ['NaN / ±Inf', String(record[f.nonFiniteCount]!)],
    ];
    panel.querySelector('dl')!.replaceChildren(
      ...rows.flatMap(([name, value]) => {
        const dt = document.createElement('dt');
        dt.textContent = name;
        const dd = document.createElement('dd');
        dd.textContent = value;
        return [dt, dd];
      }),
    );
  }
}
