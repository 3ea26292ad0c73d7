// Token highlighting: the pixels under each token's span get the colour of its value, read from the GPU
// buffer at offset + t; setOffset switches rows; wrapped lines; vmax 'max' found on the GPU without a
// readback; bad arguments; the DOM is removed on destroy.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tensorFromArray, type GpuTensor } from '../../src/memory/gpu-tensor';
import { seededRandom } from '../../src/reference/random';
import { colormapIndex, colormapRgba, type ColormapName } from '../../src/render/colormaps';
import { createTokenHighlight, type TokenHighlight, type TokenHighlightOptions } from '../../src/render/token-highlight';
import { drawPixels } from '../helpers/draw-pixels';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const TOKENS = ['The', ' cat', ' sat', ' on', ' the', ' mat', '.\n', 'It', ' purred', ' softly', ' and', ' slept', '.'];
const N = TOKENS.length;
// Two rows of distinct values at bin centres, so the GPU's float32 arithmetic cannot land in a neighbouring bin.
const VALUES = Float32Array.from({ length: 2 * N }, (_, i) => (((i * 41 + 7) % 256) + 0.5) / 256);

let container: HTMLElement;
let values: GpuTensor;
let liveBefore: number;
const views: TokenHighlight[] = [];

beforeEach(() => {
  liveBefore = engine().liveBufferCount();
  container = document.createElement('div');
  container.style.cssText = 'width: 180px; font: 16px monospace; padding: 4px;';
  document.body.append(container);
  values = tensorFromArray(engine(), VALUES, [2, N], { label: 'test.values' });
});

afterEach(() => {
  for (const view of views.splice(0)) view.destroy();
  values.destroy();
  container.remove();
  expect(engine().liveBufferCount(), engine().liveBufferLabels().join(', ')).toBe(liveBefore);
});

function make(options: Partial<TokenHighlightOptions> = {}): TokenHighlight {
  const view = createTokenHighlight(engine(), { container, tokens: TOKENS, values, ...options });
  views.push(view);
  return view;
}

/** Draws at the canvas's CSS size (one pixel per CSS pixel) and returns a pixel lookup in CSS coordinates. */
async function draw(view: TokenHighlight) {
  const box = view.canvas.getBoundingClientRect();
  const [width, height] = [Math.round(box.width), Math.round(box.height)];
  const pixels = await drawPixels(engine(), view, width, height);
  const at = (x: number, y: number) => {
    const i = (Math.floor(y * (height / box.height)) * width + Math.floor(x * (width / box.width))) * 4;
    return [...pixels.subarray(i, i + 4)];
  };
  /** The pixel at the centre of token t's span. */
  const under = (t: number) => {
    const r = view.spans[t]!.getBoundingClientRect();
    return at(r.left - box.left + r.width / 2, r.top - box.top + r.height / 2);
  };
  return { at, under, box };
}

function colour(name: ColormapName, value: number, opacity = 1, background = 255): number[] {
  const k = colormapIndex(value);
  const rgb = [...colormapRgba(name).subarray(k * 4, k * 4 + 3)];
  return [...rgb.map((c) => Math.round(c * opacity + background * (1 - opacity))), 255];
}

function expectClose(actual: number[], expected: number[], what: string): void {
  expect(actual.some((c, i) => Math.abs(c - expected[i]!) > 1), `${what}: got rgba(${actual}), expected rgba(${expected}) ±1`).toBe(false);
}

