r"""Theorem 3.1: at random initialisation every critical point of :math:`f_0` lies in a small ball around 0.

For fixed y and :math:`\theta_0` drawn as in the theorem (:math:`W_i, b_i \sim \mathcal N(0, 1/n_i)`,
:math:`V \sim \mathcal N(0, 1/n)`), with sufficiently expansive widths, every x with
:math:`\|x\| > C'\varepsilon(1 + \|y\|)` satisfies eq. (2):
:math:`D_{-x/\|x\|} f_0(x) < 0`. Per network the check measures, in units of :math:`1 + \|y\|`:

* ``r_violation``: the largest radius at which eq. (2) fails among the points tried: shells of radii
  times random directions, plus each of those points pushed onto its nearest first-layer switching
  hyperplane (where f is not differentiable and the derivative is one-sided). Any k.
* ``r_minima``: the largest radius of an exact local minimum of :math:`f_0` (k <= 3; every linear piece
  inside the box :math:`[-B, B]^k`, :math:`B = \mathrm{box}\,(1 + \|y\|)`, one certified QP each;
  minima on the box's faces are not minima of f and are left out).
* ``r_violation_exact_in_box``: the largest radius in the box at which eq. (2) fails, exactly, by a search
  over every piece (k <= 3, see :func:`exact_violation_radius`).

``r_critical = max(r_violation, r_minima)``; per setting the check reports the empirical probability that
``r_critical <= ρ`` on a grid of ρ and fits ``log r_critical`` against ``log(expansion)`` (the theorem's
ε shrinks as the widths grow). The theorem's constants are unspecified, so :func:`conditions` reports,
for a chosen constant C, the smallest ε its two sufficient conditions allow.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

import landscape as L
from landscape.qp import region_least_squares

from ._result import CheckResult
from ._runner import run_trials

CLEAR_DECREASE = 0.8
"""A trend counts as shrinking when the widest setting's median is at most this fraction of the narrowest's."""

CLAIM = (
    "Theorem 3.1: for θ_0 with W_i, b_i ~ N(0, 1/n_i) and V ~ N(0, 1/n), fixed y, sufficiently expansive widths and "
    "A = I or Gaussian with m large enough, with high probability every x with ‖x‖ > C'ε(1 + ‖y‖) satisfies "
    "D_{−x/‖x‖} f_0(x) < 0 (eq. (2)): all critical points of f_0 lie in a small ball around 0."
)
RHO_GRID = tuple(float(r) for r in np.round(np.geomspace(0.005, 1.0, 24), 5))


def _smallest_epsilon(ok, lo: float = 1e-8, hi: float = 0.999) -> float | None:
    """The smallest ε in (0, 1) with ok(ε), for a condition that only gets easier as ε grows."""
    if not ok(hi):
        return None
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return float(hi)


def conditions(widths, n: int, m: int | None, C: float = 1.0) -> dict:
    r"""Which of Theorem 3.1's sufficient conditions hold, for a chosen constant C (the paper leaves it open).

    1. :math:`n \ge n_d` and :math:`n_i > C \varepsilon^{-2}\log(\varepsilon^{-1})\, n_{i-1} \log n_i` for all i;
    2. A = I, or :math:`m \ge C k \varepsilon^{-1} \log(\varepsilon^{-1}) \log(n_1 \cdots n_d)`.

    Returns the smallest ε each condition allows (None when no ε < 1 does; with A = I condition 2 is
    void), whether ``n >= n_d``, and the widths' expansion factors.
    """
    widths = [int(w) for w in widths]
    k = widths[0]

    def layers_ok(eps):
        return all(n_i > C * eps**-2 * np.log(1 / eps) * n_prev * np.log(n_i)
                   for n_prev, n_i in zip(widths[:-1], widths[1:]))

    def measurements_ok(eps):
        return m is None or m >= C * k / eps * np.log(1 / eps) * np.sum(np.log(widths[1:]))

    return {
        "C": C,
        "n_at_least_n_d": n >= widths[-1],
        "expansion": [round(b / a, 3) for a, b in zip(widths[:-1], widths[1:])],
        "expansive": all(b > a for a, b in zip(widths[:-1], widths[1:])),
        "epsilon_from_widths": _smallest_epsilon(layers_ok),
        "epsilon_from_m": "A = I: no condition" if m is None else _smallest_epsilon(measurements_ok),
    }


def data_like_target(n: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth non-negative vector with entries in [0, 1], like a flattened image, in place of a data point."""
    walk = np.cumsum(rng.normal(size=n))
    smooth = np.maximum(gaussian_filter1d(walk - walk.mean(), sigma=4.0, mode="nearest"), 0.0)
    return smooth / smooth.max() if smooth.max() > 0 else smooth


