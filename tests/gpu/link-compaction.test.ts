// The link compaction: the list of drawn links (hairlines, then wider links, each in order) and every
// group's two drawIndirect argument sets, against the rules (link_alpha and is_hairline in
// shaders/common/links.wgsl) applied on the CPU in the GPU's float32 arithmetic. Weights with NaN, ±Inf,
// negatives, zeros, faint and strong entries; a layer at an element offset; a group turned off; focus on a
// row and on a column; widths that make every link a hairline, none, or a mix; link counts under one
// chunk, not a multiple of one, and over 256 chunks (so each scanning thread sums a run of several).
// Outputs are poisoned before every run.
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom, tensorFromArray } from '../../src/index';
import { UniformBuffer } from '../../src/memory/uniforms';
import { readBufferRange } from '../../src/memory/readback';
import { createLinkCompaction } from '../../src/render/head-view/link-compaction';
import { LINKS_UNIFORMS, linkPipelines } from '../../src/render/head-view/link-pipelines';
import { useEngine } from '../helpers/engine';

const engine = useEngine();
const f32 = Math.fround;
const POISON = 0xdeadbeef;

interface Case {
  groups: number;
  tokens: number;
  layer: number;
  layers: number;
  enabled: boolean[];
  threshold: number;
  opacity: number;
  focus: [number, number];
  minWidth: number;
  maxWidth: number;
}

/** Weights over every kind of entry: softmax-like rows, with zeros, negatives, NaN and ±Inf sprinkled in. */
function weightsFor(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count }, () => {
    const u = random();
    if (u < 0.02) return [NaN, Infinity, -Infinity, -0.5][Math.floor(u * 200)]!;
    if (u < 0.2) return 0;
    return Math.exp((random() * 2 - 1) * 7) / 60;
  });
}

interface Expected {
  /** Drawn hairlines, then drawn wider links, as link indices among the layer's. */
  drawn: number[];
  /** The counts header, then per group (vertices, 1, first vertex, 0) for its hairlines and its wider links. */
  draws: number[];
}

/** link_alpha's and is_hairline's rules in float32: the lists and draws the compaction must write. */
function expected(weights: Float32Array, c: Case): Expected {
  const perGroup = c.tokens * c.tokens;
  const base = c.layer * c.groups * perGroup;
  const invisible = f32(0.5 / 255);
  const runs = Array.from({ length: c.groups }, () => ({ hairlines: [] as number[], wider: [] as number[] }));
  for (let link = 0; link < c.groups * perGroup; link++) {
    const p = weights[base + link]!;
    const g = Math.floor(link / perGroup);
    const i = Math.floor((link % perGroup) / c.tokens);
    const j = link % c.tokens;
    const alpha = Math.min(1, Math.max(0, f32(p * f32(c.opacity)))) * (c.enabled[g] ? 1 : 0);
    const focused = (c.focus[0] < 0 || c.focus[0] === i) && (c.focus[1] < 0 || c.focus[1] === j);
    if (!(Number.isFinite(p) && p > 0 && p >= f32(c.threshold) && alpha > 0 && alpha >= invisible && focused)) continue;
    const width = Math.max(f32(c.minWidth), f32(Math.min(p, 1) * f32(c.maxWidth)));
    (width <= 1 ? runs[g]!.hairlines : runs[g]!.wider).push(link);
  }
  const hairlines = runs.flatMap((run) => run.hairlines);
  const wider = runs.flatMap((run) => run.wider);
  const draws = [hairlines.length, wider.length, 0, 0];
  let [hairlineAt, widerAt] = [0, hairlines.length];
  for (const run of runs) {
    draws.push(2 * run.hairlines.length, 1, 2 * hairlineAt, 0, 6 * run.wider.length, 1, 6 * widerAt, 0);
    hairlineAt += run.hairlines.length;
    widerAt += run.wider.length;
  }
  return { drawn: [...hairlines, ...wider], draws };
}

const owned: { destroy(): void }[] = [];
afterAll(() => owned.splice(0).forEach((thing) => thing.destroy()));

