// Render pipelines for shaders/render/feature-grid.wgsl: two bind group layouts per device (group 0 shared
// by every layer's draw, group 1 per layer), one pipeline per target format and shader variant (bilinear
// sampling, overlay, normalization mode: override constants, so a frame pays only for the branches it
// takes), built on first use.
import featureRangeWgsl from '../../../shaders/common/feature-range.wgsl?raw';
import numericsWgsl from '../../../shaders/common/numerics.wgsl?raw';
import featureGridWgsl from '../../../shaders/render/feature-grid.wgsl?raw';
import { cachedPerDevice } from '../../core/pipeline-cache';
import { NORMALIZATION_MODES } from '../../reference/channel-stats';
import { shaderModule } from '../../core/wgsl';
import { uniformLayout } from '../../memory/uniforms';
import { renderPipelinePerFormat } from '../pipeline-per-format';

/** The View and Layer structs' layouts, read from the WGSL so offsets are written down once. */
export const FEATURE_GRID_VIEW_UNIFORMS = uniformLayout(featureGridWgsl, 'View');
export const FEATURE_GRID_LAYER_UNIFORMS = uniformLayout(featureGridWgsl, 'Layer');

export interface FeatureGridPipelines {
  /** stats, colormap, overlay, overlay sampler, view. */
  readonly sharedLayout: GPUBindGroupLayout;
  /** activations, layer. */
  readonly layerLayout: GPUBindGroupLayout;
  /**
   * The pipeline for a target format, with bilinear sampling or not, with an overlay or not, for a
   * normalization mode (its NORMALIZATION_MODES index).
   */
  pipelineFor(format: GPUTextureFormat, bilinear: boolean, overlay: boolean, mode: number): GPURenderPipeline;
}

function buildFeatureGridPipelines(device: GPUDevice): FeatureGridPipelines {
  const module = shaderModule(device, 'FeatureGridView.module', [numericsWgsl, featureRangeWgsl, featureGridWgsl]);
  const both = GPUShaderStage.VERTEX | GPUShaderStage.FRAGMENT;
  const sharedLayout = device.createBindGroupLayout({
    label: 'FeatureGridView.sharedLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } }, // stats, read per pixel
      { binding: 1, visibility: GPUShaderStage.FRAGMENT, texture: { sampleType: 'unfilterable-float' } }, // colormap
      { binding: 2, visibility: GPUShaderStage.FRAGMENT, texture: { sampleType: 'float' } }, // overlay
      { binding: 3, visibility: GPUShaderStage.FRAGMENT, sampler: { type: 'filtering' } }, // overlay sampler
      { binding: 4, visibility: both, buffer: { type: 'uniform' } }, // view
    ],
  });
  const layerLayout = device.createBindGroupLayout({
    label: 'FeatureGridView.layerLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } }, // activations
      { binding: 1, visibility: both, buffer: { type: 'uniform' } }, // layer
    ],
  });
  const layout = device.createPipelineLayout({
    label: 'FeatureGridView.layout',
    bindGroupLayouts: [sharedLayout, layerLayout],
  });
  // Indexed by bilinear + 2·overlay + 4·mode: choosing one each frame allocates nothing.
  const variants = NORMALIZATION_MODES.flatMap((modeName, mode) => [false, true].flatMap((overlay) => [false, true].map((bilinear) => {
    const name = `${bilinear ? 'bilinear' : 'nearest'}${overlay ? '+overlay' : ''}.${modeName}`;
    const fragmentConstants = { BILINEAR: bilinear ? 1 : 0, OVERLAY: overlay ? 1 : 0, MODE: mode };
    return renderPipelinePerFormat(device, `FeatureGridView.${name}`, layout, module, { fragmentConstants });
  })));
  const pipelineFor = (format: GPUTextureFormat, bilinear: boolean, overlay: boolean, mode: number) =>
    variants[Number(bilinear) + 2 * Number(overlay) + 4 * mode]!(format);
  return { sharedLayout, layerLayout, pipelineFor };
}

export function featureGridPipelines(device: GPUDevice): FeatureGridPipelines {
  return cachedPerDevice(device, buildFeatureGridPipelines);
}
