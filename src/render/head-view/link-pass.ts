// The GPU side both link views share: the Links uniforms, one colour per group, the bind groups over the
// weights, the compaction that lists the links to draw, and the render pass that draws them in two
// indirect draws per group, hairlines and quads (plus the nodes' draw for the layered graph). Made once; a
// frame rewrites the uniforms only when a field changed.
import type { Engine } from '../../core/engine';
import { DeviceLimitError, formatBytes, invalidArgument } from '../../core/errors';
import type { GpuTensor } from '../../memory/gpu-tensor';
import { UniformBuffer } from '../../memory/uniforms';
import { createLinkCompaction, hairlineDraw, widerDraw } from './link-compaction';
import { LINKS_UNIFORMS, linkPipelines } from './link-pipelines';
import { clearingPass } from '../clearing-pass';

export type LinkField = keyof typeof LINK_DEFAULTS;

export interface NodeDraw {
  bindGroup: GPUBindGroup;
  count: number;
}

export interface LinkPass {
  /** Sets one Links field; the uniforms are rewritten before the next draw if any value changed. */
  set(field: LinkField, value: number): void;
  /** Sets group g's colour (RGB in 0..1) and whether it is drawn. */
  setColour(group: number, rgb: readonly number[], enabled: boolean): void;
  setWeights(weights: GpuTensor): void;
  /** Draws the links of groups 0 .. groups − 1 (groups · per_group of them), and the nodes if given. */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, format: GPUTextureFormat, groups: number, nodes?: NodeDraw): void;
  destroy(): void;
}

// Every field of the WGSL struct Links, with its value before the view arranges anything.
const LINK_DEFAULTS = {
  viewport_w: 1, viewport_h: 1,
  a_origin_x: 0, a_origin_y: 0, a_step_x: 0, a_step_y: 0,
  b_origin_x: 0, b_origin_y: 0, b_step_x: 0, b_step_y: 0,
  group_step_x: 0, group_step_y: 0,
  tokens: 1, per_group: 1, link_count: 0, element_offset: 0, colour_stride: 1,
  threshold: 0, min_width: 1, max_width: 4, opacity: 1, invisible_alpha: 0, focus_a: -1, focus_b: -1,
  node_size: 0, node_offset: 0, node_layers: 0, node_lo: 0, node_inv_range: 1, node_r: 0.5, node_g: 0.5, node_b: 0.5,
};

export function createLinkPass(
  engine: Engine,
  options: { label: string; weights: GpuTensor; groups: number; background: readonly number[] },
): LinkPass {
  const { device } = engine;
  const { label } = options;
  const pipelines = linkPipelines(device);
  const params: Record<LinkField, number> = { ...LINK_DEFAULTS };
  for (const name of LINKS_UNIFORMS.fields.keys()) {
    invalidArgument(name in params, () => `${label}: the Links struct has a field '${name}' with no default.`);
  }
  let weights = checkedWeights(engine, options.weights, label); // before anything is allocated
  let dirty = true;
  const uniforms = new UniformBuffer(engine, LINKS_UNIFORMS, `${label}.uniforms`);
  const colourData = new Float32Array(Math.max(1, options.groups) * 4);
  const colours = engine.createBuffer({
    label: `${label}.colours`,
    size: colourData.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  let coloursDirty = true;
  let bindGroup: GPUBindGroup | null = null; // over the drawn list too: made again when it grows
  const compaction = createLinkCompaction(engine, pipelines, label, () => (bindGroup = null));
  const beginPass = clearingPass(label, options.background);
  compaction.setInputs(inputs());

  function inputs() {
    return { weights: { buffer: weights.buffer, size: weights.byteLength }, colours, uniforms: uniforms.buffer };
  }

  function renderBindGroup(links: number): GPUBindGroup {
    bindGroup ??= device.createBindGroup({
      label: `${label}.bindGroup`,
      layout: pipelines.linkLayout,
      entries: [
        { binding: 0, resource: { buffer: weights.buffer, size: weights.byteLength } },
        { binding: 1, resource: { buffer: colours } },
        { binding: 2, resource: { buffer: uniforms.buffer } },
        { binding: 3, resource: compaction.drawnFor(links) },
      ],
    });
    return bindGroup;
  }

  // Group by group, so that a later group lands over an earlier one; within a group (one colour) the order
  // of hairlines and quads does not change the blend (shaders/compute/link-compaction.wgsl).
  function drawGroups(pass: GPURenderPassEncoder, format: GPUTextureFormat, groups: number): void {
    const draws = compaction.drawsFor(groups);
    const [hairlines, quads] = [pipelines.hairlinesFor(format), pipelines.linksFor(format)];
    for (let g = 0; g < groups; g++) {
      pass.setPipeline(hairlines);
      pass.drawIndirect(draws, hairlineDraw(g)); // 2 vertices per drawn hairline
      pass.setPipeline(quads);
      pass.drawIndirect(draws, widerDraw(g)); // 6 vertices per drawn wider link
    }
  }

  function set(field: LinkField, value: number): void {
    if (params[field] === value) return;
    params[field] = value;
    dirty = true;
  }

  return {
    set,
    setColour(group, rgb, enabled) {
      colourData.set([rgb[0] ?? 0, rgb[1] ?? 0, rgb[2] ?? 0, enabled ? 1 : 0], group * 4);
      coloursDirty = true;
    },
    setWeights(next) {
      weights = checkedWeights(engine, next, label);
      bindGroup = null;
      compaction.setInputs(inputs());
    },
    draw(encoder, target, format, groups, nodes) {
      const links = groups * params.per_group;
      weights.assertUsable();
      set('invisible_alpha', invisibleAlpha(format));
      set('link_count', links);
      if (dirty) uniforms.write(params);
      if (coloursDirty) device.queue.writeBuffer(colours, 0, colourData);
      dirty = coloursDirty = false;
      if (links > 0) compaction.record(encoder, links, groups);
      const pass = beginPass(encoder, target);
      pass.setBindGroup(0, renderBindGroup(links));
      if (links > 0) drawGroups(pass, format, groups);
      if (nodes && nodes.count > 0) {
        pass.setPipeline(pipelines.nodesFor(format));
        pass.setBindGroup(1, nodes.bindGroup);
        pass.draw(6 * nodes.count);
      }
      pass.end();
    },
    destroy() {
      uniforms.destroy();
      colours.destroy();
      compaction.destroy();
    },
  };
}

/**
 * The opacity below which a blended link changes no pixel of a `format` target: half a step of an 8-bit
 * linear target, where the blend rounds back to the byte that was there; 0 (every link drawn) for the rest
 * (float targets keep faint links, and sRGB targets have finer steps near black).
 */
function invisibleAlpha(format: GPUTextureFormat): number {
  return format === 'rgba8unorm' || format === 'bgra8unorm' ? 0.5 / 255 : 0;
}

function checkedWeights(engine: Engine, weights: GpuTensor, label: string): GpuTensor {
  weights.assertUsable();
  invalidArgument(weights.engine === engine, () => `${label}: the weights belong to another engine.`);
  const limit = engine.limits.maxStorageBufferBindingSize;
  if (weights.byteLength > limit) {
    throw new DeviceLimitError(
      `${label}: weights of shape [${weights.shape.join(', ')}] take ${formatBytes(weights.byteLength)}, more than ` +
        `this device's maxStorageBufferBindingSize of ${formatBytes(limit)}.`,
    );
  }
  return weights;
}
