"""Theorem 3.1 measured: the critical-point radius against expansion, and P(all critical points within ρ(1+‖y‖))."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from figures._report import Measured
from figures._scale import by_scale
from proofs_check import thm31


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    seed = int(rng.integers(2**31))
    result = by_scale(scale,
                      tiny=lambda: thm31.run(k=2, depths=(1,), expansions=(2, 4), m_values=(None,), y_kinds=("gaussian",),
                                             trials=2, directions=50, seed=seed, workers=1),
                      quick=lambda: thm31.quick(seed=seed), full=lambda: thm31.run(seed=seed))()
    summaries = result.statistics["per_setting"]
    return Measured(
        name="theorem31",
        title="Theorem 3.1: the critical-point ball shrinks with expansion",
        claim=result.claim,
        settings={"sweep": result.settings["sweep"], "trials per setting": result.settings["trials_per_setting"],
                  "directions per shell": result.settings["directions"], "exact search box": result.settings["box"],
                  "seed": seed},
        measurements={
            **{f"{s['widths']} n={s['n']} {'A=I' if s['m'] is None else 'm=' + str(s['m'])} y {s['y']}: "
               "median r_critical, median exact-minimum radius, censored trials, ε allowed by the widths (C=1)":
               [round(s["median_r_critical"], 4), round(s.get("median_r_minima", float("nan")), 4),
                s["censored_trials"],
                None if s["conditions"]["epsilon_from_widths"] is None else round(s["conditions"]["epsilon_from_widths"], 3)]
               for s in summaries},
            "least-squares slope of log r against log expansion (uncensored medians, 4 or more)":
                {key: round(line["slope"], 3) for key, line in result.statistics["trend_slopes"].items()} or None,
        },
        verdict=result.verdict,
        notes=["r_critical is the largest of: the farthest point found where eq. (2) fails (Monte Carlo shells, and "
               "those points pushed onto first-layer kinks), the exact farthest such point inside the box "
               "(k ≤ 2: closed-form over every region), and the farthest exact local minimum in the box (k ≤ 3).",
               "The theorem's constants are not given in the paper; the ε its conditions allow is reported for C = 1, "
               "and drawn (dashed) scaled to the first measured median, so only its shape is comparable."],
        data={"result": result},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    result = measured.data["result"]
    summaries = result.statistics["per_setting"]
    groups: dict[tuple, list[dict]] = {}
    for s in summaries:
        groups.setdefault((len(s["widths"]) - 1, s["m"], s["y"]), []).append(s)

    fig = Figure(figsize=(12, 5.4), layout="constrained")
    ax_r, ax_p = fig.subplots(1, 2)
    for (d, m, y), group in groups.items():
        group = sorted(group, key=lambda s: s["expansion"])
        label = f"d={d}, {'A=I' if m is None else f'm={m}'}, y {y}"
        expansion = np.array([s["expansion"] for s in group])
        trials = [[r for r in result.records if r["setting"] == summaries.index(s)] for s in group]
        medians = np.array([s["median_r_critical"] for s in group])
        bounded = np.array([thm31.median_is_lower_bound(s) for s in group])
        line, = ax_r.plot(expansion, medians, "-", label=f"{label}: median")
        colour = line.get_color()
        ax_r.plot(expansion[~bounded], medians[~bounded], "o", color=colour)
        ax_r.plot(expansion[bounded], medians[bounded], "^", color=colour, mfc="none", ms=9)
        for e, rows in zip(expansion, trials):
            exact = [r["r_critical"] for r in rows if not r["censored"]]
            censored = [r["r_critical"] for r in rows if r["censored"]]
            ax_r.plot([e] * len(exact), exact, ".", color=colour, alpha=0.4)
            ax_r.plot([e] * len(censored), censored, "^", color=colour, alpha=0.4, ms=5)
        epsilon = np.array([s["conditions"]["epsilon_from_widths"] or np.nan for s in group])
        if np.isfinite(epsilon).all():
            ax_r.plot(expansion, medians[0] * epsilon / epsilon[0], "--", color=colour, alpha=0.6,
                      label=f"{label}: theorem's ε, shape only")
        fit = result.statistics["trend_slopes"].get(f"d={d}, m={m or 'n'}, y={y}")
        if fit is not None:
            ax_r.plot(expansion, np.exp(fit["intercept"]) * expansion ** fit["slope"], ":", color=colour,
                      label=f"{label}: fit through {fit['points']} medians, slope {fit['slope']:.2f}")
        for s in group:
            rho = [float(key) for key in s["probability_within"]]
            ax_p.step(rho, list(s["probability_within"].values()), where="post",
                      label=f"{label}, expansion {s['expansion']:g}")
    ticks = sorted({s["expansion"] for s in summaries})
    ax_r.set(xscale="log", yscale="log", xlabel="expansion n_i / n_(i−1)", ylabel="r_critical / (1+‖y‖)",
             title="largest critical / eq. (2)-violating radius, per network (dots) and median")
    ax_r.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax_r.xaxis.set_minor_locator(NullLocator())
    ax_r.plot([], [], "^", color="gray", mfc="none", label="lower bound: eq. (2) still fails on the outermost shell")
    ax_p.set(xscale="log", xlabel="ρ", ylabel="P(r_critical ≤ ρ)", ylim=(-0.03, 1.03),
             title=f"share of networks with every critical point within ρ(1+‖y‖)\n"
                   f"({result.settings['trials_per_setting']} networks per setting)")
    ax_r.legend(fontsize=8, loc="lower left")
    ax_p.legend(fontsize=8, loc="upper left")
    slopes = ("the dotted line is a least-squares fit through the uncensored medians" if result.statistics["trend_slopes"]
              else f"no slope is fitted: that needs {thm31.MIN_POINTS_FOR_SLOPE} or more uncensored medians per group")
    fig.supxlabel("Dashed: the smallest ε that the theorem's width condition n_i > C ε^(−2) log(1/ε) n_(i−1) log n_i allows "
                  "with C = 1, scaled to the first median; the paper does not give C, so only its shape can be compared. "
                  f"Open triangles: lower bounds. {slopes.capitalize()}.", fontsize=8, wrap=True)
    path = out_dir / "theorem31.png"
    fig.savefig(path, dpi=110)
    return [path]
