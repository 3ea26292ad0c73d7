// Render pipelines for shaders/render/heatmap.wgsl: one bind group layout per device, one pipeline per
// target format (the canvas's preferred format; rgba8unorm for tests and export), built on first use.
import numericsWgsl from '../../shaders/common/numerics.wgsl?raw';
import heatmapWgsl from '../../shaders/render/heatmap.wgsl?raw';
import { cachedPerDevice } from '../core/pipeline-cache';
import { shaderModule } from '../core/wgsl';
import { uniformLayout } from '../memory/uniforms';
import { renderPipelinePerFormat } from './pipeline-per-format';

/** The View struct's layout, read from the WGSL so offsets are written down once. */
export const HEATMAP_VIEW_UNIFORMS = uniformLayout(heatmapWgsl, 'View');

export interface HeatmapPipelines {
  readonly bindGroupLayout: GPUBindGroupLayout;
  pipelineFor(format: GPUTextureFormat): GPURenderPipeline;
}

function buildHeatmapPipelines(device: GPUDevice): HeatmapPipelines {
  const module = shaderModule(device, 'HeatmapView.module', [numericsWgsl, heatmapWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'HeatmapView.bindGroupLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } }, // weights
      { binding: 1, visibility: GPUShaderStage.FRAGMENT, texture: { sampleType: 'unfilterable-float' } }, // colormap
      { binding: 2, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'uniform' } }, // view
    ],
  });
  const layout = device.createPipelineLayout({ label: 'HeatmapView.layout', bindGroupLayouts: [bindGroupLayout] });
  return { bindGroupLayout, pipelineFor: renderPipelinePerFormat(device, 'HeatmapView', layout, module) };
}

export function heatmapPipelines(device: GPUDevice): HeatmapPipelines {
  return cachedPerDevice(device, buildHeatmapPipelines);
}
