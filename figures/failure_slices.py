r"""Why Table 1's runs fail, seen exactly: slices of :math:`f_{\theta_t}` through failed trials at the paper's k.

For a few trials of Table 1's protocol (:mod:`proofs_check.table1`, the default settings) in which regular Adam,
surfing or both end away from x*, each failed end point is polished to a certified local minimum of
:math:`f_{\theta_T}` in :math:`\mathbb R^k` (:mod:`proofs_check._failures`), and the plane through x* and the two
ends (the start x_init stands in for an end that reached x*, or for one that coincides with the other) is cut out
of the latent space (:func:`landscape.plane_through`). On that plane, at θ_0, a middle snapshot and θ_T, with
:math:`f_{\theta_t}(x) = \tfrac12\|G(x, \theta_t) - G(x_*, \theta_T)\|^2` (surfing's objective at snapshot t):
the exact linear pieces in the window, every exact local minimum of f restricted to the plane, and which of them
are local minima of f in :math:`\mathbb R^k` too (:func:`landscape.is_local_minimum`): the paper's Figure 1 at
k = 5, 10 and 20. Beside them, the exact 1-D profile of :math:`f_{\theta_T}` from each failed end to x*
(:func:`landscape.segment`): the highest value on the straight way, an upper bound on the barrier.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import landscape as L
from figures._report import Measured
from figures._scale import by_scale
from proofs_check import table1
from proofs_check._failures import classified
from proofs_check._protocol import SUCCESS_RADIUS, validated

CLAIM = (
    "§1, Figure 1 and §4, Table 1 (Song, Fan, Lafferty 2019): the surface of a trained generator is non-convex with "
    "spurious local minima in which descent on θ_T alone ends; surfing, which starts on the smooth surface of θ_0 "
    "and follows the minimiser as θ_t changes, avoids them."
)
METHODS = {"regular": "regular Adam", "surfing": "surfing"}
MARKERS = {"x*": ("*", "tab:red", 15), "regular": ("s", "tab:blue", 8), "surfing": ("^", "tab:orange", 9),
           "start": ("o", "0.35", 7)}
WINDOW_MARGIN = 0.2
"""The slice's window: the points' bounding square, widened on every side by this share of its side."""
GRID = 160
"""Grid points per axis of the drawn surface (the pieces and minima are exact; the shading is sampled)."""
POLYGONS_UP_TO = 5_000
"""Pieces are drawn as their exact polygons up to this many; beyond, thinner than the figure's pixels, as the
boundaries between differing activation patterns on a BOUNDARY_GRID × BOUNDARY_GRID grid (their count stays exact)."""
BOUNDARY_GRID = 400


def _settings(scale: str) -> dict:
    return by_scale(
        scale,
        tiny={"model": "dcgan", "ks": (3,), "T": 10, "every": 40, "trials": 30, "per_k": 1, "max_side": 0.4},
        quick={"model": "dcgan", "ks": (5,), "T": 25, "every": 40, "trials": 20, "per_k": 1, "max_side": None},
        full={"model": "wgan", "ks": (5, 10, 20), "T": 100, "every": 40, "trials": 100, "per_k": 2, "max_side": None})


def chosen_trials(failed: dict[str, np.ndarray], per_k: int) -> list[int]:
    """Up to ``per_k`` failed trials: first one where both methods failed, then one where only surfing failed, then
    one where only regular Adam did, then more of the same in that order."""
    both = np.flatnonzero(failed["regular"] & failed["surfing"])
    surfing_only = np.flatnonzero(failed["surfing"] & ~failed["regular"])
    regular_only = np.flatnonzero(failed["regular"] & ~failed["surfing"])
    order, queues = [], [list(both), list(surfing_only), list(regular_only)]
    while len(order) < per_k and any(queues):
        for queue in queues:
            if queue and len(order) < per_k:
                order.append(int(queue.pop(0)))
    return order


def _plane(net: L.ReLUNet, x_star: np.ndarray, points: dict[str, np.ndarray]) -> tuple[L.Slice, list[str]]:
    """The plane through x* and the first two of ``points`` (in order) that are not collinear with it."""
    names = list(points)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            try:
                return L.plane_through(net, x_star, points[first], points[second]), [first, second]
            except ValueError:
                continue
    raise ValueError("no two of the trial's points span a plane with x*")


def _window(coordinates: np.ndarray, max_side: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The square around the points (the first, x*, at its centre when ``max_side`` cuts it)."""
    side = np.ptp(coordinates, axis=0).max() * (1 + 2 * WINDOW_MARGIN)
    if max_side is not None and side > max_side:
        return coordinates[0] - max_side / 2, coordinates[0] + max_side / 2
    centre = (coordinates.min(0) + coordinates.max(0)) / 2
    return centre - side / 2, centre + side / 2


