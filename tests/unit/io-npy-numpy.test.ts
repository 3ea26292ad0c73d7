// .npy against the real numpy at test time, where Debian's python3-numpy is installed (CI installs it; the
// pyenv `python3` on PATH may lack numpy, so /usr/bin/python3 is called by path). Skipped without it; the
// committed fixtures in io-npy.test.ts cover the same ground.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNpy, writeNpy, type NpyDtype } from '../../src/io/npy';
import { randomFloats } from '../../src/reference/random';
import { hasNumpy, PYTHON } from '../helpers/numpy';

const numpy = hasNumpy();
const directory = mkdtempSync(join(tmpdir(), 'glassbox-npy-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

type Values = Array<number | string>;
const toNumber = (value: number | string) => (typeof value === 'number' ? value : Number(value));

function python(script: string): unknown {
  const run = spawnSync(PYTHON, ['-c', script, directory], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

// Shared by both scripts: JSON cannot hold NaN or Inf, so those travel as strings JavaScript's Number() reads.
const PY_VALUES = `
import json, math, sys, os
import numpy as np
def values(a):
    out = []
    for v in a.ravel().tolist():
        out.append(v if math.isfinite(v) else ('NaN' if math.isnan(v) else ('Infinity' if v > 0 else '-Infinity')))
    return out
`;

describe.skipIf(!numpy)('numpy at test time', () => {
  it('loads what writeNpy wrote, value for value, and would have written the same bytes', () => {
    const cases: Array<{ name: string; shape: number[]; dtype: NpyDtype }> = [
      { name: 'f32-3x5x7', shape: [3, 5, 7], dtype: 'float32' },
      { name: 'f16-2x17x3', shape: [2, 17, 3], dtype: 'float16' },
      { name: 'f32-1', shape: [1], dtype: 'float32' },
      { name: 'f32-scalar', shape: [], dtype: 'float32' },
      { name: 'f16-0x4', shape: [0, 4], dtype: 'float16' },
    ];
    const sources = new Map<string, Float32Array>();
    cases.forEach(({ name, shape, dtype }, i) => {
      const data = randomFloats(shape.reduce((a, b) => a * b, 1), 100 + i, 300);
      sources.set(name, data);
      writeFileSync(join(directory, `${name}.npy`), writeNpy(data, shape, { dtype }));
    });
    // numpy's own float32 → dtype cast of each source is the reference for what the file should hold.
    const sourceLists = Object.fromEntries([...sources].map(([name, data]) => [name, [...data]]));
    const loaded = python(`${PY_VALUES}
import io
sources = json.loads('${JSON.stringify(sourceLists)}')
out = {}
for name in ${JSON.stringify(cases.map((c) => c.name))}:
    path = os.path.join(sys.argv[1], name + '.npy')
    a = np.load(path)
    again = io.BytesIO()
    np.save(again, a)
    out[name] = {'shape': list(a.shape), 'dtype': a.dtype.str, 'c_order': bool(a.flags.c_contiguous),
                 'same_bytes': again.getvalue() == open(path, 'rb').read(), 'values': values(a),
                 'cast': values(np.array(sources[name], dtype=np.float32).astype(a.dtype))}
print(json.dumps(out))
`) as Record<string, { shape: number[]; dtype: string; c_order: boolean; same_bytes: boolean; values: Values; cast: Values }>;
    for (const { name, shape, dtype } of cases) {
      const { cast, ...got } = loaded[name]!;
      const source = [...sources.get(name)!];
      const want = dtype === 'float32' ? source : cast;
      expect(got).toEqual({ shape, dtype: dtype === 'float32' ? '<f4' : '<f2', c_order: true, same_bytes: true, values: want });
      if (source.length > 0) expect(new Set(want).size).toBeGreaterThan(source.length / 2); // real data, not zeros
    }
  });

  it('reads what numpy wrote in format versions 1.0, 2.0 and 3.0', () => {
    const written = python(`${PY_VALUES}
from numpy.lib import format as npy_format
rng = np.random.default_rng(2024)
out = {}
for version in [(1, 0), (2, 0), (3, 0)]:
    for dtype in ['<f4', '<f2']:
        for shape in [(3, 5, 7), (1, 129), (2, 3, 4, 5), (1,)]:
            a = (rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3)).astype(dtype)
            name = 'v%d-%s-%s.npy' % (version[0], dtype[1:], 'x'.join(map(str, shape)))
            with open(os.path.join(sys.argv[1], name), 'wb') as f:
                npy_format.write_array(f, a, version=version)
            out[name] = {'shape': list(shape), 'dtype': 'float32' if dtype == '<f4' else 'float16', 'values': values(a)}
print(json.dumps(out))
`) as Record<string, { shape: number[]; dtype: NpyDtype; values: Values }>;
    expect(Object.keys(written)).toHaveLength(24);
    for (const [name, want] of Object.entries(written)) {
      const array = parseNpy(readFileSync(join(directory, name)));
      expect({ name, shape: array.shape, dtype: array.dtype }).toEqual({ name, shape: want.shape, dtype: want.dtype });
      expect([...array.data]).toEqual(want.values.map(toNumber));
    }
  });
});
