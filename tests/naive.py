"""Slow, obviously-correct references for every kernel and public computation.

Loops over points, layers and neurons, written from the paper's definitions;
nothing here calls into ``landscape`` except to read a network's arrays.
"""

from __future__ import annotations

import numpy as np


def layer_params(net):
    """``[(W_i, b_i)]`` with explicit zero biases for a bias-free network."""
    biases = net.biases if net.biases is not None else [np.zeros(w.shape[0]) for w in net.weights]
    return list(zip(net.weights, biases))


def forward_trace(net, x):
    """Pre-activations ``[z_1..z_d]`` and output ``G(x)`` of one point, neuron by neuron."""
    preacts, current = [], np.asarray(x, dtype=float)
    for w, b in layer_params(net):
        z = np.array([sum(w[j, l] * current[l] for l in range(w.shape[1])) + b[j] for j in range(w.shape[0])])
        preacts.append(z)
        current = np.array([max(v, 0.0) for v in z])
    out = current if net.readout is None else net.readout @ current
    if net.readout_bias is not None:
        out = out + net.readout_bias
    return preacts, out


def forward(net, X):
    return np.array([forward_trace(net, x)[1] for x in np.atleast_2d(X)])


def pattern_bits(net, x) -> bytes:
    """Pattern bytes: flat neuron g active (z > 0) sets bit 7 - g % 8 of byte g // 8."""
    flat = [v > 0 for z in forward_trace(net, x)[0] for v in z]
    out = bytearray((len(flat) + 7) // 8)
    for g, active in enumerate(flat):
        if active:
            out[g // 8] |= 1 << (7 - g % 8)
    return bytes(out)


def near_zero_set(net, x, tau):
    """S(x, θ, τ) = {(i, j) : |w_ij^T x_{i-1} + b_ij| <= τ}, layers 1-based."""
    preacts, _ = forward_trace(net, x)
    return {(i, j) for i, z in enumerate(preacts, start=1) for j, v in enumerate(z) if abs(v) <= tau}


def affine_from_gates(net, gates):
    """``(J, c)`` with explicit diagonal matrices: x_i = D_i (W_i x_{i-1} + b_i), G = V x_d + c_out."""
    k = net.input_dim
    J, c = np.eye(k), np.zeros(k)
    for (w, b), gate in zip(layer_params(net), gates):
        D = np.diag(np.asarray(gate, dtype=float))
        J, c = D @ w @ J, D @ (w @ c + b)
    if net.readout is not None:
        J, c = net.readout @ J, net.readout @ c
    if net.readout_bias is not None:
        c = c + net.readout_bias
    return J, c


def preactivation_maps(net, gates):
    """For each layer i, ``(A_i, a_i)`` with z_i(x) = A_i x + a_i on the piece of the given gates."""
    k = net.input_dim
    J, c, maps = np.eye(k), np.zeros(k), []
    for (w, b), gate in zip(layer_params(net), gates):
        maps.append((w @ J, w @ c + b))
        D = np.diag(np.asarray(gate, dtype=float))
        J, c = D @ w @ J, D @ (w @ c + b)
    return maps


def local_affine(net, x):
    """The paper's V W_{d,+,x} ... W_{1,+,x} (with biases): J and c at x's pattern."""
    gates = [z > 0 for z in forward_trace(net, x)[0]]
    return affine_from_gates(net, gates)


def value(net, y, A, x):
    _, g = forward_trace(net, x)
    A = np.eye(len(y)) if A is None else A
    r = A @ g - A @ y
    return 0.5 * float(r @ r)


def grad(net, y, A, x):
    """J^T A^T (A G(x) - A y) with J from the explicit diagonal products."""
    J, _ = local_affine(net, x)
    _, g = forward_trace(net, x)
    A = np.eye(len(y)) if A is None else A
    return J.T @ A.T @ (A @ g - A @ y)


def directional_derivative(net, y, A, x, d, step=1e-7):
    """D_d f(x) from the affine map of the piece the ray x + t d enters: its pattern is read at t = step."""
    x, d = np.asarray(x, float), np.asarray(d, float)
    J, _ = local_affine(net, x + step * d)
    _, g = forward_trace(net, x)
    A = np.eye(len(y)) if A is None else A
    return float((A @ g - A @ y) @ (A @ J @ d))


def one_sided_difference(f, x, d, t=1e-6):
    """Richardson-extrapolated one-sided difference: exact for a quadratic on [x, x + 2 t d]."""
    q1 = (f(x + t * d) - f(x)) / t
    q2 = (f(x + 2 * t * d) - f(x)) / (2 * t)
    return 2 * q1 - q2


# ---------------------------------------------------------------------------- polytopes and regions
def pattern_halfspaces(net, gates):
    """(G, h) of the pattern's polytope: z_g(x) >= 0 for active g, z_g(x) <= 0 for inactive g."""
    layers, start = [], 0
    for w in net.weights:
        layers.append(np.asarray(gates[start:start + w.shape[0]], dtype=bool))
        start += w.shape[0]
    rows = []
    for (A, a), gate in zip(preactivation_maps(net, layers), layers):
        for j, active in enumerate(gate):
            rows.append((-A[j], a[j]) if active else (A[j], -a[j]))
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


def box_rows(bounds, k):
    lo, hi = (np.full(k, float(b)) if np.ndim(b) == 0 else np.asarray(b, float) for b in bounds)
    return np.vstack([np.eye(k), -np.eye(k)]), np.concatenate([hi, -lo])


def chebyshev(G, h):
    """(centre, r): max r s.t. G x + r |G_i| <= h, 0 <= r <= 1, by one scipy linprog; r = 0 when empty."""
    from scipy.optimize import linprog

    k = G.shape[1]
    norms = np.linalg.norm(G, axis=1)
    res = linprog(np.r_[np.zeros(k), -1.0], A_ub=np.c_[G, norms], b_ub=h,
                  bounds=[(None, None)] * k + [(0, 1)], method="highs")
    return (res.x[:k], float(res.x[-1])) if res.status == 0 else (None, 0.0)


def inscribed_radius(G, h):
    return chebyshev(G, h)[1]


def has_interior(net, gates, bounds=None, tol=1e-9):
    """The definition: some open ball of inputs has exactly this pattern. The closed polytope must hold a
    ball, and its centre must really have the pattern (a neuron that is identically 0 cannot be active)."""
    G, h = pattern_halfspaces(net, gates)
    if bounds is not None:
        Gb, hb = box_rows(bounds, net.input_dim)
        G, h = np.vstack([G, Gb]), np.concatenate([h, hb])
    centre, radius = chebyshev(G, h)
    if radius <= tol:
        return False
    return pattern_bits(net, centre) == np.packbits(np.asarray(gates, dtype=bool)).tobytes()


def regions_by_brute_force(net, bounds=None):
    """Pattern bytes of every gate vector in {0, 1}^H whose polytope has an interior (tiny H only)."""
    H = net.n_hidden
    found = set()
    for code in range(2 ** H):
        gates = [(code >> (H - 1 - g)) & 1 == 1 for g in range(H)]
        if has_interior(net, gates, bounds):
            found.add(np.packbits(np.array(gates)).tobytes())
    return found


def pieces_by_brute_force(net, x, tau):
    """P(x, θ, τ) by trying every subset of S(x, θ, τ) to flip."""
    flat_s = [g for g, (i, j) in enumerate((i, j) for i, n in enumerate(net.hidden_widths, 1) for j in range(n))
              if (i, j) in near_zero_set(net, x, tau)]
    base = np.unpackbits(np.frombuffer(pattern_bits(net, x), np.uint8), count=net.n_hidden).astype(bool)
    found = set()
    for code in range(2 ** len(flat_s)):
        gates = base.copy()
        for t, g in enumerate(flat_s):
            if (code >> t) & 1:
                gates[g] = not gates[g]
        if has_interior(net, gates):
            found.add(np.packbits(gates).tobytes())
    return found


def facets_by_lp(G, h):
    """Row r is irredundant when max G_r x over the other rows (and G_r x <= h_r + 1) exceeds h_r."""
    from scipy.optimize import linprog

    facets = []
    for r in range(len(G)):
        if np.linalg.norm(G[r]) == 0:
            continue
        relaxed = h.copy()
        relaxed[r] += 1.0
        res = linprog(-G[r], A_ub=G, b_ub=relaxed, bounds=[(None, None)] * G.shape[1], method="highs")
        if res.status == 0 and -res.fun > h[r] + 1e-9 * (1 + abs(h[r])):
            facets.append(r)
    return facets


# ---------------------------------------------------------------------------- minimisers
def region_qp_fresh(net, y, A, gates, bounds=None):
    """min f over one pattern's polytope with a freshly built cvxpy problem (Clarabel): (x, value)."""
    import cvxpy as cp

    J, c = affine_from_gates(net, [gates[s:e] for s, e in _layer_slices(net)])
    G, h = pattern_halfspaces(net, gates)
    if bounds is not None:
        Gb, hb = box_rows(bounds, net.input_dim)
        G, h = np.vstack([G, Gb]), np.concatenate([h, hb])
    A = np.eye(len(y)) if A is None else A
    x = cp.Variable(net.input_dim)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ (J @ x + c) - A @ y)), [G @ x <= h])
    problem.solve(solver=cp.CLARABEL)
    return x.value, problem.value