def _pushed_onto_first_layer(net: L.ReLUNet, X: np.ndarray) -> np.ndarray:
    """Each point projected onto the first-layer switching hyperplane nearest to it."""
    W, b = net.weights[0], net.effective_biases[0]
    distances = (X @ W.T + b) / np.linalg.norm(W, axis=1)
    nearest = np.argmin(np.abs(distances), axis=1)
    normals = W[nearest] / np.linalg.norm(W[nearest], axis=1, keepdims=True)
    return X - distances[np.arange(len(X)), nearest][:, None] * normals


def violation_search(f: L.Objective, radii: np.ndarray, directions: np.ndarray) -> dict:
    r"""Test eq. (2), :math:`D_{-x/\|x\|} f(x) < 0`, at every ``radius * direction`` and at each such point
    pushed onto its nearest first-layer switching hyperplane (a kink of f, where the derivative is one-sided).

    Returns the number of points tried, how many violate eq. (2), and the largest violating radius (0 if none).
    """
    k = f.net.input_dim
    X = (np.asarray(radii)[:, None, None] * np.asarray(directions)[None, :, :]).reshape(-1, k)
    X = np.vstack([X, _pushed_onto_first_layer(f.net, X)])
    radius = np.linalg.norm(X, axis=1)
    X, radius = X[radius > 0], radius[radius > 0]
    violating = f.directional_derivative(X, -X / radius[:, None]) >= 0
    return {"points_tried": int(len(X)), "violations": int(violating.sum()),
            "largest_violating_radius": float(radius[violating].max()) if violating.any() else 0.0}


def _stationary_points_on_quadric(p: np.ndarray, B: np.ndarray, H: np.ndarray, q: np.ndarray) -> list[np.ndarray]:
    r"""Points :math:`x = p + Bz` (orthonormal columns B) on the quadric :math:`x^\top H x - q^\top x = 0` where
    :math:`\|x\|` restricted to the quadric and the affine subspace is stationary (one column: the crossings).

    Lagrange: :math:`(I - \mu H')z = \mu b/2 - a` with :math:`H' = B^\top H B`, :math:`b = B^\top(2Hp - q)`,
    :math:`a = B^\top p`; in the eigenbasis of H' the constraint becomes a polynomial in μ of degree <= 2j.
    """
    H_sub, b, a = B.T @ H @ B, B.T @ (2 * H @ p - q), B.T @ p
    c0 = p @ H @ p - q @ p
    if B.shape[1] == 1:  # a line: the crossings h t^2 + b t + c0 = 0
        coefficients = np.array([H_sub[0, 0], b[0], c0])
        if not np.any(coefficients[:2]):
            return []
        return [p + t.real * B[:, 0] for t in np.roots(np.trim_zeros(coefficients, "f")) if abs(t.imag) < 1e-10]
    lam, Q = np.linalg.eigh(H_sub)
    bt, at = Q.T @ b, Q.T @ a
    # Coefficient arrays in μ, highest power first: numerators n_i = b̃_i μ/2 − ã_i, denominators d_i = 1 − λ_i μ.
    numerators = np.column_stack([bt / 2, -at])
    squared = [np.array([lam_i**2, -2 * lam_i, 1.0]) for lam_i in lam]

    def product_of_squares(skip: int | None = None) -> np.ndarray:
        return functools.reduce(np.convolve, (s for i, s in enumerate(squared) if i != skip), np.ones(1))

    total = c0 * product_of_squares()
    for i, n_i in enumerate(numerators):
        d_i = np.array([-lam[i], 1.0])
        term = np.convolve(lam[i] * np.convolve(n_i, n_i) + bt[i] * np.convolve(n_i, d_i), product_of_squares(skip=i))
        total = np.polyadd(total, term)
    total = np.trim_zeros(total, "f")
    points = []
    for mu in np.roots(total) if len(total) > 1 else []:
        if abs(mu.imag) > 1e-10:
            continue
        scale = 1.0 - mu.real * lam
        if np.any(np.abs(scale) < 1e-12):
            continue
        w = (numerators[:, 0] * mu.real + numerators[:, 1]) / scale
        points.append(p + B @ (Q @ w))
    return points


