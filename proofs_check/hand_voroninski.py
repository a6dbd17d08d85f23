r"""Hand & Voroninski (2019): where the critical points of :math:`f(x) = \tfrac12\|AG(x) - AG(x_0)\|^2` lie.

For a bias-free, readout-free expansive network :math:`G(x) = \sigma(W_d \cdots \sigma(W_1 x))` with
:math:`W_i \sim \mathcal N(0, 1/n_i)` and :math:`y = G(x_0)`, critical points appear only near
:math:`x_0` and near :math:`-\rho_d x_0`, where

.. math::

    \rho_d = \sum_{i=0}^{d-1} \frac{\sin \check\theta_i}{\pi} \prod_{j=i+1}^{d-1} \frac{\pi - \check\theta_j}{\pi},
    \qquad \check\theta_0 = \pi,\quad
    \check\theta_i = \arccos\Big(\frac{(\pi - \check\theta_{i-1})\cos\check\theta_{i-1} + \sin\check\theta_{i-1}}{\pi}\Big).

The check finds every local minimum of f exactly (k = 2: every linear piece of G, one certified QP
each; inside a piece f is a convex quadratic, so its interior critical points are exactly these
minima) and measures, relative to :math:`\|x_0\|`, how far each lies from the nearer of
:math:`x_0` and :math:`-\rho_d x_0`, as the widths grow, with A = I and with Gaussian A.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import landscape as L

from ._result import CheckResult
from ._runner import run_trials

CLEAR_DECREASE = 0.8
"""A trend counts as shrinking when the widest setting's median is at most this fraction of the narrowest's."""

CLAIM = (
    "Hand & Voroninski (2019), as summarised in §2 of the Surfing paper: for a random expansive bias-free ReLU "
    "network and y = G(x0), f(x) = ½‖AG(x) − AG(x0)‖² has critical points only near x0 and near −ρ_d·x0."
)


def rho(d: int) -> float:
    r""":math:`\rho_d` of Hand & Voroninski (:math:`\rho_1 = 0`, :math:`\rho_2 = 1/\pi`, increasing towards 1)."""
    if d < 1:
        raise ValueError(f"d must be >= 1; got {d}")
    theta = [np.pi]
    for _ in range(1, d):
        t = theta[-1]
        theta.append(float(np.arccos(((np.pi - t) * np.cos(t) + np.sin(t)) / np.pi)))
    return float(sum(np.sin(theta[i]) / np.pi * np.prod([(np.pi - theta[j]) / np.pi for j in range(i + 1, d)])
                     for i in range(d)))


def _trial(index: int, seed: np.random.SeedSequence, settings: dict) -> dict:
    widths, m = settings["sweep"][index // settings["trials_per_setting"]]
    rng = np.random.default_rng(seed)
    net = L.ReLUNet.random(widths, bias=False, rng=rng)
    x0 = rng.normal(size=widths[0])
    x0 /= np.linalg.norm(x0)
    A = None if m is None else L.gaussian_measurements(m, net.output_dim, rng)
    f = L.Objective(net, net.forward(x0), A)
    regions = L.enumerate_regions(net, max_regions=settings["max_regions"])
    target = -rho(len(widths) - 1) * x0
    minima = [
        {"x": m_.x.tolist(), "value": m_.value, "to_x0": float(np.linalg.norm(m_.x - x0)),
         "to_negative": float(np.linalg.norm(m_.x - target)), "along_minus_x0": float(-m_.x @ x0)}
        for m_ in L.local_minima(f, regions=regions)
    ]
    return {
        "setting": index // settings["trials_per_setting"],
        "regions": len(regions),
        "minima": minima,
        "worst": max(min(m_["to_x0"], m_["to_negative"]) for m_ in minima),
        "x0_found": any(m_["to_x0"] < 1e-6 for m_ in minima),
    }


def _summaries(settings: dict, records: list[dict]) -> list[dict]:
    near = settings["near"]
    out = []
    for s, (widths, m) in enumerate(settings["sweep"]):
        rows = [r for r in records if r["setting"] == s]
        worst = np.array([r["worst"] for r in rows])
        negative = [m_ for r in rows for m_ in r["minima"] if m_["to_negative"] < m_["to_x0"]]
        out.append({
            "widths": widths, "m": m, "rho_d": rho(len(widths) - 1), "trials": len(rows),
            "median_worst_distance": float(np.median(worst)), "max_worst_distance": float(worst.max()),
            "fraction_all_minima_near": float(np.mean(worst <= near)),
            "fraction_with_minimum_near_negative": float(np.mean([
                any(m_["to_negative"] <= near for m_ in r["minima"]) for r in rows])),
            "mean_minima_per_trial": float(np.mean([len(r["minima"]) for r in rows])),
            "mean_scale_of_negative_minima": float(np.mean([m_["along_minus_x0"] for m_ in negative])) if negative else None,
            "x0_always_a_minimum": all(r["x0_found"] for r in rows),
            "mean_regions": float(np.mean([r["regions"] for r in rows])),
        })
    return out


def run(widths=((2, 20, 40), (2, 50, 100), (2, 100, 200), (2, 200, 400), (2, 30, 60, 120), (2, 60, 120, 240)),
        m_values=(None, 40), trials: int = 20, near: float = 0.15, seed: int = 0, workers: int | None = None,
        journal: Path | None = None, progress: bool = False, max_regions: int = 200_000,
        allow_non_expansive: bool = False) -> CheckResult:
    """Sweep widths (k = 2) and measurement counts; ``trials`` networks per setting.

    Parameters
    ----------
    widths : sequence of sequences
        ``[2, n_1, ..., n_d]`` per setting; bias-free, no readout.
    m_values : sequence of (int or None)
        Rows of Gaussian A; None for A = I.
    trials : int
        Networks per (widths, m) setting.
    near : float
        A local minimum counts as near x0 or −ρ_d x0 within this distance (‖x0‖ = 1).
    allow_non_expansive : bool
        Run settings whose widths do not grow (the theorem does not apply to them; the result says so).
    seed, workers, journal, progress
        See :func:`proofs_check._runner.run_trials`.
    """
    if trials < 1:
        raise ValueError(f"trials must be >= 1; got {trials}")
    not_expansive = []
    for w in widths:
        if len(w) < 2 or w[0] != 2:
            raise ValueError(f"widths must be [2, n_1, ..., n_d] (the exact search needs k = 2); got {list(w)}")
        if any(b <= a for a, b in zip(w[:-1], w[1:])):
            not_expansive.append(list(w))
    if not_expansive and not allow_non_expansive:
        raise ValueError(f"widths {not_expansive} are not expansive (n_i > n_(i-1)): Hand–Voroninski's theorem does "
                         "not apply to them; pass allow_non_expansive=True to run them anyway")
    for m in m_values:
        if m is not None and (not isinstance(m, (int, np.integer)) or m < 1):
            raise ValueError(f"m_values must hold integers >= 1 or None; got {m!r}")
    sweep = [[list(w), m] for w, m in itertools.product(widths, m_values)]
    settings = {"sweep": sweep, "trials_per_setting": trials, "near": near, "max_regions": max_regions}
    records = run_trials(_trial, len(sweep) * trials, seed, settings, workers, journal,
                         "hand_voroninski" if progress else None)
    summaries = _summaries(settings, records)
    groups: dict[tuple, list[dict]] = {}
    for summary in summaries:  # same m and depth, ordered by width
        groups.setdefault((summary["m"], len(summary["widths"])), []).append(summary)
    ordered = [sorted(g, key=lambda s: s["widths"][-1]) for g in groups.values()]
    shrinks = all(g[-1]["median_worst_distance"] <= CLEAR_DECREASE * g[0]["median_worst_distance"] for g in ordered)
    holds = bool(shrinks and all(s["x0_always_a_minimum"] for s in summaries))
    failing = [f"m={g[0]['m'] or 'n (A=I)'}, depth {len(g[0]['widths']) - 1}" for g in ordered
               if g[-1]["median_worst_distance"] > CLEAR_DECREASE * g[0]["median_worst_distance"]]
    trends = "; ".join(
        f"m={g[0]['m'] or 'n (A=I)'}, depth {len(g[0]['widths']) - 1}: "
        + " → ".join(f"{s['median_worst_distance']:.3f}" for s in g)
        + f" (widths {g[0]['widths']} → {g[-1]['widths']}; all minima within {near} of x0 or −ρ_d·x0 in "
        f"{100 * g[-1]['fraction_all_minima_near']:.0f}% of trials at the widest)"
        for g in ordered
    )
    not_minimum = [f"widths {s['widths']}, m={s['m'] or 'n (A=I)'}" for s in summaries if not s["x0_always_a_minimum"]]
    reasons = []
    if not_minimum:
        reasons.append(f"x0 was not a local minimum in some trial at {'; '.join(not_minimum)}")
    if failing:
        reasons.append(f"the distance from the farthest local minimum to the nearer of x0 and −ρ_d·x0 did not fall "
                       f"below {CLEAR_DECREASE} times its narrowest-width value for {'; '.join(failing)} (with m fixed, "
                       "the theorem's requirement on m grows with log(n_1⋯n_d))")
    verdict = (
        (("Observed: " if trials >= 10 else f"Consistent with the theorem at this small scale ({trials} trials per "
          "setting, too few to call it observed): ")
         + "x0 is always a local minimum, and the distance from the farthest local minimum to the nearer of "
         "x0 and −ρ_d·x0 shrinks as the widths grow, as the theorem predicts. " if holds else
         f"Not observed at every setting: {'; and '.join(reasons)}. ")
        + f"Median distance (‖x0‖ = 1) by width: {trends}."
        + (f" The theorem does not apply to the non-expansive widths {not_expansive}." if not_expansive else "")
        + (f" With {trials} trials per setting these medians are noisy; the full run uses more."
           if trials < 10 else "")
    )
    return CheckResult(
        check="hand_voroninski", claim=CLAIM,
        settings={"sweep": sweep, "trials_per_setting": trials, "near": near, "k": 2, "not_expansive": not_expansive},
        seed=seed, statistics={"per_setting": summaries}, holds=holds, verdict=verdict, records=records,
    )


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False) -> CheckResult:
    return run(widths=((2, 20, 40), (2, 50, 100), (2, 100, 200)), m_values=(None, 40), trials=4, seed=seed,
               workers=workers, journal=journal, progress=progress)