def box_least_squares(M, v, lo, hi):
    """The minimum of ½‖Mx − v‖² over the box [lo, hi] by trying every active set: each coordinate at lo, at hi or
    free; the free ones by least squares with the others fixed; the lowest value among the points inside the box
    (the minimiser is one of them: it minimises over the free coordinates of its own active set). Returns (x, value).
    """
    import itertools

    best, best_value = None, np.inf
    for sides in itertools.product((-1, 0, 1), repeat=len(lo)):
        sides = np.array(sides)
        x = np.where(sides < 0, lo, np.where(sides > 0, hi, 0.0)).astype(float)
        free = sides == 0
        if free.any():
            x[free] = np.linalg.lstsq(M[:, free], v - M[:, ~free] @ x[~free], rcond=None)[0]
        if np.all(x >= lo) and np.all(x <= hi):
            value = 0.5 * float(np.sum((M @ x - v) ** 2))
            if value < best_value:
                best, best_value = x, value
    return best, best_value


def crown_row_lower(net, lower, upper, c, lo, hi):
    """A lower bound of cᵀG(x) over the box [lo, hi] by CROWN's back-substitution, neuron by neuron with the dense
    matrices: given each layer's pre-activation bounds (``lower``, ``upper``), an active neuron passes its
    coefficient, an inactive one drops it, and an unstable one (l < 0 < u) takes the line α z (α = 1 where u > −l,
    else 0) for a positive coefficient and u(z − l)/(u − l) for a negative one; then the affine function of x is
    minimised over the box coordinate by coordinate."""
    coefficient = np.asarray(c, dtype=float) if net.readout is None else np.asarray(c, dtype=float) @ net.readout
    constant = 0.0 if net.readout_bias is None else float(np.dot(c, net.readout_bias))
    for W, b, l, u in reversed(list(zip(net.weights, net.effective_biases, lower, upper))):
        on_z = np.zeros(len(b))
        for j in range(len(b)):
            if l[j] >= 0:
                on_z[j] = coefficient[j]
            elif u[j] <= 0:
                on_z[j] = 0.0
            elif coefficient[j] >= 0:
                on_z[j] = coefficient[j] * (1.0 if u[j] > -l[j] else 0.0)
            else:
                slope = u[j] / (u[j] - l[j])
                on_z[j] = coefficient[j] * slope
                constant += coefficient[j] * (-slope * l[j])
        constant += float(on_z @ b)
        coefficient = on_z @ W
    return constant + sum(min(coefficient[i] * lo[i], coefficient[i] * hi[i]) for i in range(len(lo)))