def _violating_extreme_points(region: L.Region, H: np.ndarray, q: np.ndarray) -> list[np.ndarray]:
    r"""Candidates for the farthest point of :math:`C = \{x \in R : x^\top H x - q^\top x \le 0\}` (R bounded,
    k <= 3). |x| is convex, so it peaks at an extreme point of C: a vertex of R, a crossing of an edge of R
    with the quadric, or a point where |x| is stationary on the quadric within a face of R of dimension >= 2
    (R's interior included)."""
    G, h = region.halfspaces()
    k = G.shape[1]
    rows = [int(r) for r in region.facet_rows]
    candidates = list(region.vertices())
    for size in range(0, k):  # faces of dimension k - size: the intersections of `size` facet planes
        for subset in itertools.combinations(rows, size):
            G_s, h_s = G[list(subset)], h[list(subset)]
            if size and np.linalg.matrix_rank(G_s) < size:
                continue
            p = G_s.T @ np.linalg.solve(G_s @ G_s.T, h_s) if size else np.zeros(k)
            B = np.linalg.svd(G_s)[2][size:].T if size else np.eye(k)
            candidates.extend(_stationary_points_on_quadric(p, B, H, q))
    return candidates


def _misses_region_or_record(H: np.ndarray, q: np.ndarray, eps: float, G: np.ndarray, h: np.ndarray,
                             largest: float) -> bool:
    r"""Whether :math:`C_\varepsilon = \{x : x^\top H x - q^\top x \le \varepsilon(1 + \|x\|^2)\}` provably misses the
    polytope :math:`Gx \le h` or lies within radius ``largest``: a sufficient test, so False decides nothing.

    With :math:`H_\varepsilon = H - \varepsilon I \succ 0` and :math:`c = H_\varepsilon^{-1} q / 2`, the set is the
    ellipsoid :math:`(x - c)^\top H_\varepsilon (x - c) \le \varepsilon + q^\top c / 2`, inside the ball of centre c and
    radius :math:`\rho = \sqrt{(\varepsilon + q^\top c/2) / \lambda_{\min}(H_\varepsilon)}`; the ball misses the polytope
    when it lies beyond one of its half-spaces, :math:`g^\top c - \rho \|g\| > h`.
    """
    H_eps = H - eps * np.eye(len(H))
    lam_min = np.linalg.eigvalsh(H_eps)[0]
    if lam_min <= 1e-12 * max(1.0, float(np.abs(H).max())):
        return False
    c = np.linalg.solve(H_eps, q) / 2
    rho = np.sqrt(max(eps + q @ c / 2, 0.0) / lam_min)
    return bool(np.linalg.norm(c) + rho <= largest or np.any(G @ c - rho * np.linalg.norm(G, axis=1) > h))


def exact_violation_radius(f: L.Objective, regions: L.RegionSet, tol: float = 1e-9) -> float:
    r"""The largest |x| at which eq. (2) fails, over every region of a bounded enumeration (k <= 3).

    In a region f is :math:`\tfrac12\|Mx - v\|^2`, and :math:`D_{-x/\|x\|} f(x) \ge 0` exactly when
    :math:`x^\top H x - q^\top x \le 0` with :math:`H = M^\top M`, :math:`q = M^\top v`: a convex set. |x| is
    convex, so its maximum over (region ∩ that set) sits at an extreme point, which
    :func:`_violating_extreme_points` lists in closed form. Points of a region's boundary where the ray
    towards the origin leaves the region are counted with that region (a boundary case of measure zero).
    """
    k = f.net.input_dim
    if k > 3:
        raise ValueError(f"the exact violation search handles k <= 3; got k = {k}")
    if regions.bounds is None:
        raise ValueError("regions must come from a bounded enumeration (pass bounds to enumerate_regions)")
    largest = 0.0
    for region in regions:
        M, v = region_least_squares(f, region)
        H, q = M.T @ M, M.T @ v
        G, h = region.halfspaces()
        scale = 1.0 + float(np.abs(q).sum())
        if _misses_region_or_record(H, q, tol * scale, G, h + tol * (1 + np.abs(h)), largest):
            continue
        for x in _violating_extreme_points(region, H, q):
            if (np.all(G @ x <= h + tol * (1 + np.abs(h))) and x @ H @ x - q @ x <= tol * scale * (1 + x @ x)
                    and np.linalg.norm(x) > largest):
                largest = float(np.linalg.norm(x))
    return largest