describe('TokenHighlight pixels', () => {
  it('each token\'s span is filled with its value\'s colour (opaque), across wrapped lines', async () => {
    const view = make({ opacity: 1, colormap: 'magma' });
    const tops = new Set(view.spans.map((s) => Math.round(s.getBoundingClientRect().top)));
    expect(tops.size, 'the text should wrap onto several lines').toBeGreaterThanOrEqual(3);
    const { under } = await draw(view);
    for (let t = 0; t < N; t++) expectClose(under(t), colour('magma', VALUES[t]!), `token ${t} '${TOKENS[t]}'`);
  });

  it('blends with the background at the default opacity, and leaves the rest of the canvas background', async () => {
    const view = make({ background: [1, 1, 1] });
    const { under, at, box } = await draw(view);
    for (let t = 0; t < N; t++) expectClose(under(t), colour('viridis', VALUES[t]!, 0.5), `token ${t}`);
    // Right of the last token, on its line, nothing is drawn.
    const last = view.spans[N - 1]!.getBoundingClientRect();
    expect(box.right - last.right, 'room right of the last token').toBeGreaterThan(10);
    expect(at(box.width - 3, last.top - box.top + last.height / 2)).toEqual([255, 255, 255, 255]);
  });

  it('setOffset switches to another row without touching the spans; setRange rescales', async () => {
    const view = make({ opacity: 1 });
    view.setOffset(N);
    expect(view.offset).toBe(N);
    let { under } = await draw(view);
    for (let t = 0; t < N; t++) expectClose(under(t), colour('viridis', VALUES[N + t]!), `row 1, token ${t}`);
    view.setRange({ vmin: 0, vmax: 2 });
    ({ under } = await draw(view));
    for (let t = 0; t < N; t++) expectClose(under(t), colour('viridis', VALUES[N + t]! / 2), `row 1 over 0..2, token ${t}`);
  });

  it('setValues binds another tensor; a non-finite value draws no highlight', async () => {
    const view = make({ opacity: 1 });
    const other = Float32Array.from({ length: N }, (_, t) => (t * 19 + 3.5) / 256);
    other[2] = NaN;
    const tensor = tensorFromArray(engine(), other, [N], { label: 'test.other' });
    try {
      view.setValues(tensor);
      const { under } = await draw(view);
      expect(under(2)).toEqual([255, 255, 255, 255]);
      for (let t = 0; t < N; t++) if (t !== 2) expectClose(under(t), colour('viridis', other[t]!), `token ${t}`);
    } finally {
      view.destroy();
      tensor.destroy();
    }
  });
});

describe('TokenHighlight automatic vmax', () => {
  // Two rows of N at offsets 5 and 5 + N of one flat tensor, with 1000 around them: a scale taken from
  // outside the n values shown would wash every row out. Peaks on both sides of 1, so a range left at [0, 1]
  // draws other colours.
  const ROWS = [
    { offset: 5, peak: 3.7, peakAt: 6, nanAt: 2, minusInfinityAt: 10, negativeAt: 4 },
    { offset: 5 + N, peak: 0.43, peakAt: 9, nanAt: 11, minusInfinityAt: 0, negativeAt: 3 },
  ];
  const WHITE = [255, 255, 255, 255];

  /** Seeded values at bin centres of t = v / peak (so float32 division cannot change the bin), then the specials. */
  function autoValues(): Float32Array {
    const data = new Float32Array(5 + 2 * N + 3).fill(1000);
    const random = seededRandom(13);
    for (const row of ROWS) {
      for (let t = 0; t < N; t++) data[row.offset + t] = (row.peak * (Math.floor(random() * 255) + 0.5)) / 256;
      data[row.offset + row.peakAt] = row.peak;
      data[row.offset + row.nanAt] = NaN;
      data[row.offset + row.minusInfinityAt] = -Infinity;
      data[row.offset + row.negativeAt] = -0.25 * row.peak; // below vmin: the first entry
    }
    return data;
  }

  /** Every token of `row` against the colormap at v / (the row's largest finite value); non-finite: nothing drawn. */
  function expectRow(under: (t: number) => number[], data: Float32Array, row: (typeof ROWS)[number], name: ColormapName): void {
    const peak = data[row.offset + row.peakAt]!;
    const last = [...colormapRgba(name).subarray(255 * 4, 255 * 4 + 3), 255];
    expectClose(under(row.peakAt), last, `the peak of the row at ${row.offset}: the colormap's last entry`);
    for (let t = 0; t < N; t++) {
      const v = data[row.offset + t]!;
      const expected = Number.isFinite(v) ? colour(name, v / peak) : WHITE;
      expectClose(under(t), expected, `row at ${row.offset}, token ${t} (value ${v}, peak ${peak})`);
    }
  }

  it('maps the largest finite value shown to the last entry; setOffset rescales to the new row with no readback', async () => {
    const data = autoValues();
    const tensor = tensorFromArray(engine(), data, [data.length], { label: 'test.autoValues' });
    const view = make({ values: tensor, offset: ROWS[0]!.offset, range: { vmin: 0, vmax: 'max' }, opacity: 1, colormap: 'magma' });
    const mapped = vi.spyOn(GPUBuffer.prototype, 'mapAsync');
    try {
      let { under } = await draw(view);
      expectRow(under, data, ROWS[0]!, 'magma');
      view.setOffset(ROWS[1]!.offset);
      ({ under } = await draw(view));
      expectRow(under, data, ROWS[1]!, 'magma');
      // The only buffers mapped are the two pixel readbacks of the test itself.
      expect(mapped.mock.contexts.map((buffer) => (buffer as GPUBuffer).label)).toEqual(['viewPixels.staging', 'viewPixels.staging']);
    } finally {
      mapped.mockRestore();
      view.destroy();
      tensor.destroy();
    }
  });

  it('falls back to vmin + 1 when no finite value is above vmin, and setRange switches between fixed and automatic', async () => {
    const data = Float32Array.from({ length: N }, (_, t) => (t % 3 === 0 ? NaN : t % 3 === 1 ? -Infinity : -t / 8));
    data[5] = 0; // equal to vmin: t = 0 only if vmax > vmin
    const tensor = tensorFromArray(engine(), data, [N], { label: 'test.autoValues' });
    const view = make({ values: tensor, range: { vmax: 'max' }, opacity: 1 });
    try {
      let { under } = await draw(view);
      for (let t = 0; t < N; t++) expectClose(under(t), Number.isFinite(data[t]) ? colour('viridis', 0) : WHITE, `token ${t}`);
      view.setRange({ vmin: -2, vmax: 0 });
      ({ under } = await draw(view));
      for (let t = 0; t < N; t++) if (Number.isFinite(data[t])) expectClose(under(t), colour('viridis', (data[t]! + 2) / 2), `fixed, token ${t}`);
      view.setRange({ vmax: 'max' }); // vmin stays -2; the largest value, 0, takes the last entry
      ({ under } = await draw(view));
      for (let t = 0; t < N; t++) if (Number.isFinite(data[t])) expectClose(under(t), colour('viridis', (data[t]! + 2) / 2), `automatic, token ${t}`);
    } finally {
      view.destroy();
      tensor.destroy();
    }
  });
});

