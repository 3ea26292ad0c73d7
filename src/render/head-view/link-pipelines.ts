// Pipelines of the link views, shared by the head view and the layered graph. The compaction
// (shaders/compute/link-compaction.wgsl) binds the weights, colours and arrangement as group 0 and its lists
// as group 1; the render pipelines (shaders/render/attention-links.wgsl) bind the same three and the drawn
// list as group 0, and the layered graph's nodes add group 1 (node values, colormap). Render pipelines are
// one per entry point and target format, built on first use: quads for links wider than a pixel, 1-pixel
// lines for the rest, and the nodes; all are cached per device.
import linksCommonWgsl from '../../../shaders/common/links.wgsl?raw';
import numericsWgsl from '../../../shaders/common/numerics.wgsl?raw';
import compactionWgsl from '../../../shaders/compute/link-compaction.wgsl?raw';
import linksWgsl from '../../../shaders/render/attention-links.wgsl?raw';
import { cachedPerDevice } from '../../core/pipeline-cache';
import { shaderModule } from '../../core/wgsl';
import { uniformLayout } from '../../memory/uniforms';
import { renderPipelinePerFormat } from '../pipeline-per-format';

/** The Links struct's layout, read from the WGSL so offsets are written down once. */
export const LINKS_UNIFORMS = uniformLayout(linksCommonWgsl, 'Links');

export interface LinkPipelines {
  /** Render group 0: weights, colours, arrangement, drawn list. */
  readonly linkLayout: GPUBindGroupLayout;
  readonly nodeLayout: GPUBindGroupLayout;
  /** Compaction group 0 (weights, colours, arrangement) and group 1 (chunk offsets, drawn list, draws). */
  readonly compactionInputs: GPUBindGroupLayout;
  readonly compactionLists: GPUBindGroupLayout;
  readonly countChunks: GPUComputePipeline;
  readonly scanChunks: GPUComputePipeline;
  readonly writeChunks: GPUComputePipeline;
  readonly groupDraws: GPUComputePipeline;
  /** Links wider than a pixel, as quads (6 vertices each). */
  linksFor(format: GPUTextureFormat): GPURenderPipeline;
  /** Links at most a pixel wide, as 1-pixel lines (2 vertices each). */
  hairlinesFor(format: GPUTextureFormat): GPURenderPipeline;
  nodesFor(format: GPUTextureFormat): GPURenderPipeline;
}

// Premultiplied "over": overlapping heads mix, and a link of opacity 1 shows its colour exactly.
const PREMULTIPLIED: GPUBlendState = {
  color: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha', operation: 'add' },
  alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha', operation: 'add' },
};

function buildLinkPipelines(device: GPUDevice): LinkPipelines {
  const module = shaderModule(device, 'AttentionLinks.module', [numericsWgsl, linksCommonWgsl, linksWgsl]);
  const buffer = (binding: number, visibility: GPUShaderStageFlags, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding, visibility, buffer: { type } });
  const { VERTEX: vertex } = GPUShaderStage;
  const linkLayout = device.createBindGroupLayout({
    label: 'AttentionLinks.linkLayout',
    entries: [
      buffer(0, vertex, 'read-only-storage'), // weights
      buffer(1, vertex, 'read-only-storage'), // colours
      buffer(2, vertex, 'uniform'), // arrangement
      buffer(3, vertex, 'read-only-storage'), // drawn links
    ],
  });
  const nodeLayout = device.createBindGroupLayout({
    label: 'AttentionLinks.nodeLayout',
    entries: [
      buffer(0, vertex, 'read-only-storage'), // node values
      { binding: 1, visibility: vertex, texture: { sampleType: 'unfilterable-float' } }, // colormap
    ],
  });
  const linksOnly = device.createPipelineLayout({ label: 'AttentionLinks.links', bindGroupLayouts: [linkLayout] });
  const withNodes = device.createPipelineLayout({ label: 'AttentionLinks.nodes', bindGroupLayouts: [linkLayout, nodeLayout] });
  const perFormat = (vertexEntry: string, layout: GPUPipelineLayout, topology: GPUPrimitiveTopology = 'triangle-list') =>
    renderPipelinePerFormat(device, `AttentionLinks.${vertexEntry}`, layout, module, { vertexEntry, blend: PREMULTIPLIED, topology });
  return {
    linkLayout,
    nodeLayout,
    linksFor: perFormat('link_vertex', linksOnly),
    hairlinesFor: perFormat('hairline_vertex', linksOnly, 'line-list'),
    nodesFor: perFormat('node_vertex', withNodes),
    ...buildCompaction(device),
  };
}

function buildCompaction(device: GPUDevice) {
  const module = shaderModule(device, 'LinkCompaction.module', [numericsWgsl, linksCommonWgsl, compactionWgsl]);
  const buffer = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } });
  const compactionInputs = device.createBindGroupLayout({
    label: 'LinkCompaction.inputs',
    entries: [buffer(0, 'read-only-storage'), buffer(1, 'read-only-storage'), buffer(2, 'uniform')],
  });
  const compactionLists = device.createBindGroupLayout({
    label: 'LinkCompaction.lists',
    entries: [buffer(0, 'storage'), buffer(1, 'storage'), buffer(2, 'storage')],
  });
  const layout = device.createPipelineLayout({ label: 'LinkCompaction.layout', bindGroupLayouts: [compactionInputs, compactionLists] });
  const pipeline = (entryPoint: string) => device.createComputePipeline({ label: `LinkCompaction.${entryPoint}`, layout, compute: { module, entryPoint } });
  return {
    compactionInputs,
    compactionLists,
    countChunks: pipeline('count_chunks'),
    scanChunks: pipeline('scan_chunks'),
    writeChunks: pipeline('write_chunks'),
    groupDraws: pipeline('group_draws'),
  };
}

export function linkPipelines(device: GPUDevice): LinkPipelines {
  return cachedPerDevice(device, buildLinkPipelines);
}