async function compact(weights: Float32Array, c: Case): Promise<Expected> {
  const device = engine().device;
  const pipelines = linkPipelines(device);
  const tensor = tensorFromArray(engine(), weights, [weights.length]);
  const uniforms = new UniformBuffer(engine(), LINKS_UNIFORMS, 'test.links');
  const colours = engine().createBuffer({ label: 'test.colours', size: 16 * c.groups, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const compaction = createLinkCompaction(engine(), pipelines, 'test.compaction', () => {});
  owned.push(tensor, uniforms, colours, compaction);
  const links = c.groups * c.tokens * c.tokens;
  const values: Record<string, number> = Object.fromEntries([...LINKS_UNIFORMS.fields.keys()].map((name) => [name, 0]));
  Object.assign(values, {
    tokens: c.tokens, per_group: c.tokens * c.tokens, link_count: links, element_offset: c.layer * links, colour_stride: 1,
    threshold: c.threshold, opacity: c.opacity, invisible_alpha: 0.5 / 255, focus_a: c.focus[0], focus_b: c.focus[1],
    min_width: c.minWidth, max_width: c.maxWidth,
  });
  uniforms.write(values);
  device.queue.writeBuffer(colours, 0, Float32Array.from(c.enabled.flatMap((on, g) => [0.1 * g, 0.5, 0.9, on ? 1 : 0])));
  compaction.setInputs({ weights: { buffer: tensor.buffer, size: tensor.byteLength }, colours, uniforms: uniforms.buffer });
  const drawn = compaction.drawnFor(links);
  const draws = compaction.drawsFor(c.groups);
  const drawsLength = 4 + 8 * c.groups;
  device.queue.writeBuffer(drawn.buffer, 0, new Uint32Array(links).fill(POISON));
  device.queue.writeBuffer(draws, 0, new Uint32Array(drawsLength).fill(POISON));
  await engine().run('test.compaction', (encoder) => compaction.record(encoder, links, c.groups));
  expect(compaction.drawsFor(c.groups), 'the draws buffer poisoned is the one written').toBe(draws);
  const written = Array.from(new Uint32Array(await readBufferRange(engine(), draws, 0, 4 * drawsLength)));
  const list = new Uint32Array(await readBufferRange(engine(), drawn.buffer, 0, 4 * links));
  const count = written[0]! + written[1]!;
  expect(count, 'drawn links').toBeLessThanOrEqual(links);
  expect(Array.from(list.subarray(count)).every((v) => v === POISON), 'nothing written past the drawn links').toBe(true);
  return { drawn: Array.from(list.subarray(0, count)), draws: written };
}

describe('link compaction', () => {
  const base: Case = {
    groups: 3, tokens: 7, layer: 0, layers: 1, enabled: [true, true, true], threshold: 0, opacity: 1, focus: [-1, -1], minWidth: 1, maxWidth: 4,
  };
  // Which kinds of drawn link each case has: both (the default widths 1 and 4), only hairlines, only wider.
  const kinds = (c: Case) => (c.maxWidth <= 1 ? 'hairlines' : c.minWidth > 1 ? 'wider' : 'both');
  it.each<[string, Partial<Case>]>([
    ['under one chunk (3 · 4² = 48 links)', { tokens: 4 }],
    ['not a multiple of a chunk (3 · 7² = 147 links)', {}],
    ['over 256 chunks (5 · 61² = 18,605 links), layer 1 of 2, group 2 off, threshold and opacity', {
      groups: 5, tokens: 61, layer: 1, layers: 2, enabled: [true, true, false, true, true], threshold: 0.004, opacity: 0.8,
    }],
    ['focus on query 5', { groups: 4, tokens: 33, enabled: [true, false, true, true], focus: [5, -1] }],
    ['focus on key 30', { groups: 4, tokens: 33, focus: [-1, 30], enabled: [true, true, true, true] }],
    ['every link a hairline (widths under a pixel)', { groups: 2, tokens: 40, enabled: [true, true], minWidth: 0.5, maxWidth: 1 }],
    ['no hairlines (min width 1.5)', { groups: 2, tokens: 40, enabled: [true, true], minWidth: 1.5 }],
  ])('%s', async (_, overrides) => {
    const c = { ...base, ...overrides };
    const weights = weightsFor(c.layers * c.groups * c.tokens * c.tokens, 100 + c.tokens);
    const want = expected(weights, c);
    expect(want.drawn.length, 'the case draws some links and leaves some out').toBeGreaterThan(0);
    expect(want.drawn.length).toBeLessThan(c.groups * c.tokens * c.tokens);
    const [hairlines, wider] = want.draws;
    expect({ hairlines: hairlines! > 0, wider: wider! > 0 }, 'kinds of drawn link').toEqual({
      hairlines: kinds(c) !== 'wider', wider: kinds(c) !== 'hairlines',
    });
    const got = await compact(weights, c);
    expect(got.draws).toEqual(want.draws);
    expect(got.drawn).toEqual(want.drawn);
  });
});