describe('TokenHighlight arguments and lifetime', () => {
  it('rejects values shorter than offset + n, bad offsets and empty tokens', () => {
    expect(() => make({ offset: N + 1 })).toThrow(
      `13 tokens from offset 14 need values[14..26], but the values tensor [2, 13] holds 26 elements.`,
    );
    expect(() => make({ tokens: [] })).toThrow(/tokens must not be empty/);
    expect(() => make({ range: { vmin: 1, vmax: 1 } })).toThrow(/vmax > vmin/);
    expect(() => make({ range: { vmax: 'auto' as 'max' } })).toThrow(`TokenHighlight: vmax must be a number or 'max' (the largest value shown); got 'auto'.`);
    expect(() => make({ range: { vmin: NaN, vmax: 'max' } })).toThrow(/vmin must be finite with vmax 'max'; got vmin NaN/);
    const view = make();
    expect(() => view.setOffset(1.5)).toThrow(/offset 1\.5/);
    expect(() => view.setOffset(-1)).toThrow(/offset -1/);
    expect(view.offset).toBe(0);
    const short = tensorFromArray(engine(), VALUES.subarray(0, 5), [5], { label: 'test.short' });
    try {
      expect(() => view.setValues(short)).toThrow(/holds 5 elements/);
    } finally {
      short.destroy();
    }
  });

  it('lays out one span per token (newlines break the line) and removes spans and canvas on destroy', () => {
    const view = make();
    expect(view.spans.map((s) => s.textContent)).toEqual(TOKENS.map((t) => t.replace('\n', '⏎')));
    expect(container.querySelectorAll('span').length).toBe(N);
    expect(container.querySelector('br')).not.toBeNull();
    expect(container.querySelector('canvas')).toBe(view.canvas);
    expect(getComputedStyle(container).position).toBe('relative');
    view.destroy();
    view.destroy();
    expect(container.children.length).toBe(0);
    expect(getComputedStyle(container).position).toBe('static');
  });
});
