r"""Figure 1 of the paper on a real training flow: the surfaces :math:`x \mapsto -\tfrac12\|G(x, \theta_t) - y\|^2`
of a VAE for two held-out targets y at three levels of training, drawn exactly.

With k = 2 every surface is piecewise quadratic on finitely many polygons: each panel shows the surface on
a grid, the exact linear pieces (:func:`landscape.enumerate_regions`, drawn as polygons), every exact local
minimum on the box (:func:`landscape.local_minima`, circles) and the global one (star). Below: the paper
could not show *why* descent on the trained surface fails; here, from a grid of starting points, the share
that regular Adam on :math:`f_{\theta_T}` and surfing over θ_0 … θ_T bring to the exact global minimiser.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import landscape as L
from figures._report import Measured
from figures._scale import by_scale

CLAIM = (
    "§1, Figure 1 (Song, Fan, Lafferty 2019): the surface x ↦ −½‖G_θt(x) − y‖² of a VAE decoder is smooth and "
    "easy to optimise at random initialisation (left) and becomes wavy and non-convex, with several local optima, "
    "as training proceeds (right); surfing rides its peak from the random network to the trained one."
)
BOX = (-3.0, 3.0)
REACHED = 1e-6
"""An end point counts as reaching x*(θ_T) when its certified polished minimum lies within REACHED·(1 + ‖x*‖)."""


def _panel(ax, net: L.ReLUNet, y: np.ndarray, regions: L.RegionSet, minima: list, grid: int) -> None:
    from matplotlib.collections import PolyCollection

    axis = np.linspace(*BOX, grid)
    X = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    surface = -L.Objective(net, y).value(X).reshape(grid, grid)
    ax.imshow(surface, origin="lower", extent=(*BOX, *BOX), cmap="viridis", aspect="equal")
    ax.contour(axis, axis, surface, levels=12, colors="white", linewidths=0.4, alpha=0.6)
    ax.add_collection(PolyCollection(regions.polygons(), facecolors="none", edgecolors="k",
                                     linewidths=0.25, alpha=0.45))
    local = np.array([m.x for m in minima[1:]]).reshape(-1, 2)
    ax.plot(local[:, 0], local[:, 1], "o", mfc="none", mec="tab:orange", ms=6, mew=1.3)
    ax.plot(*minima[0].x, "*", color="tab:red", ms=13, mec="k", mew=0.6)
    ax.set(xlim=BOX, ylim=BOX)


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    from landscape.training import train_flow

    hidden, T, every, grid, starts = by_scale(scale, tiny=((16, 32), 20, 20, 40, 3), quick=((16, 32), 20, 20, 100, 6),
                                              full=((32, 64), 100, 40, 300, 20))
    levels = (0, T // 5, T)
    run = train_flow("vae", out_dir / "flows" / f"vae-mlp{'x'.join(map(str, hidden))}-k2-T{T}-every{every}-seed0",
                     k=2, T=T, every=every, layout="mlp", hidden=hidden, seed=0)
    flow = run.flow
    held_out = L.datasets.load_digits().flat("test")
    chosen = rng.choice(len(held_out), 2, replace=False)
    axis = np.linspace(BOX[0] + 0.1, BOX[1] - 0.1, starts)
    x_init = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)

    measurements, panels, starts_reached = {}, {}, {}
    for row, index in enumerate(chosen):
        y = held_out[index]
        entry = {}
        for column, t in enumerate(levels):
            regions = L.enumerate_regions(flow[t], BOX, progress=scale == "full")
            minima = L.local_minima(L.Objective(flow[t], y), regions=regions, progress=scale == "full")
            panels[(row, t)] = (y, regions, minima)
            entry[f"θ_{t}"] = {"linear pieces in the box": len(regions), "exact local minima": len(minima),
                               "global minimum f*": minima[0].value,
                               "per-pixel error at x*": float(np.sqrt(2 * minima[0].value / len(y))),
                               "global minimiser x*": [float(v) for v in minima[0].x]}
        x_best = minima[0].x  # the last level is θ_T
        final = L.Objective(flow[T], y)
        regular = L.regular_descent(flow[T], y, x0=x_init, stall_window=100)
        surfed = L.surf(flow, y, x0=x_init, budget=int(np.percentile(regular.total_steps, 75)), stall_window=100)
        reached = {}
        for name, result in (("regular Adam", regular), ("surfing", surfed)):
            ends = np.array([L.polish_to_local_minimum(final, x, bounds=BOX).x for x in result.x])
            reached[name] = np.linalg.norm(ends - x_best, axis=1) <= REACHED * (1 + np.linalg.norm(x_best))
            entry[f"share of starts whose end point polishes to x*(θ_T): {name}"] = float(reached[name].mean())
            entry[f"distinct certified minima reached: {name}"] = int(len(np.unique(np.round(ends, 6), axis=0)))
        entry["starts (grid)"] = len(x_init)
        measurements[f"target {row + 1}"] = entry
        starts_reached[row] = (reached, x_best)

    counts = {key: [entry[f"θ_{t}"]["exact local minima"] for t in levels] for key, entry in measurements.items()}
    grows = all(c[-1] > c[0] for c in counts.values())
    share = "share of starts whose end point polishes to x*(θ_T): "
    surfing_wins = all(e[share + "surfing"] >= e[share + "regular Adam"] for e in measurements.values())
    verdict = (
        "Exact local minima on the box at θ_0, θ_" + str(levels[1]) + ", θ_T: "
        + "; ".join(f"{key}: {' → '.join(map(str, c))}" for key, c in counts.items())
        + (". The surface gains local minima as training proceeds, as the paper's figure shows. " if grows else
           ". The count does not grow with training for every target here, unlike the paper's picture. ")
        + "From the grid of starts, the share whose end point polishes to the exact global minimiser of f_θT: "
        + "; ".join(f"{key}: regular Adam {e[share + 'regular Adam']:.0%}, surfing {e[share + 'surfing']:.0%}"
                    for key, e in measurements.items())
        + (" (surfing at least as often for both targets)." if surfing_wins else
           " (surfing not better for every target).")
        + " Two targets on one small flow: an illustration, not a rate."
    )
    return Measured(
        name="trained_landscapes",
        title="Figure 1 on a trained VAE: exact surfaces, pieces and local minima at three levels of training",
        claim=CLAIM,
        settings={"data": "scikit-learn digits, held-out part", "generator": f"VAE decoder, MLP {list(hidden)} with BN folded",
                  "k": 2, "T": T, "every": every, "levels t": list(levels), "box": list(BOX),
                  "starting grid": f"{starts} × {starts}",
                  "reached": f"the end point, polished to a certified local minimum, lies within {REACHED}·(1 + ‖x*‖) of x*(θ_T)"},
        measurements=measurements,
        verdict=verdict,
        notes=["The paper's Figure 1 is of the InfoGAN decoder on Fashion-MNIST; its trained k = 2 version has "
               "over 100,000 pieces in this box (45–100 s per snapshot to enumerate here), too many to draw, so a "
               "smaller MLP decoder is used.",
               "Adam with step 0.01 stops up to ~1e-3 from a minimiser; each end point is therefore polished "
               "(landscape.polish_to_local_minimum, exact QPs) to the local minimum whose basin it ended in.",
               "Held-out targets are not in G's range: f* > 0, and the per-pixel error at x* is the best any "
               "inverter can reach with this generator."],
        data={"flow": flow, "levels": levels, "panels": panels, "starts_reached": starts_reached, "x_init": x_init,
              "chosen": chosen, "held_out": held_out, "grid": grid, "hidden": hidden, "T": T, "every": every},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    data = measured.data
    flow, levels, x_init, chosen, held_out = (data[key] for key in ("flow", "levels", "x_init", "chosen", "held_out"))
    fig = Figure(figsize=(12.5, 13.0), layout="constrained")
    grid_spec = fig.add_gridspec(3, 3, height_ratios=[1, 1, 0.8])
    for row in range(len(chosen)):
        for column, t in enumerate(levels):
            y, regions, minima = data["panels"][(row, t)]
            ax = fig.add_subplot(grid_spec[row, column])
            _panel(ax, flow[t], y, regions, minima, data["grid"])
            ax.set_title(f"target {row + 1}, θ_{t}: {len(regions)} pieces, {len(minima)} local minima", fontsize=9)
        reached, x_best = data["starts_reached"][row]
        ax = fig.add_subplot(grid_spec[2, row])
        both, neither = reached["regular Adam"] & reached["surfing"], ~(reached["regular Adam"] | reached["surfing"])
        for mask, colour, label in ((both, "tab:green", "both"), (reached["regular Adam"] & ~both, "tab:blue", "regular Adam only"),
                                    (reached["surfing"] & ~both, "tab:red", "surfing only"), (neither, "tab:gray", "neither")):
            ax.plot(x_init[mask, 0], x_init[mask, 1], "s", color=colour, ms=5, label=f"{label} ({mask.sum()})")
        ax.plot(*x_best, "*", color="k", ms=14, label="exact x*(θ_T)")
        ax.set(xlim=BOX, ylim=BOX, xlabel="x₁ (start)", ylabel="x₂ (start)", aspect="equal")
        ax.set_title(f"target {row + 1}: starts from which each method\nends in the basin of x*(θ_T)", fontsize=9)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)
    images = fig.add_subplot(grid_spec[2, 2])
    framed = np.full((8, 17), np.nan)
    framed[:, :8], framed[:, 9:] = held_out[chosen[0]].reshape(8, 8), held_out[chosen[1]].reshape(8, 8)
    images.imshow(framed, cmap="gray", vmin=-1, vmax=1)
    images.set_axis_off()
    images.set_title(f"targets 1 and 2: held-out images {chosen[0]} and {chosen[1]}", fontsize=9)
    fig.suptitle(f"Figure 1 on a VAE trained here (8×8 digits, k = 2, MLP {list(data['hidden'])}, BN; T = {data['T']} "
                 f"every {data['every']})\n−½‖G_θt(x) − y‖² on a grid; exact pieces (black), local minima (○), global "
                 "minimum (★)", fontsize=10)
    file = out_dir / "trained_landscapes.png"
    fig.savefig(file, dpi=100)
    return [file]
