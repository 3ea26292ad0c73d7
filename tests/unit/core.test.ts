// Pure parts of the core: messages, uniform layouts read from WGSL, what happens without WebGPU.
import { describe, expect, it } from 'vitest';
import attentionWeightsWgsl from '../../shaders/compute/attention-weights.wgsl?raw';
import { requestDevice } from '../../src/core/device';
import { WebGpuUnavailableError, formatBytes } from '../../src/core/errors';
import { uniformLayout } from '../../src/memory/uniforms';

describe('formatBytes', () => {
  it('gives a short size and the exact count', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1024 ** 3)).toBe('1 GiB (1,073,741,824 bytes)');
    expect(formatBytes(1_500_000)).toBe('1.43 MiB (1,500,000 bytes)');
  });
});

describe('uniformLayout', () => {
  it('reads the attention kernel Params struct in declaration order', () => {
    const layout = uniformLayout(attentionWeightsWgsl, 'Params');
    const names = [...layout.fields.keys()];
    expect(names.slice(0, 4)).toEqual(['batch', 'nq', 'nk', 'd']);
    expect(layout.fields.get('scale')).toEqual({ offset: names.indexOf('scale') * 4, type: 'f32' });
    expect(layout.byteLength % 16).toBe(0);
    expect(layout.byteLength).toBeGreaterThanOrEqual(names.length * 4);
  });

  it('rejects members it cannot lay out, and missing structs', () => {
    expect(() => uniformLayout('struct P { a: vec3<f32>, }', 'P')).toThrow(/'a: vec3<f32>' is not a u32, i32 or f32/);
    expect(() => uniformLayout('struct P { a: u32 }', 'Q')).toThrow(/no struct Q/);
  });
});

describe('requestDevice', () => {
  it('without WebGPU, says what is missing and what to do', async () => {
    await expect(requestDevice()).rejects.toThrow(WebGpuUnavailableError);
    await expect(requestDevice()).rejects.toThrow(/navigator\.gpu is undefined.*secure page/);
  });
});
