r"""Numba kernels of the linear-relaxation bounds (CROWN) of a dense network over one box: the same bounds as the
operator code of :mod:`landscape.branch_and_bound.bounds` (up to the order of floating-point sums), in one call per
box instead of about a hundred array operations; and the search's tangent bound of a sub-box at its centre and its
Gauss–Newton point (:func:`centre_tangent`, the point by :func:`box_least_squares`, whose reference is
``tests/naive.py::box_least_squares``), in one more.

Layout: the hidden layers' bounds are flat arrays over all hidden neurons, layer i at ``offsets[i]:offsets[i+1]``;
the first layer is passed as :math:`[W_1 \; b_1]`, shape (n_1, k + 1). Each unstable ReLU (:math:`l < 0 < u`) is
relaxed to :math:`\alpha z \le \sigma(z) \le s z + t`, :math:`s = u/(u - l)`, :math:`t = -ul/(u - l)`, α = 1 where
:math:`u > -l` else 0; an active one is exact (s = α = 1), an inactive one zero. References: the operator code, and
neuron by neuron ``tests/naive.py::crown_preactivation_bounds`` and ``crown_row_lower``.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def relaxation_lines(lower, upper):
    """(slope s, intercept t, lower slope α) of every neuron's ReLU relaxation, from its bounds."""
    n = lower.shape[0]
    slope, intercept, alpha = np.zeros(n), np.zeros(n), np.zeros(n)
    for j in range(n):
        low, high = lower[j], upper[j]
        if low >= 0.0:
            slope[j], alpha[j] = 1.0, 1.0
        elif high > 0.0:
            width = high - low
            slope[j] = high / width
            intercept[j] = -high * low / width
            alpha[j] = 1.0 if high > -low else 0.0
    return slope, intercept, alpha


@nb.njit(cache=True)
def _relax(coefficients, constant, slope, intercept, alpha):
    r"""In place: rows Λ on σ(z) become the coefficients on z of their lower bound, :math:`\Lambda_j \ge 0` through
    α z, :math:`\Lambda_j < 0` through s z + t (whose intercepts go to ``constant``)."""
    negative = np.minimum(coefficients, 0.0)
    constant += negative @ intercept
    rows, n = coefficients.shape
    for p in range(rows):
        for j in range(n):  # branch-free and without a sum, so that it vectorises
            coefficients[p, j] = max(coefficients[p, j], 0.0) * alpha[j] + negative[p, j] * slope[j]


@nb.njit(cache=True)
def _add_products(constant, coefficients, vector):
    """``constant += coefficients @ vector``, row by row."""
    for p in range(coefficients.shape[0]):
        constant[p] += np.dot(coefficients[p], vector)


@nb.njit(cache=True)
def fold_first_layer(second, first, lower, upper, offsets):
    r"""The first layer folded into the second for the back-substitution: with S the first layer's active neurons,
    U its unstable ones and R the second layer's neurons that are not inactive (l ≥ 0 or u > 0):
    :math:`W_2[R, S] [W_1 \; b_1][S]` (|R|, k + 1), :math:`W_2[R, U]` (|R|, |U|), :math:`[W_1 \; b_1][U]`, U and R."""
    n1 = first.shape[0]
    low, high = lower[offsets[0]:offsets[1]], upper[offsets[0]:offsets[1]]
    live = np.flatnonzero((lower[offsets[1]:offsets[2]] >= 0.0) | (upper[offsets[1]:offsets[2]] > 0.0))
    active = np.zeros((n1, first.shape[1]))
    unstable = np.flatnonzero((low < 0.0) & (high > 0.0))
    for j in range(n1):
        if low[j] >= 0.0:
            active[j] = first[j]
    rows = np.empty((len(live), n1))
    for r in range(len(live)):
        rows[r] = second[live[r]]
    folded = rows @ active
    across = np.empty((len(live), len(unstable)))
    for r in range(len(live)):
        for c in range(len(unstable)):
            across[r, c] = rows[r, unstable[c]]
    unstable_rows = np.empty((len(unstable), first.shape[1]))
    for c in range(len(unstable)):
        unstable_rows[c] = first[unstable[c]]
    return folded, across, unstable_rows, unstable, live


