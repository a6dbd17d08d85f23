r"""Each face's minimum of :math:`f(x) = \tfrac12\|r(x)\|^2`, :math:`r(x) = A(G(x) - y)`, estimated from a planar mesh.

On a face of the mesh (a region of a 2-D network, a convex polygon with vertices :math:`u_1, \ldots, u_p`) r is
affine, so it maps the face onto the polygon :math:`\operatorname{conv}\{r(u_1), \ldots, r(u_p)\}` of
:math:`\mathbb{R}^m` and the face's minimum of f is :math:`\tfrac12 \operatorname{dist}(0, \text{that polygon})^2`.
It is found from the vertex residuals alone, without the face's Jacobian: the best of the vertices, of each edge
(a 1-D quadratic on a segment) and of each triangle :math:`(u_1, u_j, u_{j+1})` of a fan (a 2×2 system), where
the minimiser is found. The vertices are the mesh's, exact up to rounding, so these are estimates: they decide
which faces need a certified QP (:mod:`landscape.critical`), with a margin far above the rounding, and never
what is returned.

A face's minimiser on an edge or at a vertex is no local minimum of f when a face sharing that edge or vertex
(whose closure then contains the point) has a lower minimum: f decreases into that face.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types
from numba.typed import Dict

from ._mesh import EDGE_KEY

INTERIOR, EDGE, VERTEX = 0, 1, 2
"""Where a face's estimated minimiser lies: inside the face, inside one of its edges, at one of its vertices."""


@nb.njit(cache=True)
def _half_square(R, a, b, t, m):
    total = 0.0
    for q in range(m):
        value = R[a, q] + t * (R[b, q] - R[a, q])
        total += value * value
    return 0.5 * total


@nb.njit(cache=True)
def face_minima(VX, R, cycles, starts, faces, noise):
    """Per face ``faces[i]`` of the mesh ``(VX, cycles, starts)`` with vertex residuals R (V, m), each entry
    accurate to about ``noise``:

    ``value`` (the estimated minimum of ½‖r‖²), ``point`` (its minimiser), ``kind`` (INTERIOR, EDGE, VERTEX),
    ``ends`` (the edge's two vertex ids, or the vertex id twice, or -1) and ``conditioning``: the ratio of the
    smallest to the largest singular value of the Jacobian of r on the face, estimated from the fan triangle of
    largest area; 0 where that estimate's error, about noise / (√area · ‖J‖), is not a thousand times smaller.
    (The ratio comes from a 2×2 Gram matrix, so it is resolved to about √ε ≈ 1.5e-8 at best.)"""
    n, m = len(faces), R.shape[1]
    value = np.empty(n)
    point = np.empty((n, 2))
    kind = np.empty(n, dtype=np.int8)
    ends = np.full((n, 2), -1, dtype=np.int64)
    conditioning = np.zeros(n)
    for i in range(n):
        s, e = starts[faces[i]], starts[faces[i] + 1]
        best = np.inf
        for j in range(s, e):
            a = cycles[j]
            here = _half_square(R, a, a, 0.0, m)
            if here < best:
                best, kind[i], ends[i, 0], ends[i, 1] = here, VERTEX, a, a
                point[i, 0], point[i, 1] = VX[a, 0], VX[a, 1]
        for j in range(s, e):
            a, b = cycles[j], cycles[j + 1] if j + 1 < e else cycles[s]
            along, length = 0.0, 0.0
            for q in range(m):
                d = R[b, q] - R[a, q]
                along += R[a, q] * d
                length += d * d
            if length > 0.0:
                t = -along / length
                if 0.0 < t < 1.0:
                    here = _half_square(R, a, b, t, m)
                    if here < best:
                        best, kind[i], ends[i, 0], ends[i, 1] = here, EDGE, a, b
                        point[i, 0] = VX[a, 0] + t * (VX[b, 0] - VX[a, 0])
                        point[i, 1] = VX[a, 1] + t * (VX[b, 1] - VX[a, 1])
        first = cycles[s]
        widest = 0.0
        for j in range(s + 1, e - 1):
            b, c = cycles[j], cycles[j + 1]
            bb, bc, cc, ab, ac = 0.0, 0.0, 0.0, 0.0, 0.0
            for q in range(m):
                db, dc = R[b, q] - R[first, q], R[c, q] - R[first, q]
                bb += db * db
                bc += db * dc
                cc += dc * dc
                ab += R[first, q] * db
                ac += R[first, q] * dc
            x1, y1 = VX[b, 0] - VX[first, 0], VX[b, 1] - VX[first, 1]
            x2, y2 = VX[c, 0] - VX[first, 0], VX[c, 1] - VX[first, 1]
            area = x1 * y2 - x2 * y1
            if area > widest:  # the Jacobian's Gram matrix is X^-T Gimg X^-1 with X = [[x1, x2], [y1, y2]]
                widest = area
                i11, i12, i21, i22 = y2 / area, -x2 / area, -y1 / area, x1 / area
                g11 = i11 * (i11 * bb + i21 * bc) + i21 * (i11 * bc + i21 * cc)
                g12 = i11 * (i12 * bb + i22 * bc) + i21 * (i12 * bc + i22 * cc)
                g22 = i12 * (i12 * bb + i22 * bc) + i22 * (i12 * bc + i22 * cc)
                mean, spread = 0.5 * (g11 + g22), np.sqrt(0.25 * (g11 - g22) ** 2 + g12 * g12)
                large, small = mean + spread, max(mean - spread, 0.0)
                conditioning[i] = 0.0
                if large > 0.0:
                    ratio = np.sqrt(small / large)
                    if ratio > 1e3 * noise / np.sqrt(area * large):
                        conditioning[i] = ratio
            det = bb * cc - bc * bc
            if det <= 1e-12 * bb * cc:
                continue
            sb, tc = (-ab * cc + ac * bc) / det, (-ac * bb + ab * bc) / det
            if sb > 0.0 and tc > 0.0 and sb + tc < 1.0:
                total = 0.0
                for q in range(m):
                    r = R[first, q] + sb * (R[b, q] - R[first, q]) + tc * (R[c, q] - R[first, q])
                    total += r * r
                if 0.5 * total < best:
                    best, kind[i], ends[i, 0], ends[i, 1] = 0.5 * total, INTERIOR, -1, -1
                    point[i, 0] = VX[first, 0] + sb * x1 + tc * x2
                    point[i, 1] = VX[first, 1] + sb * y1 + tc * y2
        value[i] = best
    return value, point, kind, ends, conditioning


