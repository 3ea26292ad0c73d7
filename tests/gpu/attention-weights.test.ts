import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionWeights, createEngine, referenceAttentionWeights, tensorFromArray, type Engine } from '../../src/index';
import { maxAbsDifference, randomFloats } from '../helpers/random';

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});
afterAll(() => engine.destroy());

describe('attentionWeights', () => {
  it('matches the float64 reference', async () => {
    const [batch, n, d] = [2, 33, 17];
    const q = randomFloats(batch * n * d, 1, 2);
    const k = randomFloats(batch * n * d, 2, 2);
    const qt = tensorFromArray(engine, q, [batch, n, d]);
    const kt = tensorFromArray(engine, k, [batch, n, d]);
    const p = await attentionWeights(engine, qt, kt, { causal: true });
    const got = await p.read();
    const want = referenceAttentionWeights({ q, k, batch, nq: n, nk: n, d, causal: true });
    expect(maxAbsDifference(got, want)).toBeLessThanOrEqual(1e-5);
    p.destroy(); qt.destroy(); kt.destroy();
  });
});
