r"""The linear regions of a network with a 2-D input inside a box, as a planar mesh carried through the network.

Start from the box as one face. Layer by layer, every vertex carries the layer's pre-activations
:math:`z_l(v)` (continuous in x, so one value per vertex whatever face it is seen from). On each face every
earlier neuron's state is fixed, so each :math:`z_{l,j}` is affine there and is known at the face's vertices.
Neuron by neuron, a face whose vertices take both strict signs of :math:`z_{l,j}` is cut in two along
:math:`z_{l,j} = 0`: the edges whose ends have opposite signs get a new vertex where the affine
:math:`z_{l,j}` vanishes (its pre-activations interpolated along the edge, exact up to rounding; shared with the
face across that edge), and the face's vertices with :math:`z \ge 0` and with :math:`z \le 0` form the two
children, joined by an edge labelled with the neuron. A face the neuron does not cross keeps its cycle and takes
the neuron's state from its strictly signed vertices (off where :math:`z \equiv 0`, the paper's convention
:math:`z > 0`). After a layer, the next layer's pre-activations at every vertex are one matrix product,
:math:`z_{l+1} = W_{l+1}\sigma(z_l) + b_{l+1}`. No LP and no per-region Python work; faces stay convex and
counter-clockwise, and every interior edge is shared by exactly two faces, which gives the adjacency.

A pre-activation counts as zero at a vertex when :math:`|z| \le` ``ZERO_RTOL`` times the largest :math:`|z|`
of that neuron over the mesh's vertices, so neurons through a vertex, duplicated neurons and three lines through
one point split nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
from numba import types
from numba.typed import Dict

from .errors import TooManyRegionsError

ZERO_RTOL = 1e-12
"""A vertex is on a neuron's line when its |z| is at most this times the neuron's largest |z| over the mesh."""
EDGE_KEY = 1 << 31


@nb.njit(cache=True)
def _grown(array, rows):
    """A copy of the 2-D ``array`` with at least ``rows`` rows (twice as many when that is more), the new rows
    uninitialised. Element loops instead of slice assignment: Numba compiles these much faster."""
    bigger = np.empty((max(rows, 2 * array.shape[0]), array.shape[1]), dtype=array.dtype)
    for i in range(array.shape[0]):
        for j in range(array.shape[1]):
            bigger[i, j] = array[i, j]
    return bigger


@nb.njit(cache=True)
def _cut(VX, VZ, n_vertices, cycles, labels, starts, n_faces, bits, column, neuron):
    """Cut every face that neuron ``neuron`` (column ``column`` of VZ) crosses; set its bit in every face.

    Returns the new ``(VX, VZ, n_vertices, cycles, labels, starts, n_faces, bits)``."""
    scale = 0.0
    for v in range(n_vertices):
        scale = max(scale, abs(VZ[v, column]))
    tol = ZERO_RTOL * scale
    sign = np.zeros(n_vertices, dtype=np.int8)
    for v in range(n_vertices):
        z = VZ[v, column]
        sign[v] = 1 if z > tol else (-1 if z < -tol else 0)
    total = starts[n_faces]
    longest = 0
    for f in range(n_faces):
        longest = max(longest, starts[f + 1] - starts[f])
    out_cycles = np.empty(total + 4 * n_faces + 8, dtype=np.int64)
    out_labels = np.empty(total + 4 * n_faces + 8, dtype=np.int64)
    out_starts = np.empty(2 * n_faces + 1, dtype=np.int64)
    out_bits = np.empty((2 * n_faces, bits.shape[1]), dtype=np.uint8)
    ring = np.empty(2 * longest + 2, dtype=np.int64)
    ring_labels = np.empty(2 * longest + 2, dtype=np.int64)
    ring_signs = np.empty(2 * longest + 2, dtype=np.int8)
    crossings = Dict.empty(key_type=types.int64, value_type=types.int64)
    byte, bit = neuron // 8, np.uint8(128 >> (neuron % 8))
    m, nf = 0, 0
    out_starts[0] = 0
    for f in range(n_faces):
        s, e = starts[f], starts[f + 1]
        positive, negative = False, False
        for i in range(s, e):
            positive |= sign[cycles[i]] > 0
            negative |= sign[cycles[i]] < 0
        if not (positive and negative):
            for i in range(s, e):
                out_cycles[m], out_labels[m] = cycles[i], labels[i]
                m += 1
            for j in range(bits.shape[1]):
                out_bits[nf, j] = bits[f, j]
            if positive:
                out_bits[nf, byte] |= bit
            nf += 1
            out_starts[nf] = m
            continue
        length = 0
        for i in range(s, e):
            a = cycles[i]
            b = cycles[i + 1] if i + 1 < e else cycles[s]
            ring[length], ring_labels[length], ring_signs[length] = a, labels[i], sign[a]
            length += 1
            if sign[a] * sign[b] < 0:
                low, high = min(a, b), max(a, b)
                key = low * EDGE_KEY + high
                c = crossings.get(key, -1)
                if c < 0:
                    if n_vertices == VX.shape[0]:
                        VX, VZ = _grown(VX, n_vertices + 1), _grown(VZ, n_vertices + 1)
                    t = VZ[low, column] / (VZ[low, column] - VZ[high, column])
                    for d in range(2):
                        VX[n_vertices, d] = VX[low, d] + t * (VX[high, d] - VX[low, d])
                    for j in range(VZ.shape[1]):
                        VZ[n_vertices, j] = VZ[low, j] + t * (VZ[high, j] - VZ[low, j])
                    VZ[n_vertices, column] = 0.0
                    c = n_vertices
                    n_vertices += 1
                    crossings[key] = c
                ring[length], ring_labels[length], ring_signs[length] = c, labels[i], 0
                length += 1
        for side in (1, -1):
            for i in range(length):
                if ring_signs[i] * side >= 0:
                    following = i + 1 if i + 1 < length else 0
                    out_cycles[m] = ring[i]
                    out_labels[m] = ring_labels[i] if ring_signs[following] * side >= 0 else neuron
                    m += 1
            for j in range(bits.shape[1]):
                out_bits[nf, j] = bits[f, j]
            if side > 0:
                out_bits[nf, byte] |= bit
            nf += 1
            out_starts[nf] = m
    return VX, VZ, n_vertices, out_cycles, out_labels, out_starts, nf, out_bits


@nb.njit(cache=True)
def _faces_geometry(VX, cycles, labels, starts, n_faces, edge_tol):
    """Per face: area, centroid, inradius (the centroid's distance to the nearest edge line) and the flat
    list of facet labels (distinct labels of the edges longer than ``edge_tol``), with offsets."""
    area = np.empty(n_faces)
    centroid = np.empty((n_faces, 2))
    inradius = np.empty(n_faces)
    facets = np.empty(starts[n_faces], dtype=np.int64)
    facet_starts = np.empty(n_faces + 1, dtype=np.int64)
    facet_starts[0] = 0
    m = 0
    for f in range(n_faces):
        s, e = starts[f], starts[f + 1]
        twice, cx, cy = 0.0, 0.0, 0.0
        for i in range(s, e):
            a, b = cycles[i], cycles[i + 1] if i + 1 < e else cycles[s]
            cross = VX[a, 0] * VX[b, 1] - VX[b, 0] * VX[a, 1]
            twice += cross
            cx += (VX[a, 0] + VX[b, 0]) * cross
            cy += (VX[a, 1] + VX[b, 1]) * cross
        area[f] = 0.5 * twice
        if twice != 0.0:
            centroid[f, 0], centroid[f, 1] = cx / (3.0 * twice), cy / (3.0 * twice)
        else:
            centroid[f, 0], centroid[f, 1] = VX[cycles[s], 0], VX[cycles[s], 1]
        nearest = np.inf
        first = m
        for i in range(s, e):
            a, b = cycles[i], cycles[i + 1] if i + 1 < e else cycles[s]
            dx, dy = VX[b, 0] - VX[a, 0], VX[b, 1] - VX[a, 1]
            length = np.sqrt(dx * dx + dy * dy)
            if length <= edge_tol:
                continue
            distance = (dx * (centroid[f, 1] - VX[a, 1]) - dy * (centroid[f, 0] - VX[a, 0])) / length
            nearest = min(nearest, distance)
            seen = False
            for r in range(first, m):
                seen |= facets[r] == labels[i]
            if not seen:
                facets[m] = labels[i]
                m += 1
        for r in range(first + 1, m):  # sorted, as the LP path lists them
            value, q = facets[r], r
            while q > first and facets[q - 1] > value:
                facets[q] = facets[q - 1]
                q -= 1
            facets[q] = value
        inradius[f] = nearest
        facet_starts[f + 1] = m
    return area, centroid, inradius, facets[:m], facet_starts


@nb.njit(cache=True)
def _adjacency(cycles, labels, starts, keep, n_neurons):
    """Rows ``(a, b, g)``, a < b, for kept faces sharing an edge on neuron g's line (indices among kept faces)."""
    index = np.full(len(keep), -1, dtype=np.int64)
    count = 0
    for f in range(len(keep)):
        if keep[f]:
            index[f] = count
            count += 1
    first = Dict.empty(key_type=types.int64, value_type=types.int64)
    rows = np.empty((starts[len(keep)], 3), dtype=np.int64)
    m = 0
    for f in range(len(keep)):
        if not keep[f]:
            continue
        s, e = starts[f], starts[f + 1]
        for i in range(s, e):
            if labels[i] >= n_neurons:
                continue
            a, b = cycles[i], cycles[i + 1] if i + 1 < e else cycles[s]
            key = min(a, b) * EDGE_KEY + max(a, b)
            other = first.get(key, -1)
            if other < 0:
                first[key] = index[f]
            elif other != index[f]:
                rows[m, 0], rows[m, 1], rows[m, 2] = min(other, index[f]), max(other, index[f]), labels[i]
                m += 1
    return rows[:m]


def planar_mesh(weights, biases, lo, hi, max_faces: int, on_neuron=None) -> dict:
    """The mesh of a network ``(weights, effective biases)`` with input dimension 2 over the box [lo, hi].

    Returns a dict of arrays over every face: ``patterns`` (F, bytes, packed as ActivationPattern), ``vertices``
    (V, 2), ``cycles`` / ``starts`` (face f's counter-clockwise vertex ids are cycles[starts[f]:starts[f+1]]),
    ``labels`` (the neuron, or box row H + r, of the edge leaving each cycle position), ``area``, ``centroid``,
    ``inradius`` (the centroid's distance to the nearest edge line) and ``facets`` / ``facet_starts``. The
    vertices carry rounding, so a face of area ~1e-12 may have its centroid outside it: the caller decides which
    faces to trust (see :func:`landscape.enumeration.enumerate_regions`). Raises :class:`~landscape.TooManyRegionsError`
    carrying the count when the faces exceed ``max_faces``; ``on_neuron(done, total, faces)`` is called after each neuron."""
    n_neurons = sum(len(b) for b in biases)
    VX = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]], dtype=float)
    cycles = np.arange(4, dtype=np.int64)
    labels = n_neurons + np.array([3, 0, 1, 2], dtype=np.int64)  # box rows: x <= hi then -x <= -lo, per axis
    starts = np.array([0, 4], dtype=np.int64)
    bits = np.zeros((1, (n_neurons + 7) // 8), dtype=np.uint8)
    n_vertices, n_faces, offset = 4, 1, 0
    X = VX
    for W, b in zip(weights, biases):
        VZ = np.ascontiguousarray(X[:n_vertices] @ W.T + b)
        X = None  # the previous layer's values: freed before this layer grows the mesh
        VX = np.ascontiguousarray(VX[:n_vertices])
        for column in range(W.shape[0]):
            VX, VZ, n_vertices, cycles, labels, starts, n_faces, bits = _cut(
                VX, VZ, n_vertices, cycles, labels, starts, n_faces, bits, column, offset + column)
            if n_faces > max_faces:
                raise TooManyRegionsError(f"enumeration stopped at max_regions = {max_faces}: the mesh had {n_faces} "
                                          "faces; raise max_regions or shrink bounds", int(n_faces))
            if on_neuron is not None:
                on_neuron(offset + column + 1, n_neurons, n_faces)
        X = np.maximum(VZ, 0.0, out=VZ)  # rows past n_vertices are unused capacity
        offset += W.shape[0]
    VX, starts = VX[:n_vertices], starts[: n_faces + 1]
    side = float(np.max(np.asarray(hi) - np.asarray(lo)))
    area, centroid, inradius, facets, facet_starts = _faces_geometry(VX, cycles, labels, starts, n_faces, 1e-12 * side)
    return {"patterns": bits[:n_faces], "vertices": VX, "cycles": cycles[: starts[n_faces]],
            "labels": labels[: starts[n_faces]], "starts": starts, "area": area, "centroid": centroid,
            "inradius": inradius, "facets": facets, "facet_starts": facet_starts, "n_neurons": n_neurons}


def adjacency(mesh: dict, keep: np.ndarray) -> np.ndarray:
    """Rows ``(a, b, g)``, a < b, numbered among the kept faces: faces a and b share an edge on neuron g's line."""
    rows = _adjacency(mesh["cycles"], mesh["labels"], mesh["starts"], keep, mesh["n_neurons"])
    faces, neurons = int(keep.sum()), mesh["n_neurons"]
    codes = np.unique((rows[:, 0] * faces + rows[:, 1]) * neurons + rows[:, 2])  # sorted as (a, b, g)
    return np.stack([codes // neurons // faces, codes // neurons % faces, codes % neurons], axis=1)


@dataclass(frozen=True)
class MeshFaces:
    """The polygons of a region set's faces: region i is mesh face ``faces[i]``, whose counter-clockwise vertex
    ids are ``cycles[starts[f]:starts[f + 1]]`` into ``vertices``. ``decided_by_lp[i]`` marks a region whose
    mesh face failed the centroid check (area ~1e-12, rounding): its polygon is not to be trusted."""

    vertices: np.ndarray
    cycles: np.ndarray
    starts: np.ndarray
    faces: np.ndarray
    decided_by_lp: np.ndarray

    def polygon(self, i: int) -> np.ndarray:
        """Region i's vertices, counter-clockwise, shape (p, 2)."""
        f = self.faces[i]
        return self.vertices[self.cycles[self.starts[f]:self.starts[f + 1]]]
