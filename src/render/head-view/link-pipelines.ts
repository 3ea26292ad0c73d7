// Render pipelines for shaders/render/attention-links.wgsl, shared by the head view and the layered graph:
// group 0 (weights, colours, arrangement) serves the links; the layered graph's nodes add group 1 (node
// values, colormap). One pipeline per entry point and target format, built on first use, cached per device.
import numericsWgsl from '../../../shaders/common/numerics.wgsl?raw';
import linksWgsl from '../../../shaders/render/attention-links.wgsl?raw';
import { cachedPerDevice } from '../../core/pipeline-cache';
import { shaderModule } from '../../core/wgsl';
import { uniformLayout } from '../../memory/uniforms';
import { renderPipelinePerFormat } from '../pipeline-per-format';

/** The Links struct's layout, read from the WGSL so offsets are written down once. */
export const LINKS_UNIFORMS = uniformLayout(linksWgsl, 'Links');

export interface LinkPipelines {
  readonly linkLayout: GPUBindGroupLayout;
  readonly nodeLayout: GPUBindGroupLayout;
  linksFor(format: GPUTextureFormat): GPURenderPipeline;
  nodesFor(format: GPUTextureFormat): GPURenderPipeline;
}

// Premultiplied "over": overlapping heads mix, and a link of opacity 1 shows its colour exactly.
const PREMULTIPLIED: GPUBlendState = {
  color: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha', operation: 'add' },
  alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha', operation: 'add' },
};

function buildLinkPipelines(device: GPUDevice): LinkPipelines {
  const module = shaderModule(device, 'AttentionLinks.module', [numericsWgsl, linksWgsl]);
  const vertex = GPUShaderStage.VERTEX;
  const linkLayout = device.createBindGroupLayout({
    label: 'AttentionLinks.linkLayout',
    entries: [
      { binding: 0, visibility: vertex, buffer: { type: 'read-only-storage' } }, // weights
      { binding: 1, visibility: vertex, buffer: { type: 'read-only-storage' } }, // colours
      { binding: 2, visibility: vertex, buffer: { type: 'uniform' } }, // arrangement
    ],
  });
  const nodeLayout = device.createBindGroupLayout({
    label: 'AttentionLinks.nodeLayout',
    entries: [
      { binding: 0, visibility: vertex, buffer: { type: 'read-only-storage' } }, // node values
      { binding: 1, visibility: vertex, texture: { sampleType: 'unfilterable-float' } }, // colormap
    ],
  });
  const layouts = {
    link_vertex: device.createPipelineLayout({ label: 'AttentionLinks.links', bindGroupLayouts: [linkLayout] }),
    node_vertex: device.createPipelineLayout({ label: 'AttentionLinks.nodes', bindGroupLayouts: [linkLayout, nodeLayout] }),
  };
  const perFormat = (entryPoint: keyof typeof layouts) =>
    renderPipelinePerFormat(device, `AttentionLinks.${entryPoint}`, layouts[entryPoint], module, { vertexEntry: entryPoint, blend: PREMULTIPLIED });
  return { linkLayout, nodeLayout, linksFor: perFormat('link_vertex'), nodesFor: perFormat('node_vertex') };
}

export function linkPipelines(device: GPUDevice): LinkPipelines {
  return cachedPerDevice(device, buildLinkPipelines);
}