def crown_preactivation_bounds(net, lo, hi):
    """Every hidden neuron's pre-activation bounds over the box [lo, hi] as the search's linear bounds define them,
    neuron by neuron: the interval bounds (:func:`interval_propagation`); the first layer's are exact; from the
    second on, the forward affine bounds — each weight times the lower line α·(lower affine bound) or the upper line
    s·(upper affine bound) + t of its input's ReLU, whichever gives the lower (upper) bound — minimised (maximised)
    over the box and intersected with the interval ones; from the third on, a neuron these leave of open sign is
    bounded again by :func:`crown_row_lower` of the network cut after the previous layer with that neuron's row as
    readout."""
    import landscape as L

    lows, highs, _, _ = interval_propagation(net, lo, hi)
    k = len(lo)
    params = layer_params(net)
    lower, upper = [lows[0]], [highs[0]]
    below = [np.append(params[0][0][j], params[0][1][j]) for j in range(len(params[0][1]))]  # (coefficients, constant)
    above = list(below)
    for i in range(1, len(params)):
        W, b = params[i]
        lines = []
        for m in range(W.shape[1]):
            l, u = lower[i - 1][m], upper[i - 1][m]
            if l >= 0:
                lines.append((below[m], above[m]))
            elif u <= 0:
                lines.append((np.zeros(k + 1), np.zeros(k + 1)))
            else:
                slope = u / (u - l)
                alpha = 1.0 if u > -l else 0.0
                lines.append((alpha * below[m], slope * above[m] + np.append(np.zeros(k), -slope * l)))
        below, above, low, high = [], [], [], []
        for j in range(W.shape[0]):
            start = np.append(np.zeros(k), b[j])
            down = start + sum(W[j, m] * lines[m][0 if W[j, m] > 0 else 1] for m in range(W.shape[1]))
            up = start + sum(W[j, m] * lines[m][1 if W[j, m] > 0 else 0] for m in range(W.shape[1]))
            below.append(down)
            above.append(up)
            low.append(max(down[k] + sum(min(down[q] * lo[q], down[q] * hi[q]) for q in range(k)), lows[i][j]))
            high.append(min(up[k] + sum(max(up[q] * lo[q], up[q] * hi[q]) for q in range(k)), highs[i][j]))
            if i > 1 and low[j] < 0 < high[j]:
                cut = L.ReLUNet([w for w, _ in params[:i]], [c for _, c in params[:i]], readout=W[j:j + 1],
                                readout_bias=b[j:j + 1])
                low[j] = max(low[j], crown_row_lower(cut, lower, upper, [1.0], lo, hi))
                high[j] = min(high[j], -crown_row_lower(cut, lower, upper, [-1.0], lo, hi))
        lower.append(np.array(low))
        upper.append(np.array(high))
    return lower, upper


