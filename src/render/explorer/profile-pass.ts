// The explorer's axis profiles (attention received per key along the top, entropy per query down the
// left), drawn by shaders/render/explorer-profiles.wgsl from the profile buffers themselves.
import profilesWgsl from '../../../shaders/render/explorer-profiles.wgsl?raw';
import type { Engine } from '../../core/engine';
import { cachedPerDevice } from '../../core/pipeline-cache';
import { shaderModule } from '../../core/wgsl';
import type { GpuTensor } from '../../memory/gpu-tensor';
import { UniformBuffer, uniformLayout } from '../../memory/uniforms';
import { renderPipelinePerFormat } from '../pipeline-per-format';

const VIEW = uniformLayout(profilesWgsl, 'ProfileView');
/** Thickness of the profile strips, in canvas pixels. */
export const PROFILE_STRIP_PX = 48;

export interface AxisProfiles {
  /** [heads, nk] */
  columnSums: GpuTensor;
  /** [heads, nq] */
  entropy: GpuTensor;
}

function buildPipelines(device: GPUDevice) {
  const module = shaderModule(device, 'ExplorerProfiles.module', [profilesWgsl]);
  const bindGroupLayout = device.createBindGroupLayout({
    label: 'ExplorerProfiles.bindGroupLayout',
    entries: [
      { binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } },
      { binding: 1, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } },
      { binding: 2, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'uniform' } },
    ],
  });
  const layout = device.createPipelineLayout({ label: 'ExplorerProfiles.layout', bindGroupLayouts: [bindGroupLayout] });
  const pipelineFor = renderPipelinePerFormat(device, 'ExplorerProfiles', layout, module);
  return { bindGroupLayout, pipelineFor };
}

export interface ProfilePass {
  /** Profiles to draw from now on (null: none). The caller keeps them alive while they are shown. */
  setProfiles(profiles: AxisProfiles | null): void;
  setView(values: Record<string, number>): void;
  /** Records the strips into an open render pass (after the tiles), when profiles are set. */
  record(pass: GPURenderPassEncoder, format: GPUTextureFormat): void;
  destroy(): void;
}

export function createProfilePass(engine: Engine, label: string): ProfilePass {
  const pipelines = cachedPerDevice(engine.device, buildPipelines);
  const view = new UniformBuffer(engine, VIEW, `${label}.profileView`);
  let bindGroup: GPUBindGroup | null = null;
  return {
    setProfiles(profiles) {
      bindGroup = profiles
        ? engine.device.createBindGroup({
            label: `${label}.profileBindGroup`,
            layout: pipelines.bindGroupLayout,
            entries: [
              { binding: 0, resource: { buffer: profiles.columnSums.buffer, size: profiles.columnSums.byteLength } },
              { binding: 1, resource: { buffer: profiles.entropy.buffer, size: profiles.entropy.byteLength } },
              { binding: 2, resource: { buffer: view.buffer } },
            ],
          })
        : null;
    },
    setView: (values) => view.write({ ...values, strip: PROFILE_STRIP_PX }),
    record(pass, format) {
      if (!bindGroup) return;
      pass.setPipeline(pipelines.pipelineFor(format));
      pass.setBindGroup(0, bindGroup);
      pass.draw(3);
    },
    destroy() {
      view.destroy();
      bindGroup = null;
    },
  };
}