@nb.njit(cache=True)
def lower_substitute(coefficients, constant, j, weights, biases, first, offsets, slope, intercept, alpha,
                     folded, across, unstable_rows, unstable, live):
    r"""Affine lower bounds in x of :math:`\Lambda \sigma(z_j) + \text{constant}` (layer j counted from 0), layer by
    layer back to the input, the first layer folded into the second (:func:`fold_first_layer`). Overwrites
    ``coefficients``; returns (coefficients on x (r, k), constants (r,))."""
    Lam, const = coefficients, constant.copy()
    k = first.shape[1] - 1
    while j >= 0:
        start, stop = offsets[j], offsets[j + 1]
        _relax(Lam, const, slope[start:stop], intercept[start:stop], alpha[start:stop])
        _add_products(const, Lam, biases[j])
        if j == 1:
            live_part = np.empty((Lam.shape[0], len(live)))
            for p in range(Lam.shape[0]):
                for r in range(len(live)):
                    live_part[p, r] = Lam[p, live[r]]
            affine = live_part @ folded
            if unstable.shape[0] > 0:
                mu = live_part @ across
                _relax(mu, const, slope[unstable], intercept[unstable], alpha[unstable])
                affine += mu @ unstable_rows
            return np.ascontiguousarray(affine[:, :k]), const + affine[:, k]
        if j == 0:
            return Lam @ np.ascontiguousarray(first[:, :k]), const
        Lam = Lam @ weights[j]
        j -= 1
    return Lam, const


@nb.njit(cache=True)
def concretise_lower(coefficients, constant, centre, radius):
    """The minimum over the box of each row's affine function ``coefficients @ x + constant``."""
    out = constant.copy()
    for p in range(coefficients.shape[0]):
        for i in range(coefficients.shape[1]):
            out[p] += coefficients[p, i] * centre[i] - abs(coefficients[p, i]) * radius[i]
    return out