def _slice_at(flow: L.NetworkFlow, t: int, y: np.ndarray, spanning: list[np.ndarray], x_star, window) -> dict:
    """The exact pieces and minima of f_θt on the plane through x* and the two ``spanning`` points."""
    net = flow[t]
    plane = L.plane_through(net, x_star, *spanning)
    objective = L.Objective(net, y)
    regions = L.enumerate_regions(plane.net, bounds=window)
    on_plane = L.local_minima(plane.objective(objective), regions=regions)
    certified = [L.is_local_minimum(objective, plane.points(m.x)) for m in on_plane]
    return {"t": t, "plane": plane, "regions": regions, "minima": on_plane, "certified": certified}


def _profile(objective: L.Objective, start: np.ndarray, x_star: np.ndarray) -> dict:
    found = L.segment(objective, start, x_star)
    return {"profile": found, "length": found.length, "breakpoints": len(found.breakpoints),
            "f_start": float(found.values[0]), "highest": found.highest, "barrier": found.barrier}


def _trial(flow: L.NetworkFlow, x_star, x_init, runs: dict, index: int, failed: dict, max_side: float | None) -> dict:
    """Classify the trial's failures, polish them, slice at θ_0, θ_T/2, θ_T and profile each failed end to x*."""
    T = flow.T
    final = flow[T]
    y = final.forward(x_star)
    objective = L.Objective(final, y)
    ends, classes = {}, {}
    for method in METHODS:
        if not failed[method][index]:
            continue
        end = runs[method].x[index]
        iterates = runs[method].iterates[:, index] if method == "surfing" else None
        classes[method], polished = classified(objective, end, x_star, SUCCESS_RADIUS, iterates)
        ends[method] = end if polished is None else polished.x
    marked = ends | {"start": x_init}
    plane, spanning = _plane(final, x_star, marked)
    window = _window(plane.coordinates(np.array([x_star, *marked.values()])), max_side)
    slices = [_slice_at(flow, t, y, [marked[name] for name in spanning], x_star, window)
              for t in (0, T // 2, T)]
    profiles = {method: _profile(objective, end, x_star) for method, end in ends.items()}
    return {"index": index, "k": len(x_star), "x_star": x_star, "marked": marked, "spanning": spanning,
            "classes": classes, "window": window, "slices": slices, "profiles": profiles, "y": y}


def _trial_measurements(trial: dict) -> dict:
    entry = {"failed": [METHODS[m] for m in trial["classes"]],
             "plane through": ["x*", *(METHODS.get(n, n) + ("'s end" if n in METHODS else "") for n in trial["spanning"])]}
    for method, found in trial["classes"].items():
        entry[f"{METHODS[method]}: class"] = found["class"].replace("_", " ")
        if "f" in found:
            entry[f"{METHODS[method]}: certified minimum f and distance to x*"] = [found["f"], found["distance"]]
    for piece in trial["slices"]:
        certified = [m.value for m, c in zip(piece["minima"], piece["certified"]) if c]
        entry[f"θ_{piece['t']}"] = {"pieces in the window": len(piece["regions"]),
                                    "local minima on the plane": len(piece["minima"]),
                                    "of them local minima in R^k": len(certified),
                                    "f at those": certified,
                                    "lowest f on the plane": float(piece["minima"][0].value)}
    for method, profile in trial["profiles"].items():
        entry[f"θ_T, segment {METHODS[method]}'s end → x*"] = {
            key: profile[key] for key in ("length", "breakpoints", "f_start", "highest", "barrier")}
    return entry


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    setting = _settings(scale)
    protocol = validated(setting["T"])
    cell_settings = {"T": setting["T"], "every": setting["every"], "layout": "infogan", "hidden": None,
                     "flows_dir": out_dir / "flows", "dataset": "digits"}
    trials, measurements, counts = [], {}, {}
    for k in setting["ks"]:
        flow = table1.trained(cell_settings, setting["model"], k, 0)
        x_star, x_init = rng.uniform(-1, 1, (setting["trials"], k)), rng.uniform(-1, 1, (setting["trials"], k))
        runs = table1.invert(flow, flow[flow.T].forward(x_star), None, x_init, x_star, protocol)
        failed = {m: np.linalg.norm(runs[m].x - x_star, axis=1) >= SUCCESS_RADIUS for m in METHODS}
        counts[k] = {m: int(failed[m].sum()) for m in METHODS}
        for index in chosen_trials(failed, setting["per_k"]):
            trial = _trial(flow, x_star[index], x_init[index], runs, index, failed, setting["max_side"])
            trials.append(trial)
            measurements[f"k = {k}, trial {index}"] = _trial_measurements(trial)
        measurements[f"k = {k}: failures among {setting['trials']} trials"] = {
            METHODS[m]: counts[k][m] for m in METHODS}
    return Measured(
        name="failure_slices",
        title="Failed Table-1 trials, sliced exactly: pieces and certified minima on the plane through x* and the ends",
        claim=CLAIM,
        settings={"model": setting["model"], "k": list(setting["ks"]), "training seed": 0, "T": setting["T"],
                  "every": setting["every"], "trials drawn per k": setting["trials"],
                  "trials sliced per k": setting["per_k"], "protocol": "Table 1's default (proofs_check.table1)",
                  "snapshots sliced": "θ_0, θ_T/2, θ_T; y = G(x*, θ_T) throughout",
                  "window": f"the marked points' bounding square widened by {WINDOW_MARGIN:.0%} of its side each way"
                  + ("" if setting["max_side"] is None else
                     f", at most {setting['max_side']} wide around x* (the ends may lie outside)")},
        measurements=measurements,
        verdict=_verdict(trials, counts),
        notes=["Failed end points are polished (exact descent over pieces) to the certified local minimum of f_θT "
               "whose basin they ended in; the plane passes through those minima, so they appear on it as local "
               "minima of f in R^k.",
               "A minimum of f on the plane is a local minimum in R^k only if it also minimises f over every region of "
               "R^k around it: most minima of a slice are not (f descends off the plane).",
               "The segment profile is exact (f is a convex quadratic between breakpoints); its highest point bounds "
               "the barrier between the end and x* from above: another path may climb less.",
               "A few trials: an illustration of what the failures are, not a rate (Table 1 gives the rates)."],
        data={"trials": trials, "model": setting["model"], "T": setting["T"]},
    )


def _verdict(trials: list[dict], counts: dict) -> str:
    if not trials:
        return ("No trial failed at these settings (failures per k: "
                + "; ".join(f"k = {k}: {c['regular']} regular, {c['surfing']} surfing" for k, c in counts.items())
                + "), so there is nothing to slice.")
    parts = []
    for trial in trials:
        final = trial["slices"][-1]
        start = trial["slices"][0]
        ends = ", ".join(
            f"{METHODS[m]} {c['class'].replace('_', ' ')}"
            + (f" (f = {c['f']:.3g} at {c['distance']:.2f} from x*; the straight way to x* climbs "
               f"{trial['profiles'][m]['barrier']:.3g} above the higher end)" if "f" in c else "")
            for m, c in trial["classes"].items())
        parts.append(f"k = {trial['k']}, trial {trial['index']}: {ends}; certified local minima of f on the plane: "
                     f"{sum(start['certified'])} at θ_0, {sum(final['certified'])} at θ_T")
    return ("; ".join(parts) + ". Each failed end is a certified minimum of f_θT in R^k away from x*, with f > 0 "
            "(spurious) unless classed otherwise above; a few trials, an illustration, not a rate.")


def _piece_boundaries(ax, plane: L.Slice, lo, hi) -> None:
    """Where the activation pattern changes between neighbouring points of a fine grid, drawn as a mask."""
    u, v = np.linspace(lo[0], hi[0], BOUNDARY_GRID), np.linspace(lo[1], hi[1], BOUNDARY_GRID)
    S = np.stack(np.meshgrid(u, v), axis=-1).reshape(-1, 2)
    bits = L.activation_pattern(plane.net, S).unpack().reshape(BOUNDARY_GRID, BOUNDARY_GRID, -1)
    edge = np.zeros((BOUNDARY_GRID, BOUNDARY_GRID), dtype=bool)
    edge[1:] |= np.any(bits[1:] != bits[:-1], axis=-1)
    edge[:, 1:] |= np.any(bits[:, 1:] != bits[:, :-1], axis=-1)
    ax.imshow(np.where(edge, 1.0, np.nan), origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="gray_r",
              vmin=0, vmax=1.5, alpha=0.35, aspect="equal", interpolation="nearest")


def _panel(ax, trial: dict, piece: dict) -> None:
    from matplotlib.collections import PolyCollection

    lo, hi = trial["window"]
    plane = piece["plane"]
    objective = L.Objective(plane.net, trial["y"])
    u, v = np.linspace(lo[0], hi[0], GRID), np.linspace(lo[1], hi[1], GRID)
    S = np.stack(np.meshgrid(u, v), axis=-1).reshape(-1, 2)
    surface = np.log10(np.maximum(objective.value(S), 1e-12)).reshape(GRID, GRID)
    ax.imshow(surface, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), cmap="viridis_r", aspect="equal",
              vmin=np.percentile(surface, 2), vmax=surface.max())
    if len(piece["regions"]) <= POLYGONS_UP_TO:
        ax.add_collection(PolyCollection(piece["regions"].polygons(), facecolors="none", edgecolors="k",
                                         linewidths=0.2, alpha=0.4))
    else:
        _piece_boundaries(ax, plane, lo, hi)
    for m, certified in zip(piece["minima"], piece["certified"]):
        if not certified:
            ax.plot(*m.x, "o", ms=4, mfc="none", mec="white", mew=0.9)
    for name, point in [("x*", trial["x_star"]), *trial["marked"].items()]:
        marker, colour, size = MARKERS[name]
        ax.plot(*plane.coordinates(point), marker, color=colour, ms=size, mec="k", mew=0.6)
    for m, certified in zip(piece["minima"], piece["certified"]):
        if certified:
            ax.plot(*m.x, "o", ms=15, mfc="none", mec="white", mew=1.6)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    ax.set_title(f"k = {trial['k']}, trial {trial['index']}, θ_{piece['t']}: {len(piece['regions'])} pieces,\n"
                 f"{len(piece['minima'])} minima on the plane, {sum(piece['certified'])} of them in R^k", fontsize=8)


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    trials = measured.data["trials"]
    file = out_dir / "failure_slices.png"
    rows = max(1, len(trials))
    fig = Figure(figsize=(15.0, 3.6 * rows + 0.8), layout="constrained")
    if not trials:
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, measured.verdict, ha="center", va="center", wrap=True)
        fig.savefig(file, dpi=90)
        return [file]
    grid = fig.add_gridspec(rows, 4, width_ratios=[1, 1, 1, 1.2])
    for row, trial in enumerate(trials):
        for column, piece in enumerate(trial["slices"]):
            _panel(fig.add_subplot(grid[row, column]), trial, piece)
        ax = fig.add_subplot(grid[row, 3])
        for method, entry in trial["profiles"].items():
            profile = entry["profile"]
            t = np.linspace(0, profile.length, 800)
            points = profile.slice.points(t[:, None])
            values = L.Objective(profile.slice.source, trial["y"]).value(points)
            colour = MARKERS[method][1]
            ax.plot(t / profile.length, values, color=colour, label=f"{METHODS[method]}'s end → x*")
            ax.plot(profile.breakpoints / profile.length, profile.values, ".", color=colour, ms=2)
        ax.set(xlabel="fraction of the way to x*", ylabel="f_θT")
        ax.legend(fontsize=7)
        ax.set_title(f"θ_T: exact profile along the segment ({', '.join(trial['profiles'])})", fontsize=8)
    legend = [Line2D([], [], ls="", marker=MARKERS[name][0], color=MARKERS[name][1], mec="k", ms=8, label=label)
              for name, label in (("x*", "x*"), ("regular", "regular Adam's end (polished)"),
                                  ("surfing", "surfing's end (polished)"), ("start", "x_init"))]
    legend += [Line2D([], [], ls="", marker="o", mfc="none", mec="k", ms=11, mew=1.6,
                      label="minimum on the plane, also in R^k"),
               Line2D([], [], ls="", marker="o", mfc="none", mec="k", ms=5, label="minimum on the plane only")]
    fig.legend(handles=legend, loc="outside lower center", ncol=6, fontsize=8)
    fig.suptitle(f"Failed Table-1 trials ({measured.data['model']}, T = {measured.data['T']}): log10 f_θt on the plane "
                 "through x* and the failed ends, y = G(x*, θ_T); pieces (black: exact polygons up to "
                 f"{POLYGONS_UP_TO:,}, else pattern changes on a {BOUNDARY_GRID}² grid)", fontsize=10)
    fig.savefig(file, dpi=90)
    return [file]
