// The engine: one device, labelled errors, the frame loop's single submit, timers, tensors, leaks.
import { describe, expect, it, vi } from 'vitest';
import {
  DeviceLostError,
  GpuOperationError,
  InvalidArgumentError,
  createEngine,
  createFrameLoop,
  createGpuTimer,
  tensorFromArray,
  tensorFromBuffer,
} from '../../src/index';
import { useEngine } from '../helpers/engine';
import { randomFloats } from '../../src/reference/random';

const engine = useEngine();

describe('engine', () => {
  it('requests the adapter maximum binding size and the optional features it offers', async () => {
    const adapter = (await navigator.gpu.requestAdapter())!;
    expect(engine().limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
    expect(engine().limits.maxBufferSize).toBe(adapter.limits.maxBufferSize);
    expect(engine().features.timestampQuery).toBe(adapter.features.has('timestamp-query'));
  });

  it('throws WebGPU validation errors with the label of the work that caused them', async () => {
    const tiny = engine().createBuffer({ label: 'test.tiny', size: 4, usage: GPUBufferUsage.COPY_SRC });
    const other = engine().createBuffer({ label: 'test.other', size: 4, usage: GPUBufferUsage.COPY_DST });
    const run = engine().run('test.oversizedCopy', (encoder) => encoder.copyBufferToBuffer(tiny, 0, other, 0, 64));
    await expect(run).rejects.toThrow(GpuOperationError);
    await expect(engine().run('test.oversizedCopy', (e) => e.copyBufferToBuffer(tiny, 0, other, 0, 64))).rejects.toThrow(
      /^test\.oversizedCopy: WebGPU validation error/,
    );
    tiny.destroy();
    other.destroy();
  });

  it('the frame loop records every participant into one encoder and submits once per frame', () => {
    const loop = createFrameLoop(engine());
    const order: string[] = [];
    const encoders = new Set<GPUCommandEncoder>();
    loop.add({ render: (encoder) => (order.push('render A'), encoders.add(encoder)) });
    loop.add({ compute: (encoder) => (order.push('compute B'), encoders.add(encoder)) });
    const submit = vi.spyOn(engine().device.queue, 'submit');
    loop.frame();
    loop.frame();
    expect(submit).toHaveBeenCalledTimes(2);
    submit.mockRestore();
    expect(order).toEqual(['compute B', 'render A', 'compute B', 'render A']);
    expect(encoders.size).toBe(2);
    expect(loop.framesSubmitted).toBe(2);
  });

  it('the frame loop stops when a participant stops it or a frame throws, and start() resumes it', async () => {
    const loop = createFrameLoop(engine(), 'test.loop');
    const nextFrames = (count: number) => new Promise<void>((resolve) => {
      let left = count;
      const step = () => (--left <= 0 ? resolve() : requestAnimationFrame(step));
      requestAnimationFrame(step);
    });
    let stopAt = -1;
    let throwAt = -1;
    loop.add({
      compute: (_encoder, info) => {
        if (info.frame === stopAt) loop.stop();
        if (info.frame === throwAt) throw new Error('test: a participant failed');
      },
    });
    stopAt = 2;
    loop.start();
    await nextFrames(8);
    expect(loop.framesSubmitted).toBe(3); // frames 0, 1 and 2, which stopped the loop
    const failures: unknown[] = [];
    const onError = (event: ErrorEvent) => { failures.push(event.error); event.preventDefault(); };
    window.addEventListener('error', onError);
    throwAt = 5;
    loop.start();
    await nextFrames(8);
    window.removeEventListener('error', onError);
    expect(failures).toHaveLength(1);
    expect(loop.framesSubmitted).toBe(5); // frame 5 threw before its submit
    throwAt = -1;
    loop.start(); // resumes after the throw
    await nextFrames(4);
    loop.stop();
    expect(loop.framesSubmitted).toBeGreaterThan(5);
  });

  it('times labelled passes with timestamp queries: a busy pass longer than an empty one, within the wall clock', async () => {
    const device = engine().device;
    const timer = createGpuTimer(engine());
    const module = device.createShaderModule({
      label: 'test.busy',
      code: /* wgsl */ `
        @group(0) @binding(0) var<storage, read_write> out: array<f32>;
        @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
          var x = f32(id.x) * 0.001;
          for (var i = 0u; i < 4096u; i++) { x = fract(x * 1.0001 + 0.37); } // a dependent chain: not foldable
          out[id.x] = x;
        }`,
    });
    const pipeline = device.createComputePipeline({ label: 'test.busy', layout: 'auto', compute: { module, entryPoint: 'main' } });
    const out = engine().createBuffer({ label: 'test.busy.out', size: 64 * 64 * 4, usage: GPUBufferUsage.STORAGE });
    const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: out } }] });
    const started = performance.now();
    await engine().run('test.timed', (encoder) => {
      encoder.beginComputePass({ label: 'test.empty', timestampWrites: timer.pass('empty') }).end();
      const pass = encoder.beginComputePass({ label: 'test.busy', timestampWrites: timer.pass('busy') });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(64);
      pass.end();
      timer.resolve(encoder);
    });
    const times = await timer.read();
    const wallMs = performance.now() - started;
    if (timer.available) {
      expect([...times.keys()].sort()).toEqual(['busy', 'empty']);
      expect(times.get('busy')!).toBeGreaterThan(times.get('empty')!);
      expect(times.get('busy')!).toBeLessThanOrEqual(wallMs);
    } else {
      expect(times.size).toBe(0); // a device without timestamps: nothing timed, nothing thrown
    }
    timer.destroy();
    out.destroy();
  });

  it('reads back a range of a tensor and rejects ranges outside it', async () => {
    const values = randomFloats(37, 6);
    const t = tensorFromArray(engine(), values, [37]);
    expect(Array.from(await t.readRange(10, 3))).toEqual(Array.from(values.subarray(10, 13)));
    await expect(t.readRange(36, 2)).rejects.toThrow(/outside a tensor of 37 elements/);
    t.destroy();
  });

  it('rejects data that does not fit the shape, and bad shapes', () => {
    expect(() => tensorFromArray(engine(), new Float32Array(5), [2, 3])).toThrow(/holds 6 elements, but the data has 5/);
    expect(() => tensorFromArray(engine(), new Float32Array(0), [0])).toThrow(InvalidArgumentError);
    expect(() => tensorFromArray(engine(), new Float32Array(0), [0])).toThrow(/non-empty list of positive integers; got \[0\]/);
  });

  it('wraps a caller-owned buffer without taking ownership', async () => {
    const buffer = engine().device.createBuffer({
      label: 'test.callerOwned',
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    engine().device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4]));
    const t = tensorFromBuffer(engine(), buffer, [2, 2]);
    expect(Array.from(await t.read())).toEqual([1, 2, 3, 4]);
    t.destroy();
    await expect(t.read()).rejects.toThrow(/used after destroy/);
    // The buffer is still the caller's and still usable.
    const again = tensorFromBuffer(engine(), buffer, [4]);
    expect(Array.from(await again.read())).toEqual([1, 2, 3, 4]);
    buffer.destroy();
  });

  it('a lost device is reported as such, not as a validation error', async () => {
    const own = await createEngine({ tfjs: false });
    const t = tensorFromArray(own, [1, 2, 3], [3]);
    own.device.destroy();
    await own.device.lost;
    await expect(t.read()).rejects.toThrow(DeviceLostError);
    own.destroy();
    expect(own.liveBufferCount()).toBe(0);
  });
});