def _trial(index: int, seed: np.random.SeedSequence, settings: dict) -> dict:
    widths, n, m, y_kind, _ = settings["sweep"][index // settings["trials_per_setting"]]
    rng = np.random.default_rng(seed)
    net = L.ReLUNet.random(widths, out_dim=n, rng=rng)
    if y_kind == "given":
        y = np.array(settings["y"])
    else:
        y = rng.normal(size=n) if y_kind == "gaussian" else settings["data_scale"] * data_like_target(n, rng)
    A = None if m is None else L.gaussian_measurements(m, n, rng)
    f = L.Objective(net, y, A)
    scale = 1.0 + float(np.linalg.norm(y))
    k = widths[0]

    directions = rng.normal(size=(settings["directions"], k))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    search = violation_search(f, np.array(settings["shells"]) * scale, directions)
    record = {"setting": index // settings["trials_per_setting"], "norm_y": scale - 1.0,
              "points_tried": search["points_tried"], "violations": search["violations"],
              "r_violation": search["largest_violating_radius"] / scale,
              "censored": bool(search["largest_violating_radius"] >= max(settings["shells"]) * scale * (1 - 1e-12))}
    if k <= 3 and settings["exact"]:
        half = settings["box"] * scale
        try:
            regions = L.enumerate_regions(net, bounds=(-half, half), max_regions=settings["max_regions"])
        except L.TooManyRegionsError as error:
            record.update({"regions_in_box": None, "exact_skipped": f"more than {error.count} pieces in the box"})
        else:
            minima = [mn for mn in L.local_minima(f, regions=regions) if np.all(np.abs(mn.x) < half * (1 - 1e-9))]
            radii = [float(np.linalg.norm(mn.x) / scale) for mn in minima]
            record.update({"regions_in_box": len(regions), "local_minima": len(minima),
                           "r_minima": max(radii, default=0.0),
                           "r_global_minimum": radii[int(np.argmin([mn.value for mn in minima]))] if minima else None})
            record["r_violation_exact_in_box"] = exact_violation_radius(f, regions) / scale
    record["r_critical"] = max(record["r_violation"], record.get("r_minima") or 0.0,
                               record.get("r_violation_exact_in_box") or 0.0)
    return record


def _summaries(settings: dict, records: list[dict]) -> list[dict]:
    out = []
    for s, (widths, n, m, y_kind, expansion) in enumerate(settings["sweep"]):
        rows = [r for r in records if r["setting"] == s]
        critical = np.array([r["r_critical"] for r in rows])
        summary = {
            "widths": widths, "n": n, "m": m, "y": y_kind, "trials": len(rows),
            "expansion": expansion,
            "median_r_critical": float(np.median(critical)), "max_r_critical": float(critical.max()),
            "median_r_violation": float(np.median([r["r_violation"] for r in rows])),
            "censored_trials": int(sum(r["censored"] for r in rows)),
            "probability_within": {str(rho): float(np.mean(critical <= rho)) for rho in settings["rho_grid"]},
            "points_tried_per_trial": int(rows[0]["points_tried"]),
            "conditions": conditions(widths, n, m, settings["C"]),
        }
        exact = [r for r in rows if r.get("r_minima") is not None]
        if exact:
            summary["median_r_minima"] = float(np.median([r["r_minima"] for r in exact]))
            summary["mean_local_minima"] = float(np.mean([r["local_minima"] for r in exact]))
        summary["trials_with_exact_minima"] = len(exact)
        out.append(summary)
    return out


MIN_POINTS_FOR_SLOPE = 4
"""A fitted slope of log r against log expansion is reported only through this many uncensored medians."""


def median_is_lower_bound(summary: dict) -> bool:
    """Whether half or more of a setting's trials are censored, so its median r_critical is only a lower bound."""
    return 2 * summary["censored_trials"] >= summary["trials"]


def _trend(summaries: list[dict]) -> dict:
    """Least-squares line log(median r_critical) = intercept + slope log(expansion), per (depth, m, y) group,
    through the medians that are not lower bounds, and only where there are MIN_POINTS_FOR_SLOPE of them."""
    groups: dict[tuple, list[dict]] = {}
    for s in summaries:
        groups.setdefault((len(s["widths"]) - 1, s["m"], s["y"]), []).append(s)
    out = {}
    for (d, m, y), group in groups.items():
        points = [(np.log(s["expansion"]), np.log(s["median_r_critical"])) for s in group
                  if s["median_r_critical"] > 0 and not median_is_lower_bound(s)]
        if len(points) >= MIN_POINTS_FOR_SLOPE:
            x, v = np.array(points).T
            slope, intercept = np.polyfit(x, v, 1)
            out[f"d={d}, m={m or 'n'}, y={y}"] = {"slope": float(slope), "intercept": float(intercept),
                                                   "points": len(points)}
    return out


def run(k: int = 2, depths=(1, 2, 3), expansions=(2, 4, 8), m_values=(None, 60), y_kinds=("gaussian", "data-like"),
        trials: int = 10, directions: int = 400, shells=RHO_GRID, box: float = 0.5, exact: bool = True,
        C: float = 1.0, data_scale: float = 1.0, y=None, seed: int = 0, workers: int | None = None,
        journal: Path | None = None, progress: bool = False, max_regions: int = 50_000,
        allow_non_expansive: bool = False, widths=None, readout: int | None = None) -> CheckResult:
    r"""Sweep expansion, depth, measurements and kind of target; ``trials`` networks per setting.

    Widths are :math:`n_i = k e^i` for expansion e and depth d, with readout :math:`n = 2 n_d`; or the
    networks a user names with ``widths`` (and ``readout``).

    Parameters
    ----------
    k : int
        Latent dimension; the exact local-minimum search runs for k <= 3 (when ``exact``).
    depths, expansions, m_values, y_kinds : sequences
        The sweep (``m = None`` is A = I; y is "gaussian", N(0, I_n), or "data-like", see
        :func:`data_like_target`, times ``data_scale``).
    directions : int
        Random directions per shell.
    shells : sequence of float
        Radii, in units of 1 + ‖y‖, of the Monte Carlo shells; also the ρ grid of the probability curves.
    box : float
        Half-width of the exact search box, in units of 1 + ‖y‖.
    C : float
        Constant used to report the theorem's sufficient conditions.
    max_regions : int
        A trial whose box holds more pieces skips the exact search (the record says so) and keeps the
        Monte Carlo radius.
    y : array_like of shape (n,), optional
        A fixed target (the theorem's "fix y"), used in every trial instead of ``y_kinds``; every setting
        then has readout n = len(y), which must be at least every setting's n_d.
    allow_non_expansive : bool
        Run expansions <= 1 too; the theorem does not apply to them and the verdict says so.
    widths : sequence of sequences of int, optional
        The networks to test, each ``[k, n_1, ..., n_d]``, instead of the ``k``/``depths``/``expansions``
        sweep; their expansion is reported as the geometric mean of :math:`n_i / n_{i-1}`.
    readout : int, optional
        The output dimension n of every network (default :math:`2 n_d`; with ``y``, ``len(y)``).
    seed, workers, journal, progress
        See :func:`proofs_check._runner.run_trials`.
    """
    if trials < 1:
        raise ValueError(f"trials must be >= 1; got {trials}")
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    for m in m_values:
        if m is not None and (not isinstance(m, (int, np.integer)) or m < 1):
            raise ValueError(f"m_values must hold integers >= 1 or None; got {m!r}")
    for y_kind in y_kinds:
        if y_kind not in ("gaussian", "data-like"):
            raise ValueError(f"y_kinds must hold 'gaussian' or 'data-like'; got {y_kind!r}")
    if widths is not None:
        widths = [[int(w) for w in ws] for ws in widths]
        if not widths or any(len(ws) < 2 or min(ws) < 1 for ws in widths):
            raise ValueError(f"widths must be a list of networks [k, n_1, ..., n_d] of positive integers; got {widths}")
        expansions = [round(float(np.exp(np.mean(np.log(np.array(ws[1:]) / np.array(ws[:-1]))))), 3)
                      for ws in widths]
        depths = sorted({len(ws) - 1 for ws in widths})
    if readout is not None and (isinstance(readout, bool) or not isinstance(readout, (int, np.integer)) or readout < 1):
        raise ValueError(f"readout must be an integer n >= 1; got {readout!r}")
    non_expansive = [e for e in expansions if e <= 1]
    if non_expansive and not allow_non_expansive:
        raise ValueError(f"expansions {non_expansive} are not expansive: Theorem 3.1 does not apply to them; "
                         "pass allow_non_expansive=True to run them anyway")
    if y is not None:
        y = np.asarray(y, dtype=float)
        if y.ndim != 1 or len(y) < 1:
            raise ValueError(f"y must be a 1-D array of shape (n,); got shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError("y must be finite; it holds NaN or inf")
        y_kinds = ("given",)
    if widths is not None:
        networks = list(zip(widths, expansions))
    else:
        networks = [([int(round(k * e**i)) for i in range(d + 1)], e) for d, e in itertools.product(depths, expansions)]
    sweep = []
    for (net_widths, e), m, y_kind in itertools.product(networks, m_values, y_kinds):
        n = len(y) if y is not None else readout if readout is not None else 2 * net_widths[-1]
        if y is not None and readout is not None and readout != len(y):
            raise ValueError(f"readout = {readout} but y has length {len(y)}: give one of them")
        if y is not None and len(y) < net_widths[-1]:
            raise ValueError(f"y has length n = {len(y)}, but widths {net_widths} need n >= n_d = {net_widths[-1]} "
                             "(Theorem 3.1, condition 1)")
        sweep.append([net_widths, n, m, y_kind, e])
    settings = {"sweep": sweep, "trials_per_setting": trials, "directions": directions, "shells": list(shells),
                "rho_grid": list(shells), "box": box, "exact": bool(exact), "C": C, "data_scale": data_scale,
                "max_regions": max_regions, "y": None if y is None else y.tolist()}
    costs = [float(sum(w[1:])) ** (w[0] if settings["exact"] and w[0] <= 3 else 1)  # ~ pieces in the exact box
             for w, *_ in sweep for _ in range(trials)]
    records = run_trials(_trial, len(sweep) * trials, seed, settings, workers, journal, "thm31" if progress else None,
                         costs=costs)
    summaries = _summaries(settings, records)
    trend = _trend(summaries)
    groups: dict[tuple, list[dict]] = {}
    for s in summaries:
        groups.setdefault((len(s["widths"]) - 1, s["m"], s["y"]), []).append(s)
    ordered = [sorted(g, key=lambda s: s["expansion"]) for g in groups.values()]
    trends = [g for g in ordered if len(g) >= 2]  # a trend needs two widths at least
    shrinks = all(g[-1]["median_r_critical"] <= CLEAR_DECREASE * g[0]["median_r_critical"] for g in trends)
    small = all(g[-1]["median_r_critical"] < box for g in ordered)
    holds = bool(shrinks and small)
    censored = sum(r["censored"] for r in records)
    lines = "; ".join(
        f"d={len(g[0]['widths']) - 1}, m={g[0]['m'] or 'n'}, y={g[0]['y']}: "
        + " → ".join(f"{'≥' if median_is_lower_bound(s) else ''}{s['median_r_critical']:.3f}" for s in g)
        + f" (expansion {g[0]['expansion']:g} → {g[-1]['expansion']:g})"
        for g in ordered
    )
    verdict = (
        (("Observed: " if trials >= 10 else f"Consistent with the theorem at this small scale ({trials} trials per "
          "setting, too few to call it observed): ")
         + "the critical-point radius r_critical/(1+‖y‖) is small and shrinks as the widths expand, as "
           "Theorem 3.1 predicts. " if holds and trends else
         ("Observed: the critical-point radius r_critical/(1+‖y‖) is smaller than the search box for every network "
          "(one width per group: no trend with expansion can be read). ") if holds else
         "Not clearly observed at every setting: the critical-point radius does not fall below "
         f"{CLEAR_DECREASE} times its least-expansive value in every group, or stays as large as the search box. ")
        + f"Median r_critical by expansion: {lines}. "
        + ("Fitted slopes of log r against log expansion: "
           + ", ".join(f"{key}: {line['slope']:.2f} ({line['points']} points)" for key, line in trend.items()) + "."
           if trend else f"No slope is fitted: that needs {MIN_POINTS_FOR_SLOPE} or more expansions whose median is "
                         "not censored.")
        + (f" In {censored} trial(s) eq. (2) still failed on the outermost shell ({max(shells)}·(1+‖y‖)): their radius "
           "is only a lower bound." if censored else "")
        + (f" With {trials} trials per setting these medians are noisy." if trials < 10 else "")
        + (f" The theorem does not apply to the non-expansive settings (expansion {non_expansive})."
           if non_expansive else "")
    )
    return CheckResult(
        check="thm31", claim=CLAIM, settings=settings, seed=seed,
        statistics={"per_setting": summaries, "trend_slopes": trend}, holds=holds, verdict=verdict, records=records,
    )


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False) -> CheckResult:
    return run(k=2, depths=(2,), expansions=(2, 4, 8), m_values=(None,), y_kinds=("gaussian",), trials=2,
               directions=100, seed=seed, workers=workers, journal=journal, progress=progress)