@nb.njit(cache=True)
def refuted(cycles, starts, faces, value, kind, ends, refutable, margin, n_vertices):
    """Whether each face's estimated minimiser is no local minimum: it lies on an edge or at a vertex that a face
    with a minimum lower by more than ``margin`` shares. Only faces with ``refutable`` set are tested."""
    n = len(faces)
    count = np.zeros(n_vertices + 1, dtype=np.int64)
    for i in range(n):
        for j in range(starts[faces[i]], starts[faces[i] + 1]):
            count[cycles[j] + 1] += 1
    offsets = np.cumsum(count)
    incident = np.empty(offsets[-1], dtype=np.int64)
    fill = offsets[:-1].copy()
    edges = Dict.empty(key_type=types.int64, value_type=types.int64)  # edge key -> its row in sides
    sides = np.full((offsets[-1], 2), -1, dtype=np.int64)  # the faces on each edge (-1: none, on the boundary)
    for i in range(n):
        s, e = starts[faces[i]], starts[faces[i] + 1]
        for j in range(s, e):
            a, b = cycles[j], cycles[j + 1] if j + 1 < e else cycles[s]
            incident[fill[a]] = i
            fill[a] += 1
            key = min(a, b) * EDGE_KEY + max(a, b)
            if key in edges:
                sides[edges[key], 1] = i
            else:
                sides[len(edges), 0] = i
                edges[key] = len(edges)
    out = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        if not refutable[i] or kind[i] == INTERIOR:
            continue
        threshold = value[i] - margin
        a, b = ends[i, 0], ends[i, 1]
        if kind[i] == VERTEX:
            for r in range(offsets[a], offsets[a + 1]):
                if value[incident[r]] < threshold:
                    out[i] = True
                    break
        else:
            row = edges[min(a, b) * EDGE_KEY + max(a, b)]
            other = sides[row, 1] if sides[row, 0] == i else sides[row, 0]
            out[i] = other >= 0 and value[other] < threshold
    return out
