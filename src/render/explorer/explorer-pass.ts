// GPU side of the explorer: the tile atlas, the per-frame list of tiles to draw, the colormap and the
// render pipeline of shaders/render/explorer-tiles.wgsl. Made once; a frame rewrites only the tile list
// (a few dozen instances) and, when they changed, the view uniforms.
import explorerWgsl from '../../../shaders/render/explorer-tiles.wgsl?raw';
import type { Engine } from '../../core/engine';
import { cachedPerDevice } from '../../core/pipeline-cache';
import { shaderModule } from '../../core/wgsl';
import { UniformBuffer, uniformLayout } from '../../memory/uniforms';
import { createColormapTexture } from '../colormap-texture';
import type { ColormapName } from '../colormaps';
import { TILE_CELLS } from './tile-pyramid';
import { renderPipelinePerFormat } from '../pipeline-per-format';
import { clearingPass } from '../clearing-pass';

const VIEW = uniformLayout(explorerWgsl, 'View');
const INSTANCE = uniformLayout(explorerWgsl, 'TileInstance');
export const TILE_BYTES = TILE_CELLS * TILE_CELLS * 4;
const MAX_INSTANCES = 1024;

export interface TileInstance {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  slot: number;
  width: number;
  height: number;
  rowsReady: number;
}

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'ExplorerView.module', [explorerWgsl]);
  const fragmentAndVertex = GPUShaderStage.FRAGMENT | GPUShaderStage.VERTEX;
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'ExplorerView.bindGroupLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } }, // atlas
      { binding: 1, visibility: fragmentAndVertex, buffer: { type: 'read-only-storage' } }, // tiles
      { binding: 2, visibility: GPUShaderStage.FRAGMENT, texture: { sampleType: 'unfilterable-float' } },
      { binding: 3, visibility: fragmentAndVertex, buffer: { type: 'uniform' } }, // view
    ],
  });
  const layout = device.createPipelineLayout({ label: 'ExplorerView.layout', bindGroupLayouts: [bindGroupLayout] });
  const pipelineFor = renderPipelinePerFormat(device, 'ExplorerView', layout, module);
  return { bindGroupLayout, pipelineFor };
}

export interface ExplorerPass {
  readonly atlas: GPUBuffer;
  readonly slotCount: number;
  setColormap(name: ColormapName): void;
  setView(view: Record<string, number>): void;
  /**
   * Records one render pass drawing `tiles` (coarse first) over the background into `target`; `overlay`
   * records more into the same pass afterwards (the axis profiles).
   */
  draw(
    encoder: GPUCommandEncoder,
    target: GPUTextureView,
    format: GPUTextureFormat,
    tiles: readonly TileInstance[],
    overlay?: (pass: GPURenderPassEncoder) => void,
  ): void;
  destroy(): void;
}

export function createExplorerPass(engine: Engine, slotCount: number, label: string): ExplorerPass {
  const { device } = engine;
  const pipelines = cachedPerDevice(device, buildPipelines);
  const atlas = engine.createBuffer({
    label: `${label}.atlas`,
    size: slotCount * TILE_BYTES,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const instances = engine.createBuffer({
    label: `${label}.tiles`,
    size: MAX_INSTANCES * INSTANCE.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  const instanceData = new DataView(new ArrayBuffer(MAX_INSTANCES * INSTANCE.byteLength));
  const view = new UniformBuffer(engine, VIEW, `${label}.view`);
  const colormap = createColormapTexture(device, label, 'viridis');
  const bindGroup = device.createBindGroup({
    label: `${label}.bindGroup`,
    layout: pipelines.bindGroupLayout,
    entries: [
      { binding: 0, resource: { buffer: atlas } },
      { binding: 1, resource: { buffer: instances } },
      { binding: 2, resource: colormap.view },
      { binding: 3, resource: { buffer: view.buffer } },
    ],
  });
  const beginPass = clearingPass(label, [0.12, 0.12, 0.12]);
  const fields = ['x0', 'y0', 'x1', 'y1', 'slot', 'width', 'height', 'rows_ready'] as const;
  const offsets = fields.map((name) => INSTANCE.fields.get(name)!.offset);

  function writeInstances(tiles: readonly TileInstance[]): number {
    const count = Math.min(tiles.length, MAX_INSTANCES);
    for (let index = 0; index < count; index++) {
      const tile = tiles[index]!;
      const base = index * INSTANCE.byteLength;
      [tile.x0, tile.y0, tile.x1, tile.y1].forEach((value, field) => instanceData.setFloat32(base + offsets[field]!, value, true));
      [tile.slot, tile.width, tile.height, tile.rowsReady].forEach((value, field) =>
        instanceData.setUint32(base + offsets[field + 4]!, value, true),
      );
    }
    if (count > 0) device.queue.writeBuffer(instances, 0, instanceData.buffer, 0, count * INSTANCE.byteLength);
    return count;
  }

  return {
    atlas,
    slotCount,
    setColormap(name) {
      colormap.write(name);
    },
    setView(values) {
      view.write(values);
    },
    draw(encoder, target, format, tiles, overlay) {
      const count = writeInstances(tiles);
      const pass = beginPass(encoder, target);
      if (count > 0) {
        pass.setPipeline(pipelines.pipelineFor(format));
        pass.setBindGroup(0, bindGroup);
        pass.draw(6, count);
      }
      overlay?.(pass);
      pass.end();
    },
    destroy() {
      atlas.destroy();
      instances.destroy();
      view.destroy();
      colormap.destroy();
    },
  };
}