def triangle_qp_value(net, lower, upper, y, lo, hi, A=None):
    """min ½‖A(G̃ − y)‖² over x in [lo, hi] with every neuron a variable: h = z where l ≥ 0, h = 0 where u ≤ 0, and
    the triangle h ≥ 0, h ≥ z, h ≤ u(z − l)/(u − l) where l < 0 < u (pre-activation bounds ``lower``, ``upper`` per
    layer), layer by layer with the dense matrices, by a fresh cvxpy problem."""
    import cvxpy as cp

    x = cp.Variable(net.input_dim)
    constraints, h = [lo <= x, x <= hi], x
    for W, b, l, u in zip(net.weights, net.effective_biases, lower, upper):
        z = W @ h + b
        h = cp.Variable(len(b))
        for j in range(len(b)):
            if l[j] >= 0:
                constraints.append(h[j] == z[j])
            elif u[j] <= 0:
                constraints.append(h[j] == 0)
            else:
                constraints += [h[j] >= 0, h[j] >= z[j], h[j] <= u[j] / (u[j] - l[j]) * (z[j] - l[j])]
    g = h if net.readout is None else net.readout @ h
    if net.readout_bias is not None:
        g = g + net.readout_bias
    A = np.eye(len(y)) if A is None else A
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ g - A @ y)), constraints)
    problem.solve(solver=cp.CLARABEL)
    return problem.value

def _layer_slices(net):
    start = 0
    for n in net.hidden_widths:
        yield start, start + n
        start += n


