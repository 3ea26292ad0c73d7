// The neuron view: its panel kernel against the float64 reference on seeded Q/K (awkward dh, n = 9, causal
// P with masked keys), the view's pixels for known products, per-head summaries, clear errors, no leaks.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/errors';
import { tensorFromArray, type GpuTensor } from '../../src/memory/gpu-tensor';
import { createNeuronPanelKernel, neuronPanelLayout, type NeuronSelection } from '../../src/kernels/neuron-panel';
import { referenceAttentionWeights } from '../../src/reference/attention';
import { referenceNeuronPanel } from '../../src/reference/neuron-panel';
import { randomFloats } from '../../src/reference/random';
import { colormapIndex, colormapRgba, type ColormapName } from '../../src/render/colormaps';
import { createNeuronView, type NeuronHeadSummary, type NeuronView, type NeuronViewOptions } from '../../src/render/neuron-view/neuron-view';
import { neuronCellCenter, type NeuronRowIndex } from '../../src/render/neuron-view/layout';
import { drawPixels } from '../helpers/draw-pixels';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const [LAYERS, HEADS, N] = [2, 3, 9];

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  p: Float32Array;
  dh: number;
  n: number;
}

/** Seeded Q, K [L, H, n, dh] and the causal softmax P they give (float64 reference, rounded to float32). */
function inputsFor(dh: number, seed: number, n = N): Inputs {
  const q = randomFloats(LAYERS * HEADS * n * dh, seed, 2);
  const k = randomFloats(LAYERS * HEADS * n * dh, seed + 1, 2);
  const p = Float32Array.from(referenceAttentionWeights({ q, k, batch: LAYERS * HEADS, nq: n, nk: n, d: dh, causal: true }));
  return { q, k, p, dh, n };
}

const tensors: GpuTensor[] = [];
const views: NeuronView[] = [];
let canvas: HTMLCanvasElement;
let liveBefore: number;

function upload(inputs: Inputs, shapeOf = (last: number) => [LAYERS, HEADS, inputs.n, last]) {
  const make = (data: Float32Array, shape: number[], name: string) => {
    const t = tensorFromArray(engine(), data, shape, { label: `test.${name}` });
    tensors.push(t);
    return t;
  };
  return { q: make(inputs.q, shapeOf(inputs.dh), 'q'), k: make(inputs.k, shapeOf(inputs.dh), 'k'), weights: make(inputs.p, shapeOf(inputs.n), 'P') };
}

beforeEach(() => {
  liveBefore = engine().liveBufferCount();
  canvas = document.createElement('canvas');
  canvas.style.cssText = 'width: 200px; height: 150px; display: block;';
  const holder = document.createElement('div');
  holder.style.position = 'relative';
  holder.append(canvas);
  document.body.append(holder);
});

