#!/usr/bin/python3
"""Writes tests/fixtures/npy/: small .npy files saved by real numpy, and expected.json with their values.

Run with Debian's python3-numpy (the pyenv python may lack numpy):
    /usr/bin/python3 scripts/make-npy-fixtures.py

Values come from seeded generators, so running it again gives the same bytes (with numpy 1.24; other numpy
versions may pad headers differently, which the tests tolerate except where they compare bytes with our writer).
Readable fixtures get their values in expected.json (non-finite values as the strings "Infinity", "-Infinity",
"NaN"); the rejected ones (Fortran order, big-endian, int32, float64, structured, object) only need headers.
"""
import json
import math
import os

import numpy as np
from numpy.lib import format as npy_format

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "npy")


def seeded(shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def save(name, array, version=None):
    with open(os.path.join(OUT, name), "wb") as f:
        npy_format.write_array(f, array, version=version, allow_pickle=True)


def as_json(value):
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def readable():
    """name -> (array, version): files our reader must read, value for value."""
    special = np.array([0.0, -0.0, 1.0, -2.0, 65504.0, 2.0**-14, 2.0**-24, np.inf, -np.inf, np.nan], np.float16)
    return {
        "f32-v1-3x5x7.npy": (seeded((3, 5, 7), 1), None),
        "f16-v1-3x5x7.npy": (seeded((3, 5, 7), 2, np.float16), None),
        "f32-v2-4x3.npy": (seeded((4, 3), 3), (2, 0)),
        "f16-v3-2x3.npy": (seeded((2, 3), 4, np.float16), (3, 0)),
        "f32-v1-1.npy": (seeded((1,), 5), None),
        "f32-v1-0.npy": (np.zeros((0,), np.float32), None),
        "f32-v1-2x0x3.npy": (np.zeros((2, 0, 3), np.float32), None),
        "f32-v1-scalar.npy": (np.array(np.float32(-3.25)), None),
        "f16-special.npy": (special, None),
    }


def rounding_source():
    """float32 values that exercise float16 rounding: exact ties, subnormals, overflow, ±0, NaN, Inf."""
    rng = np.random.default_rng(6)
    halves = rng.integers(0, 0x7BFF, 512).astype(np.uint16).view(np.float16).astype(np.float32)
    following = (halves.astype(np.float16).view(np.uint16) + 1).view(np.float16).astype(np.float32)
    ties = (halves.astype(np.float64) + following.astype(np.float64)) / 2  # exact in float32
    ties *= np.where(rng.random(len(ties)) < 0.5, -1.0, 1.0)
    spread = rng.standard_normal(512) * 10.0 ** rng.uniform(-9, 6, 512)
    edges = [65504, 65519.99, 65520, 2.0**-24, 2.0**-25, 2.0**-25 * 1.0001, 3 * 2.0**-26, -0.0, np.inf, -np.inf, np.nan]
    return np.concatenate([halves, ties, spread, edges]).astype(np.float32)


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    for name, (array, version) in readable().items():
        save(name, array, version)
        expected[name] = {
            "shape": list(array.shape),
            "dtype": "float16" if array.dtype == np.float16 else "float32",
            "values": [as_json(v) for v in array.ravel()],
        }
    source = rounding_source()
    save("f32-rounding-source.npy", source)
    with np.errstate(over="ignore"):
        save("f16-rounding.npy", source.astype(np.float16))
    save("reject-fortran-3x4.npy", np.asfortranarray(seeded((3, 4), 7)))
    save("reject-big-endian.npy", seeded((2, 3), 8).astype(">f4"))
    save("reject-int32.npy", np.arange(6, dtype=np.int32))
    save("reject-float64.npy", seeded((2, 2), 9, np.float64))
    save("reject-structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
    save("reject-object.npy", np.array([1, "a"], dtype=object))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