def exhaustive_minimum(net, y, A, bounds=None):
    """The global minimum value by a fresh QP on every region found by brute force over all patterns."""
    best = (None, np.inf)
    for bits in regions_by_brute_force(net, bounds):
        gates = np.unpackbits(np.frombuffer(bits, np.uint8), count=net.n_hidden).astype(bool)
        x, value = region_qp_fresh(net, y, A, gates, bounds)
        if value < best[1]:
            best = (x, value)
    return best


def relu_graph_distance_by_grid(a: float, b: float, half_width: float = 10.0, steps: int = 400_001) -> float:
    """Squared distance from (a, b) to the graph {(p, max(p, 0))}, by scanning p on a fine grid."""
    p = np.linspace(-half_width, half_width, steps)
    return float(np.min((p - a) ** 2 + (np.maximum(p, 0.0) - b) ** 2))


def polygon_minimum(residuals):
    r"""min of ½‖r‖² over a polygon on which r is affine, given r at its vertices (p, m): r maps the polygon onto
    conv{r_i}, so this is ½ dist(0, conv{r_i})², minimised over the simplex weights λ with a fresh cvxpy problem."""
    import cvxpy as cp

    weights = cp.Variable(len(residuals), nonneg=True)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(residuals.T @ weights)), [cp.sum(weights) == 1])
    problem.solve(solver=cp.CLARABEL)
    return problem.value


def rounding_slack(W, b, X, inherited, rtol):
    """Per point p and neuron j of one dense layer: sum over inputs l of |W[j, l]| (rtol |X[p, l]| + inherited[p, l]),
    plus rtol |b_j|, by loops over points, neurons and inputs."""
    slack = np.zeros((len(X), len(b)))
    for p in range(len(X)):
        for j in range(len(b)):
            total = rtol * abs(b[j])
            for l in range(W.shape[1]):
                total += abs(W[j, l]) * (rtol * abs(X[p, l]) + inherited[p, l])
            slack[p, j] = total
    return slack


def box_polygon(G, h, lo, hi, tol=1e-9):
    """The vertices of {x in [lo, hi]² : G x <= h} by brute force: every crossing of two of its lines (the rows of G
    and the box's four sides) that satisfies every inequality, duplicates merged, in counter-clockwise order."""
    lines = [(G[r], h[r]) for r in range(len(G)) if np.any(G[r] != 0)]
    lines += [(np.array([1.0, 0.0]), hi[0]), (np.array([0.0, 1.0]), hi[1]), (np.array([-1.0, 0.0]), -lo[0]),
              (np.array([0.0, -1.0]), -lo[1])]
    points = []
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            M = np.array([lines[i][0], lines[j][0]])
            if abs(np.linalg.det(M)) < 1e-12:
                continue
            x = np.linalg.solve(M, np.array([lines[i][1], lines[j][1]]))
            if all(a @ x <= c + tol * (1 + abs(c)) for a, c in lines):
                if not any(np.linalg.norm(x - q) < 1e-9 for q in points):
                    points.append(x)
    if len(points) < 3:
        return np.zeros((0, 2))
    points = np.array(points)
    centre = points.mean(axis=0)
    return points[np.argsort(np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0]))]


def conv_transpose(x, kernel, bias, stride, padding, output_padding=0):
    """PyTorch's ConvTranspose2d of one image x (C, H, W) with kernel (C, C', kh, kw), by loops over every input pixel
    and kernel tap: out[o, h s + a − p, w s + b − p] += x[c, h, w] K[c, o, a, b], then the bias."""
    C, H, W = x.shape
    _, O, kh, kw = kernel.shape
    Ho, Wo = (H - 1) * stride - 2 * padding + kh + output_padding, (W - 1) * stride - 2 * padding + kw + output_padding
    out = np.zeros((O, Ho, Wo))
    for c in range(C):
        for h in range(H):
            for w in range(W):
                for o in range(O):
                    for a in range(kh):
                        for b in range(kw):
                            i, j = h * stride + a - padding, w * stride + b - padding
                            if 0 <= i < Ho and 0 <= j < Wo:
                                out[o, i, j] += x[c, h, w] * kernel[c, o, a, b]
    return out + np.asarray(bias)[:, None, None]