/** A selection's summary readback may still be in flight when a test ends; it frees its staging buffer on landing. */
async function readbacksLanded(): Promise<void> {
  for (let tries = 0; tries < 200 && engine().liveBufferLabels().some((name) => name.endsWith('.readback')); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(async () => {
  for (const view of views.splice(0)) view.destroy();
  for (const t of tensors.splice(0)) t.destroy();
  canvas.parentElement!.remove();
  await readbacksLanded();
  expect(engine().liveBufferCount(), engine().liveBufferLabels().join(', ')).toBe(liveBefore);
});

function makeView(options: Omit<NeuronViewOptions, 'canvas'>): NeuronView {
  const view = createNeuronView(engine(), { canvas, ...options });
  views.push(view);
  return view;
}

/** Every element within a relative tolerance of the reference; −inf exactly where the reference has it. */
function expectPanel(got: Float32Array, want: Float64Array, what: string): void {
  expect(got.length).toBe(want.length);
  for (let e = 0; e < want.length; e++) {
    const [g, w] = [got[e]!, want[e]!];
    if (w === -Infinity) {
      expect(g, `${what}: element ${e} should be −inf (masked)`).toBe(-Infinity);
      continue;
    }
    expect(Number.isFinite(g), `${what}: element ${e} is ${g} (unwritten or non-finite), expected ${w}`).toBe(true);
    expect(Math.abs(g - w), `${what}: element ${e} is ${g}, expected ${w}`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(w)));
  }
}

describe('neuron panel kernel', () => {
  const selections: NeuronSelection[] = [
    { layer: 1, query: 6, key: 2 },
    { layer: 0, query: 0, key: 0 }, // one visible key: the P row is one 1 and eight 0s
    { layer: 1, query: 8, key: 8 },
    { layer: 0, query: 3, key: 7 }, // key j is masked: P_ij = 0, s_ij still the product's sum
  ];
  // n = 9: the small panels. n = 130, dh = 80 and n = 70, dh = 65: keys and channels past the kernel's 64
  // threads, so each thread handles several and the reductions fold more than one element each.
  const largeSelections: NeuronSelection[] = [
    { layer: 1, query: 129, key: 100 },
    { layer: 0, query: 64, key: 64 },
    { layer: 1, query: 66, key: 129 }, // key j masked
    { layer: 0, query: 127, key: 0 },
  ];
  it.each([
    { dh: 5, n: N, selections },
    { dh: 16, n: N, selections },
    { dh: 80, n: 130, selections: largeSelections },
    { dh: 65, n: 70, selections: largeSelections.map((s) => ({ ...s, query: Math.min(s.query, 69), key: Math.min(s.key, 69) })) },
  ])('dh = $dh, n = $n matches the float64 reference for every selection, every element written', async ({ dh, n, selections: cases }) => {
    const inputs = inputsFor(dh, 40 + dh, n);
    const io = upload(inputs);
    const layout = neuronPanelLayout(HEADS, n, dh);
    const out = tensorFromArray(engine(), new Float32Array(layout.size).fill(NaN), [layout.size], { label: 'test.panel' });
    tensors.push(out);
    const kernel = createNeuronPanelKernel(engine(), 'test.NeuronPanel');
    try {
      for (const selection of cases) {
        await engine().run('test.poison', () => engine().device.queue.writeBuffer(out.buffer, 0, new Float32Array(layout.size).fill(NaN)));
        const scale = 1 / Math.sqrt(dh);
        await engine().run('test.panel', (encoder) => kernel.record(encoder, { out: out.buffer, ...io }, selection, scale));
        const got = await out.read();
        const want = referenceNeuronPanel({ ...inputs, ...selection, heads: HEADS, n, scale });
        expectPanel(got, want, `dh ${dh}, ${JSON.stringify(selection)}`);
        for (let h = 0; h < HEADS; h++) {
          const [raw, stats] = [layout.raw(h), layout.stats(h)];
          // The P row is the input row, bit for bit; the sum of q⊙k times the scale is the score of key j.
          const row = inputs.p.subarray(((selection.layer * HEADS + h) * n + selection.query) * n, ((selection.layer * HEADS + h) * n + selection.query + 1) * n);
          expect([...got.subarray(raw + layout.rows.weights, raw + layout.rows.weights + n)]).toEqual([...row]);
          const product = got.subarray(raw + layout.rows.product, raw + layout.rows.product + dh).reduce((a, b) => a + b, 0);
          expect(got[stats]).toBeCloseTo(product * scale, 5);
          if (selection.key <= selection.query) expect(got[stats]).toBeCloseTo(got[raw + layout.rows.scores + selection.key]!, 5);
          // Display values reach ±1 at the largest magnitude.
          const display = got.subarray(layout.display(h), layout.display(h) + 3 * dh);
          expect(Math.max(...display.map(Math.abs))).toBeCloseTo(1, 6);
        }
      }
    } finally {
      kernel.destroy();
    }
  });

  it('accepts [heads, n, dh] as one layer', async () => {
    const inputs = inputsFor(5, 7);
    const one = { ...inputs, q: inputs.q.subarray(0, HEADS * N * 5), k: inputs.k.subarray(0, HEADS * N * 5), p: inputs.p.subarray(0, HEADS * N * N) };
    const io = upload(one, (last) => [HEADS, N, last]);
    const view = makeView({ ...io, query: 5, key: 1 });
    await drawPixels(engine(), view, 40, 40);
    expectPanel(await view.panel.read(), referenceNeuronPanel({ ...one, layer: 0, query: 5, key: 1, heads: HEADS, n: N, scale: 1 / Math.sqrt(5) }), 'one layer');
  });
});

describe('NeuronView', () => {
  it('recomputes the panel when the selection changes and reports each head\'s s_ij and P_ij once', async () => {
    const inputs = inputsFor(16, 3);
    const io = upload(inputs);
    const summaries: (readonly NeuronHeadSummary[])[] = [];
    const view = makeView({ ...io, layer: 1, query: 4, key: 2, onSummary: (s) => summaries.push(s) });
    await drawPixels(engine(), view, 200, 150);
    const reference = (s: NeuronSelection) => referenceNeuronPanel({ ...inputs, ...s, heads: HEADS, n: N, scale: 0.25 });
    expectPanel(await view.panel.read(), reference({ layer: 1, query: 4, key: 2 }), 'first selection');
    view.setSelection({ layer: 0, query: 7 });
    await drawPixels(engine(), view, 200, 150);
    await drawPixels(engine(), view, 200, 150); // unchanged selection: no new readback
    const want = reference({ layer: 0, query: 7, key: 2 });
    expectPanel(await view.panel.read(), want, 'second selection');
    await expect.poll(() => summaries.length).toBe(2);
    const layout = view.panelLayout;
    summaries[1]!.forEach((s, h) => {
      expect(s.head).toBe(h);
      expect(s.score).toBeCloseTo(want[layout.stats(h)]!, 5);
      expect(s.weight).toBeCloseTo(want[layout.stats(h) + 1]!, 6);
    });
    const titles = [...canvas.parentElement!.querySelectorAll('[data-glassbox="NeuronView.labels"] > div')].map((el) => el.textContent);
    expect(titles.filter((t) => t?.startsWith('head')).length).toBe(HEADS);
    expect(titles).toContain('q⊙k');
    expect(titles.find((t) => t?.startsWith('head 1'))).toContain(`s = ${summaries[1]![1]!.score.toFixed(3)}`);
  });

  it('colours known positive and negative products, scores and P with their colormaps; key j has a border', async () => {
    // One layer, one head, dh = 3, n = 4. q_1 = (1.3, −0.7, 0.45); k_t rows chosen so the products are
    // (1.3, −0.63, −0.36) and key 3 is masked (P = 0).
    const dh = 3;
    const q = new Float32Array(4 * dh).fill(0.25);
    q.set([1.3, -0.7, 0.45], dh);
    const k = Float32Array.from([0.2, 0.1, -0.3, 1.0, 0.9, -0.8, -0.5, 0.4, 0.6, 0.7, 0.2, 0.1]);
    const p = new Float32Array(16).fill(0.25);
    p.set([0.1, 0.55, 0.35, 0], 4);
    const make = (data: Float32Array, shape: number[]) => {
      const t = tensorFromArray(engine(), data, shape, { label: 'test.small' });
      tensors.push(t);
      return t;
    };
    const [width, height] = [128, 96];
    const view = makeView({ q: make(q, [1, 4, dh]), k: make(k, [1, 4, dh]), weights: make(p, [1, 4, 4]), query: 1, key: 1, scale: 0.5 });
    const pixels = await drawPixels(engine(), view, width, height);
    const g = view.geometry;
    expect(g.cell, 'cells must be several pixels wide to test their centres and borders').toBeGreaterThan(8);
    const pixel = (x: number, y: number) => [...pixels.subarray((Math.floor(y) * width + Math.floor(x)) * 4, (Math.floor(y) * width + Math.floor(x)) * 4 + 4)];
    const colour = (name: ColormapName, t: number) => {
      const bin = t * 256;
      // t = 1 (the largest |value|) lies in the last bin however it rounds; only interior boundaries are ambiguous.
      if (bin > 0.5 && bin < 255.5) expect(Math.abs(bin - Math.round(bin)), `t ${t} is at a bin boundary`).toBeGreaterThan(1e-3);
      const e = colormapIndex(t);
      return [...colormapRgba(name).subarray(e * 4, e * 4 + 4)];
    };
    const expectCell = (row: NeuronRowIndex, index: number, want: number[], what: string) => {
      const c = neuronCellCenter(g, 0, row, index);
      const got = pixel(c.x, c.y);
      expect(got.some((v, i) => Math.abs(v - want[i]!) > 1), `${what}: got rgba(${got}), expected rgba(${want})`).toBe(false);
    };
    const products = [1.3 * 1.0, -0.7 * 0.9, 0.45 * -0.8].map(Math.fround);
    const productMax = Math.max(...products.map(Math.abs));
    products.forEach((x, c) => expectCell(2, c, colour('coolwarm', (x / productMax + 1) / 2), `q⊙k[${c}] = ${x}`));
    const vectorMax = 1.3;
    [1.3, -0.7, 0.45].forEach((x, c) => expectCell(0, c, colour('coolwarm', (Math.fround(x) / vectorMax + 1) / 2), `q[${c}]`));
    [1.0, 0.9, -0.8].forEach((x, c) => expectCell(1, c, colour('coolwarm', (Math.fround(x) / vectorMax + 1) / 2), `k[${c}]`));
    // A positive product is on the warm side, a negative one on the cool side.
    const at = (row: NeuronRowIndex, c: number) => pixel(neuronCellCenter(g, 0, row, c).x, neuronCellCenter(g, 0, row, c).y);
    expect(at(2, 0)[0]!).toBeGreaterThan(at(2, 0)[2]!);
    expect(at(2, 1)[2]!).toBeGreaterThan(at(2, 1)[0]!);
    [0.1, 0.55, 0.35].forEach((x, t) => t !== 1 && expectCell(4, t, colour('viridis', Math.fround(x)), `P[${t}]`));
    expectCell(3, 3, [89, 89, 89, 255], 'masked score (P = 0)');
    // Key 1's cells: value colour at the centre, the highlight on the border.
    expectCell(4, 1, colour('viridis', Math.fround(0.55)), 'P[key] centre');
    const edge = neuronCellCenter(g, 0, 4, 1);
    expect(pixel(edge.x - g.cell / 2 + 0.5, edge.y)).toEqual([255, 217, 26, 255]);
    expect(pixel(edge.x - g.cell / 2 - 0.5, edge.y)).not.toEqual([255, 217, 26, 255]); // the neighbour's edge
    // Left of the cells (the label gutter) and cells past dh in the vector rows are background.
    expect(pixel(2, neuronCellCenter(g, 0, 0, 0).y)).toEqual([31, 31, 31, 255]);
    expect(pixel(neuronCellCenter(g, 0, 0, 3).x, neuronCellCenter(g, 0, 0, 3).y)).toEqual([31, 31, 31, 255]);
  });
});

describe('NeuronView errors', () => {
  it('rejects selections out of range, at creation and in setSelection', () => {
    const io = upload(inputsFor(5, 9));
    expect(() => makeView({ ...io, query: 9 })).toThrow(/query must be an integer in 0\.\.8; got 9/);
    expect(() => makeView({ ...io, key: -1 })).toThrow(/key must be an integer in 0\.\.8; got -1/);
    expect(() => makeView({ ...io, layer: 2 })).toThrow(/layer must be an integer in 0\.\.1; got 2/);
    const view = makeView({ ...io });
    expect(() => view.setSelection({ query: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => view.setSelection({ query: 1.5 })).toThrow(/query must be an integer in 0\.\.8; got 1\.5/);
    expect(view.selection).toEqual({ layer: 0, query: 0, key: 0 });
  });

  it('rejects Q, K and P whose shapes disagree', () => {
    const inputs = inputsFor(5, 11);
    const io = upload(inputs);
    const other = upload({ ...inputs, q: inputs.q.subarray(0, LAYERS * HEADS * N * 4), k: inputs.k.subarray(0, LAYERS * HEADS * N * 4), dh: 4 });
    expect(() => makeView({ ...io, k: other.k })).toThrow(/q and k must have the same shape; got q \[2, 3, 9, 5\] and k \[2, 3, 9, 4\]/);
    const p = tensorFromArray(engine(), inputs.p.subarray(0, LAYERS * HEADS * 8 * 8), [LAYERS, HEADS, 8, 8], { label: 'test.P8' });
    tensors.push(p);
    expect(() => makeView({ ...io, weights: p })).toThrow(/weights must be \[2, 3, 9, 9\] to match q \[2, 3, 9, 5\]; got \[2, 3, 8, 8\]/);
    const flat = tensorFromArray(engine(), inputs.q.subarray(0, 45), [9, 5], { label: 'test.flat' });
    tensors.push(flat);
    expect(() => makeView({ ...io, q: flat })).toThrow(/q must be \[layers, heads, n, dh\] or \[heads, n, dh\]; got \[9, 5\]/);
  });

  it('destroy removes the labels and is safe twice; drawing after destroy throws', async () => {
    const view = makeView({ ...upload(inputsFor(5, 13)) });
    expect(canvas.parentElement!.querySelector('[data-glassbox="NeuronView.labels"]')).not.toBeNull();
    view.destroy();
    view.destroy();
    expect(canvas.parentElement!.querySelector('[data-glassbox="NeuronView.labels"]')).toBeNull();
    await expect(drawPixels(engine(), view, 16, 16)).rejects.toThrow(/used after destroy/);
  });
});
