"""The Numba kernels that no public function exposes one to one, against their slow twins in naive.py."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import naive
from landscape import _kernels
from strategies import seeds


def _area(vertices):
    x, y = vertices[:, 0], vertices[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


@given(seeds, st.integers(0, 7))
def test_clip_box_polygon_finds_the_brute_force_vertices_counter_clockwise(seed, rows):
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(rows, 2))
    h = rng.normal(0.3, 1.0, rows)
    lo, hi = np.array([-1.5, -1.0]), np.array([1.0, 2.0])
    vertices, owners, count = _kernels.clip_box_polygon(G, h, lo, hi, 1e-12)
    got = vertices[:count]
    expected = naive.box_polygon(G, h, lo, hi)
    if len(expected) == 0:
        assert count == 0 or abs(_area(got)) < 1e-9  # empty, or a sliver the clipping kept at its tolerance
        return
    distinct = [v for i, v in enumerate(got) if np.linalg.norm(v - got[i - 1]) > 1e-9] if count > 1 else list(got)
    assert len(distinct) == len(expected)
    for v in expected:
        assert min(np.linalg.norm(v - w) for w in distinct) < 1e-8
    assert _area(got) > 0 and abs(_area(got) - _area(expected)) < 1e-8 * (1 + _area(expected))
    for i in range(count):  # each edge lies on the constraint it names
        a, b = got[i], got[(i + 1) % count]
        line = (G[owners[i]], h[owners[i]]) if owners[i] < rows else [
            (np.array([1.0, 0.0]), hi[0]), (np.array([0.0, 1.0]), hi[1]), (np.array([-1.0, 0.0]), -lo[0]),
            (np.array([0.0, -1.0]), -lo[1])][owners[i] - rows]
        if np.linalg.norm(b - a) > 1e-9:
            np.testing.assert_allclose([line[0] @ a, line[0] @ b], line[1], atol=1e-8 * (1 + abs(line[1])))