@nb.njit(cache=True)
def box_bounds(weights, absolute, biases, first, offsets, readout, absolute_readout, readout_bias, has_readout, lo, hi,
               known_lower, known_upper, has_known):
    r"""Every hidden neuron's pre-activation bounds over the box [lo, hi], as
    :func:`~landscape.branch_and_bound.bounds.linear_bounds` computes them: interval bounds (intersected with the
    ``known`` ones of an enclosing box), then per layer the forward affine bounds through the previous layer's
    relaxation, intersected; the neurons these leave undecided, from the third layer on, bounded again by
    back-substitution. ``weights[0]`` is unused (the first layer is ``first``).

    Returns (lower, upper, the output's interval bounds — the readout of the last layer's ReLU box by interval
    bounds —, the number of unstable neurons, slope, intercept, α, and the first layer folded into the second by
    :func:`fold_first_layer`)."""
    depth = len(offsets) - 1
    k = lo.shape[0]
    total = offsets[depth]
    centre, radius = (lo + hi) / 2, (hi - lo) / 2
    first_x = np.ascontiguousarray(first[:, :k])
    lower, upper = np.empty(total), np.empty(total)
    interval_lower, interval_upper = np.empty(total), np.empty(total)
    middle, spread = centre.copy(), radius.copy()
    for i in range(depth):
        start, stop = offsets[i], offsets[i + 1]
        if i == 0:
            mid = first_x @ middle + first[:, k]
            half = np.abs(first_x) @ spread
        else:
            mid = weights[i] @ middle + biases[i]
            half = absolute[i] @ spread
        for j in range(stop - start):
            low, high = mid[j] - half[j], mid[j] + half[j]
            if has_known:
                low, high = max(low, known_lower[start + j]), min(high, known_upper[start + j])
            interval_lower[start + j], interval_upper[start + j] = low, high
        relu_low, relu_high = np.maximum(interval_lower[start:stop], 0.0), np.maximum(interval_upper[start:stop], 0.0)
        middle, spread = (relu_low + relu_high) / 2, (relu_high - relu_low) / 2
    lower[offsets[0]:offsets[1]] = interval_lower[offsets[0]:offsets[1]]
    upper[offsets[0]:offsets[1]] = interval_upper[offsets[0]:offsets[1]]
    slope, intercept, alpha = np.zeros(total), np.zeros(total), np.zeros(total)
    s, t, a = relaxation_lines(lower[offsets[0]:offsets[1]], upper[offsets[0]:offsets[1]])
    slope[offsets[0]:offsets[1]], intercept[offsets[0]:offsets[1]], alpha[offsets[0]:offsets[1]] = s, t, a
    folded, across = np.zeros((0, k + 1)), np.zeros((0, 0))
    unstable_rows, unstable, live = np.zeros((0, k + 1)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    second = min(1, depth - 1)  # an index known only at run time: weights has one element at depth 1
    below, above = first.copy(), first.copy()
    for i in range(1, depth):
        start, stop = offsets[i], offsets[i + 1]
        previous = offsets[i - 1]
        n_in = offsets[i] - previous
        mean, half = np.empty((n_in, k + 1)), np.empty((n_in, k + 1))
        for j in range(n_in):
            for c in range(k + 1):
                low_line = alpha[previous + j] * below[j, c]
                high_line = slope[previous + j] * above[j, c]
                if c == k:
                    high_line += intercept[previous + j]
                mean[j, c] = (low_line + high_line) / 2
                half[j, c] = (high_line - low_line) / 2
        mid = weights[i] @ mean
        width = absolute[i] @ half
        for j in range(stop - start):
            mid[j, k] += biases[i][j]
        below, above = mid - width, mid + width
        low = np.maximum(concretise_lower(below[:, :k], below[:, k], centre, radius), interval_lower[start:stop])
        high = np.minimum(-concretise_lower(-above[:, :k], -above[:, k], centre, radius), interval_upper[start:stop])
        if i == 2:  # the first two layers' bounds are final
            folded, across, unstable_rows, unstable, live = fold_first_layer(weights[second], first, lower, upper,
                                                                             offsets)
        if i > 1:
            count = 0
            for j in range(stop - start):
                if low[j] < 0.0 < high[j]:
                    count += 1
            if count > 0:
                chosen = np.empty(count, dtype=np.int64)
                count = 0
                for j in range(stop - start):
                    if low[j] < 0.0 < high[j]:
                        chosen[count] = j
                        count += 1
                rows = np.empty((2 * count, n_in))
                const = np.empty(2 * count)
                for c in range(count):
                    rows[c] = weights[i][chosen[c]]
                    rows[count + c] = -weights[i][chosen[c]]
                    const[c], const[count + c] = biases[i][chosen[c]], -biases[i][chosen[c]]
                coefficients, constants = lower_substitute(rows, const, i - 1, weights, biases, first, offsets, slope,
                                                           intercept, alpha, folded, across, unstable_rows, unstable,
                                                           live)
                bound = concretise_lower(coefficients, constants, centre, radius)
                for c in range(count):
                    j = chosen[c]
                    low[j] = max(bound[c], low[j])
                    high[j] = min(-bound[count + c], high[j])
        lower[start:stop], upper[start:stop] = low, high
        s, t, a = relaxation_lines(low, high)
        slope[start:stop], intercept[start:stop], alpha[start:stop] = s, t, a
    if depth == 2:
        folded, across, unstable_rows, unstable, live = fold_first_layer(weights[second], first, lower, upper, offsets)
    if has_readout:
        middle, spread = readout @ middle, absolute_readout @ spread
    count = 0
    for j in range(total):
        if lower[j] < 0.0 < upper[j]:
            count += 1
    return (lower, upper, middle - spread + readout_bias, middle + spread + readout_bias, count, slope, intercept,
            alpha, folded, across, unstable_rows, unstable, live)


@nb.njit(cache=True)
def affine_lower_bounds(coefficients, constant, weights, biases, first, offsets, lo, hi, slope, intercept, alpha,
                        folded, across, unstable_rows, unstable, live):
    r"""The minimum over the box [lo, hi] of the lower bound of each row's :math:`\Lambda \sigma(z_d) +
    \text{constant}` (d the last hidden layer) by back-substitution (:func:`lower_substitute`); shape (r,)."""
    depth = len(offsets) - 1
    linear, const = lower_substitute(coefficients.copy(), constant, depth - 1, weights, biases, first, offsets, slope,
                                     intercept, alpha, folded, across, unstable_rows, unstable, live)
    return concretise_lower(linear, const, (lo + hi) / 2, (hi - lo) / 2)


@nb.njit(cache=True)
def _output(H, readout, readout_bias, has_readout):
    """The readout :math:`V h + c` of each row h of H (V the identity without a readout; c zero without a bias)."""
    out = H @ readout.T if has_readout else H
    for p in range(out.shape[0]):
        out[p] += readout_bias
    return out


@nb.njit(cache=True)
def forward(transposed, biases, readout, readout_bias, has_readout, points):
    """G at each row of ``points``; ``transposed`` holds each layer's :math:`W_i^\top`."""
    H = points
    for i in range(len(transposed)):
        H = H @ transposed[i]
        for p in range(H.shape[0]):
            for j in range(H.shape[1]):
                H[p, j] = max(H[p, j] + biases[i][j], 0.0)
    return _output(H, readout, readout_bias, has_readout)


@nb.njit(cache=True)
def affine_at(transposed, biases, readout, readout_bias, has_readout, x):
    """G(x) and the matrix J of G's affine map on the piece of x (the neurons with z > 0 at x): the rows x, e_1, …,
    e_k through the layers together, the bias added to the first only, every row gated by the first's signs."""
    k = x.shape[0]
    rows = np.zeros((k + 1, k))
    rows[0] = x
    for i in range(k):
        rows[i + 1, i] = 1.0
    for i in range(len(transposed)):
        rows = rows @ transposed[i]
        for j in range(rows.shape[1]):
            rows[0, j] += biases[i][j]
            if not rows[0, j] > 0.0:
                rows[:, j] = 0.0
    out = rows @ readout.T if has_readout else rows
    value = out[0] + readout_bias
    return value, np.ascontiguousarray(out[1:].T)


@nb.njit(cache=True)
def tangent_values(weights, transposed, biases, first, offsets, readout, readout_bias, has_readout, lo, hi, slope,
                   intercept, alpha, folded, across, unstable_rows, unstable, live, A, has_A, y, points):
    r"""The tangent bound of :func:`~landscape.branch_and_bound.relaxed.tangent_bound` at each row p of ``points``:
    with :math:`\lambda = A(G(p) - y)` (A the identity without ``has_A``), :math:`c = A^\top \lambda` and a the lower
    bound of :math:`c^\top G` over the box minus :math:`c^\top y`, :math:`a^2 / (2\|\lambda\|^2)` where a > 0, else
    0. Returns (the bounds, f at the points)."""
    residuals = forward(transposed, biases, readout, readout_bias, has_readout, points.copy())
    for p in range(residuals.shape[0]):
        residuals[p] -= y
    multipliers = residuals @ A.T if has_A else residuals
    rows = multipliers @ A if has_A else multipliers
    coefficients = rows @ readout if has_readout else rows.copy()
    constant = rows @ readout_bias
    depth = len(offsets) - 1
    linear, const = lower_substitute(coefficients, constant, depth - 1, weights, biases, first, offsets, slope,
                                     intercept, alpha, folded, across, unstable_rows, unstable, live)
    inner = concretise_lower(linear, const, (lo + hi) / 2, (hi - lo) / 2)
    values, f_values = np.empty(rows.shape[0]), np.empty(rows.shape[0])
    for p in range(rows.shape[0]):
        f_values[p] = 0.5 * np.dot(multipliers[p], multipliers[p])
        slope_at_zero = inner[p] - np.dot(rows[p], y)
        values[p] = slope_at_zero**2 / (4.0 * f_values[p]) if slope_at_zero > 0.0 else 0.0
    return values, f_values


@nb.njit(cache=True)
def box_least_squares(M, v, lo, hi, start):
    r"""A minimiser of :math:`\tfrac12\|Mx - v\|^2` over the box [lo, hi], by the primal active-set method from
    ``start`` (a point of the box): minimise over the free coordinates with the others at their bounds; step towards
    that minimiser until a bound blocks (then fix it there), or reach it and free the bound whose multiplier has the
    wrong sign, until none has. :math:`H = M^\top M` gets a ridge of 1e-12 of its mean diagonal, so that a
    rank-deficient M has one answer; at most 50(k + 1) steps (then the point reached, still in the box)."""
    k = lo.shape[0]
    H = M.T @ M
    b = M.T @ v
    ridge = 1e-12 * (np.trace(H) / k) + 1e-300
    for i in range(k):
        H[i, i] += ridge
    x = np.minimum(np.maximum(start, lo), hi)
    side = np.zeros(k, dtype=np.int64)  # −1 at lo, +1 at hi, 0 free
    scale = np.abs(b).max() + np.abs(H).max() * (np.abs(lo).max() + np.abs(hi).max()) + 1e-300
    for _ in range(50 * (k + 1)):
        free = np.flatnonzero(side == 0)
        target = x.copy()
        if free.shape[0] > 0:
            rhs = b - H @ np.where(side == 0, 0.0, x)
            target_free = _cholesky_solve(H[free][:, free], rhs[free])
            for c in range(free.shape[0]):
                target[free[c]] = target_free[c]
        step, blocking = 1.0, -1
        for i in free:
            move = target[i] - x[i]
            if target[i] < lo[i] and (lo[i] - x[i]) / move < step:
                step, blocking = (lo[i] - x[i]) / move, i
            elif target[i] > hi[i] and (hi[i] - x[i]) / move < step:
                step, blocking = (hi[i] - x[i]) / move, i
        for i in free:
            x[i] += step * (target[i] - x[i])
        if blocking >= 0:
            side[blocking] = -1 if target[blocking] < lo[blocking] else 1
            x[blocking] = lo[blocking] if side[blocking] < 0 else hi[blocking]
            continue
        gradient = H @ x - b
        worst, violation = -1, 1e-13 * scale
        for i in range(k):
            wrong = side[i] * gradient[i]  # > 0: f falls as x_i leaves its bound (at lo the gradient is < 0)
            if wrong > violation:
                worst, violation = i, wrong
        if worst < 0:
            break
        side[worst] = 0
    return np.minimum(np.maximum(x, lo), hi)


@nb.njit(cache=True)
def _cholesky_solve(H, rhs):
    """H⁻¹ rhs for a small positive definite H."""
    n = H.shape[0]
    L = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            total = H[i, j]
            for p in range(j):
                total -= L[i, p] * L[j, p]
            if i == j:
                L[i, i] = np.sqrt(max(total, 1e-300))
            else:
                L[i, j] = total / L[j, j]
    z = np.empty(n)
    for i in range(n):
        total = rhs[i]
        for p in range(i):
            total -= L[i, p] * z[p]
        z[i] = total / L[i, i]
    out = np.empty(n)
    for i in range(n - 1, -1, -1):
        total = z[i]
        for p in range(i + 1, n):
            total -= L[p, i] * out[p]
        out[i] = total / L[i, i]
    return out


@nb.njit(cache=True)
def centre_tangent(weights, transposed, biases, first, offsets, readout, readout_bias, has_readout, lo, hi, slope,
                   intercept, alpha, folded, across, unstable_rows, unstable, live, A, has_A, y):
    r""":func:`tangent_values` at the box's centre c and at its Gauss–Newton point: the minimiser over the box of
    :math:`\tfrac12\|A(Jx + c_0 - y)\|^2`, G's affine map :math:`Jx + c_0` on the piece of c (:func:`affine_at`)
    in place of G (:func:`box_least_squares`). Returns (the larger bound, at least 0; the point of the two where f
    is lower; f there)."""
    centre = (lo + hi) / 2
    value, J = affine_at(transposed, biases, readout, readout_bias, has_readout, centre)
    target = y - value + J @ centre
    M, v = (A @ J, A @ target) if has_A else (J, target)
    points = np.empty((2, lo.shape[0]))
    points[0] = centre
    points[1] = box_least_squares(M, v, lo, hi, centre)
    values, f_values = tangent_values(weights, transposed, biases, first, offsets, readout, readout_bias, has_readout,
                                      lo, hi, slope, intercept, alpha, folded, across, unstable_rows, unstable, live,
                                      A, has_A, y, points)
    lowest = 0 if f_values[0] <= f_values[1] else 1
    return max(values[0], values[1], 0.0), points[lowest].copy(), f_values[lowest]
