// UniformRing: dispatches recorded into one submit each read their own slot, and a push that would
// overwrite a slot still waiting for its submit is refused instead of silently binding the later values.
import { describe, expect, it } from 'vitest';
import { paramsEntry, UniformRing } from '../../src/kernels/kernel-bindings';
import { uniformLayout } from '../../src/memory/uniforms';
import { useEngine } from '../helpers/engine';

const engine = useEngine();

const WGSL = /* wgsl */ `
struct Params { index: u32, value: f32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@compute @workgroup_size(1) fn main() { out[params.index] = params.value; }`;

describe('UniformRing', () => {
  it('gives each dispatch of one submit its own slot, and refuses more pushes than slots before a submit', async () => {
    const device = engine().device;
    const slots = 3;
    const ring = new UniformRing(engine(), uniformLayout(WGSL, 'Params'), 'test.ring', slots);
    const layout = device.createBindGroupLayout({
      entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }, paramsEntry(1)],
    });
    const pipeline = device.createComputePipeline({
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: device.createShaderModule({ code: WGSL }), entryPoint: 'main' },
    });
    const out = engine().createBuffer({ label: 'test.ring.out', size: 4 * slots, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(out, 0, new Float32Array(slots).fill(NaN));
    const bindGroup = device.createBindGroup({
      layout,
      entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: { buffer: ring.buffer, size: ring.bindingSize } }],
    });
    const values = [2.5, -7.25, 1e3];
    const record = (encoder: GPUCommandEncoder, index: number) => {
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup, [ring.push({ index, value: values[index]! })]);
      pass.dispatchWorkgroups(1);
      pass.end();
    };

    await engine().run('test.ring.fill', (encoder) => {
      for (let index = 0; index < slots; index++) record(encoder, index);
      expect(() => ring.push({ index: 0, value: 0 })).toThrow(`test.ring: all ${slots} parameter slots are taken by work not yet submitted; another would overwrite the first.`);
    });
    const staging = engine().createBuffer({ label: 'test.ring.read', size: out.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    await engine().run('test.ring.read', (encoder) => encoder.copyBufferToBuffer(out, 0, staging, 0, out.size));
    await staging.mapAsync(GPUMapMode.READ);
    expect(Array.from(new Float32Array(staging.getMappedRange()))).toEqual(values);
    staging.unmap();

    // After the submit the slots are free again: a full round more records without complaint.
    await engine().run('test.ring.again', (encoder) => {
      for (let index = 0; index < slots; index++) record(encoder, index);
    });
    for (const buffer of [staging, out, ring]) buffer.destroy();
  });
});