def conv(x, kernel, bias, stride, padding):
    """PyTorch's Conv2d of one image x (C, H, W) with kernel (C', C, kh, kw), by loops over every output pixel and
    kernel tap over x zero-padded by p, then the bias."""
    C, H, W = x.shape
    O, _, kh, kw = kernel.shape
    padded = np.zeros((C, H + 2 * padding, W + 2 * padding))
    padded[:, padding:padding + H, padding:padding + W] = x
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    out = np.zeros((O, Ho, Wo))
    for o in range(O):
        for i in range(Ho):
            for j in range(Wo):
                out[o, i, j] = bias[o] + sum(padded[c, i * stride + a, j * stride + b] * kernel[o, c, a, b]
                                             for c in range(C) for a in range(kh) for b in range(kw))
    return out


def plugin_direction(net, y, A, x):
    """PLUGIn's update direction W_1^T ... W_d^T V^T A^T (A G(x) - A y) for one point: the transposed weights
    multiplied out one by one, every mask and bias left out."""
    A = np.eye(len(y)) if A is None else np.asarray(A)
    residual = A @ (forward(net, x)[0] - y)
    direction = A.T @ residual
    if net.readout is not None:
        direction = net.readout.T @ direction
    for w in reversed(net.weights):
        direction = w.T @ direction
    return direction


def reflect_once_at_a_time(value: float) -> float:
    """A coordinate reflected at the faces of [-1, 1], one reflection at a time, until inside."""
    while not -1.0 <= value <= 1.0:
        value = 2.0 - value if value > 1.0 else -2.0 - value
    return value


def interval_propagation(net, lo, hi):
    """Per hidden layer the interval of every pre-activation over the box [lo, hi], and the output's: each neuron's
    lowest and highest value, term by term (a weight times the end of its input's interval that minimises or
    maximises the product), then the ReLU applied to both ends."""
    lows, highs, in_low, in_high = [], [], list(lo), list(hi)
    for w, b in layer_params(net):
        low, high = [], []
        for j in range(w.shape[0]):
            terms = [(w[j, l] * in_low[l], w[j, l] * in_high[l]) for l in range(w.shape[1])]
            low.append(b[j] + sum(min(t) for t in terms))
            high.append(b[j] + sum(max(t) for t in terms))
        lows.append(np.array(low))
        highs.append(np.array(high))
        in_low, in_high = [max(v, 0.0) for v in low], [max(v, 0.0) for v in high]
    V = np.eye(len(in_low)) if net.readout is None else net.readout
    c = np.zeros(V.shape[0]) if net.readout_bias is None else net.readout_bias
    out_low = np.array([c[i] + sum(min(V[i, l] * in_low[l], V[i, l] * in_high[l]) for l in range(V.shape[1]))
                        for i in range(V.shape[0])])
    out_high = np.array([c[i] + sum(max(V[i, l] * in_low[l], V[i, l] * in_high[l]) for l in range(V.shape[1]))
                         for i in range(V.shape[0])])
    return lows, highs, out_low, out_high


def image_patches(images, size, stride):
    """Every size × size patch of every image (n, C, H, W) at stride steps, row by row, flattened channel, row,
    column: one loop per index."""
    n, C, H, W = images.shape
    out = []
    for i in range(n):
        rows = []
        for r in range(0, H - size + 1, stride):
            for c in range(0, W - size + 1, stride):
                rows.append([images[i, ch, r + a, c + b] for ch in range(C) for a in range(size) for b in range(size)])
        out.append(rows)
    return np.array(out)


def ccnn_loss(A, Z, y):
    """The CCNN layer's mean multinomial logistic loss, image by image and class by class."""
    n, P, m = Z.shape
    K = A.shape[2]
    total = 0.0
    for i in range(n):
        H = [sum(Z[i, p, j] * A[j, p, k] for p in range(P) for j in range(m)) for k in range(K)]
        total += np.log(sum(np.exp(h) for h in H)) - H[y[i]]
    return total / n
