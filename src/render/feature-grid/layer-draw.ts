// One layer's part of the grid: its uniform buffer (geometry, strides, offsets) and the bind group over
// its activation buffer. update() is the live path, called whenever tfjs hands a new buffer: it makes a
// new bind group only when the buffer or the bound range changed, and writes the uniforms only when a
// value changed, so a frame of same-shaped activations costs one bind group per layer and nothing else.
import type { Engine } from '../../core/engine';
import type { FeatureLayer } from '../../features/feature-layer';
import { UniformBuffer } from '../../memory/uniforms';
import { CELL_PITCH, mapRect, type FeatureGridLayout, type GridSection } from './grid-layout';
import { FEATURE_GRID_LAYER_UNIFORMS } from './feature-grid-pipelines';
import { layerBindingRange, type LayerBindingInput, type LayerBindingRange } from './layer-binding';

export interface LayerDrawState {
  layer: FeatureLayer;
  layout: FeatureGridLayout;
  index: number;
  /** Record index of channel 0 in the stats buffer. */
  statsOffset: number;
  batchItem: number;
  /** Bytes one storage binding may cover. */
  bindingLimit: number;
}

export class LayerDraw {
  bindGroup: GPUBindGroup | null = null;
  readonly #uniforms: UniformBuffer;
  readonly #params: Record<string, number> = {};
  readonly #range: LayerBindingRange = { offset: 0, size: 0, elementOffset: 0 };
  readonly #rangeInput: LayerBindingInput = { byteLength: 0, batchStride: 0, batchItem: 0, limit: 0, alignment: 0, name: '' };
  readonly #device: GPUDevice;
  readonly #bindGroupLayout: GPUBindGroupLayout;
  readonly #label: string;
  #buffer: GPUBuffer | null = null;
  #boundOffset = -1;
  #boundSize = -1;
  #dirty = true;
  /** The section the geometry was last written for: a relayout makes new ones. */
  #section: GridSection | null = null;

  constructor(engine: Engine, bindGroupLayout: GPUBindGroupLayout, label: string) {
    this.#device = engine.device;
    this.#bindGroupLayout = bindGroupLayout;
    this.#label = label;
    this.#uniforms = new UniformBuffer(engine, FEATURE_GRID_LAYER_UNIFORMS, `${label}.uniforms`);
  }

  update(state: LayerDrawState): void {
    const { layer, layout } = state;
    const input = this.#rangeInput;
    input.byteLength = layer.tensor.byteLength;
    input.batchStride = layer.strides.batch;
    input.batchItem = state.batchItem;
    input.limit = state.bindingLimit;
    input.alignment = this.#device.limits.minStorageBufferOffsetAlignment;
    input.name = layer.name;
    const range = layerBindingRange(input, this.#range);
    const buffer = layer.tensor.buffer;
    if (buffer !== this.#buffer || range.offset !== this.#boundOffset || range.size !== this.#boundSize) {
      this.bindGroup = this.#device.createBindGroup({
        label: `${this.#label}.bindGroup`,
        layout: this.#bindGroupLayout,
        entries: [
          { binding: 0, resource: { buffer, offset: range.offset, size: range.size } },
          { binding: 1, resource: { buffer: this.#uniforms.buffer } },
        ],
      });
      [this.#buffer, this.#boundOffset, this.#boundSize] = [buffer, range.offset, range.size];
    }
    const section = layout.sections[state.index]!;
    const s = layer.strides;
    this.#set('element_offset', range.elementOffset);
    this.#set('stats_offset', state.statsOffset);
    this.#set('channels', layer.channels);
    this.#set('height', layer.height);
    this.#set('width', layer.width);
    this.#set('stride_y', s.y);
    this.#set('stride_x', s.x);
    this.#set('stride_channel', s.channel);
    this.#set('columns', layout.columns);
    this.#set('pitch', CELL_PITCH);
    if (section !== this.#section) {
      // Channel 0's rectangle from the layout's own mapRect, so the shader's quads are the hit-tested ones.
      const rect = mapRect(layout, section, 0);
      this.#set('first_x', rect.x);
      this.#set('first_y', rect.y);
      this.#set('map_w', rect.width);
      this.#set('map_h', rect.height);
      this.#section = section;
    }
    if (!this.#dirty) return;
    this.#uniforms.write(this.#params);
    this.#dirty = false;
  }

  destroy(): void {
    this.#uniforms.destroy();
    this.bindGroup = null;
    this.#buffer = null;
  }

  #set(name: string, value: number): void {
    if (this.#params[name] === value) return;
    this.#params[name] = value;
    this.#dirty = true;
  }
}
