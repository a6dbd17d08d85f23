r"""The landscape of f_0 on a 2-D latent for a random expansive network (Theorem 3.1, eq. (2)).

Left: :math:`-f_0(x) = -\tfrac12\|G_{\theta_0}(x) - y\|^2` on a grid, with the boundaries of the
linear pieces the grid meets. Right: where :math:`-x/\|x\|` is a descent direction, i.e.
:math:`D_{-x/\|x\|} f_0(x) < 0` (computed exactly, kinks included), and where it is not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import landscape as L
from figures._report import Measured
from figures._scale import by_scale

CLAIM = (
    "Theorem 3.1: for θ_0 with Gaussian entries (W_i, b_i ~ N(0, 1/n_i), V ~ N(0, 1/n)), fixed y and "
    "sufficiently expansive widths, with high probability every x outside the ball ‖x‖ ≤ C'ε(1 + ‖y‖) "
    "satisfies D_{−x/‖x‖} f_0(x) < 0 (eq. (2)): all critical points of f_0 lie in a small ball around 0."
)


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    widths, n, grid = by_scale(scale, tiny=([2, 20, 60], 80, 80), quick=([2, 50, 200], 250, 300),
                               full=([2, 200, 1000], 1200, 500))
    net = L.ReLUNet.random(widths, out_dim=n, rng=rng)
    y = rng.normal(size=n)
    f = L.Objective(net, y)
    y_scale = 1.0 + float(np.linalg.norm(y))
    half_width = 0.25 * y_scale

    # An even number of grid lines keeps the origin (where -x/|x| is undefined) off the grid.
    ticks = np.linspace(-half_width, half_width, grid + grid % 2)
    gx, gy = np.meshgrid(ticks, ticks)
    X = np.column_stack([gx.ravel(), gy.ravel()])
    radius = np.linalg.norm(X, axis=1)
    values = f.value(X)
    slopes = f.directional_derivative(X, -X / radius[:, None])
    patterns = L.activation_pattern(net, X)

    side = len(ticks)
    violations = slopes >= 0
    r_violation = float(radius[violations].max()) if violations.any() else 0.0

    # Exact local minima in the window: one certified QP per region. Minima on the window's edge are
    # minima of f restricted to the window, not of f, and are left out.
    regions = L.enumerate_regions(net, bounds=(-half_width, half_width), progress=scale == "full")
    minima = [m for m in L.local_minima(f, regions=regions, progress=scale == "full")
              if np.all(np.abs(m.x) < half_width * (1 - 1e-9))]
    minima_x = np.array([m.x for m in minima]).reshape(-1, 2)
    r_minima = float(np.linalg.norm(minima_x, axis=1).max()) if len(minima) else 0.0


    fraction_ok = float(1.0 - violations.mean())
    verdict = (
        f"Every grid point farther than {r_violation / y_scale:.3f}·(1+‖y‖) from the origin has −x/‖x‖ as an exact "
        f"descent direction ({100 * fraction_ok:.2f}% of the grid satisfies eq. (2)), and all {len(minima)} exact "
        f"local minima of f_0 in the window lie within {r_minima / y_scale:.3f}·(1+‖y‖) of the origin. This is what "
        "Theorem 3.1 predicts: the critical points are confined to a ball around 0 that is small relative to 1+‖y‖."
        if max(r_violation, r_minima) < 0.25 * y_scale
        else "Violations of eq. (2) or local minima reach the edge of the plotted window: the claim is not observed "
        "at these settings."
    )
    return Measured(
        name="landscape_2d",
        title="Landscape of f_0 for a random expansive network (Theorem 3.1)",
        claim=CLAIM,
        settings={"widths": widths, "n": n, "A": "identity", "y": "N(0, I_n)",
                  "window": "[-0.25(1+‖y‖), 0.25(1+‖y‖)]²", "grid points": int(X.shape[0])},
        measurements={
            "‖y‖": float(np.linalg.norm(y)),
            "distinct linear pieces met by the grid": int(len(patterns.unique()[2])),
            "fraction of grid points with D_{-x/‖x‖} f_0 < 0": fraction_ok,
            "largest violating radius / (1+‖y‖)": r_violation / y_scale,
            "global minimiser radius / (1+‖y‖)": float(np.linalg.norm(minima[0].x) / y_scale) if minima else None,
            "linear pieces in the window (exact)": len(regions),
            "exact local minima of f_0 in the window": len(minima),
            "largest local-minimum radius / (1+‖y‖)": r_minima / y_scale,
        },
        verdict=verdict,
        notes=["The descent-direction map is grid evidence: a violation between grid points could be missed. "
               "The local minima are exact (every linear piece in the window, one certified QP each); the exact "
               "region-wise search for the largest violating radius is in the Theorem 3.1 figure."],
        data={"ticks": ticks, "values": values, "side": side, "regions": regions, "minima": minima, "minima_x": minima_x, "violations": violations, "r_violation": r_violation, "y_scale": y_scale, "widths": widths, "n": n},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    ticks = measured.data["ticks"]
    values = measured.data["values"]
    side = measured.data["side"]
    regions = measured.data["regions"]
    minima = measured.data["minima"]
    minima_x = measured.data["minima_x"]
    violations = measured.data["violations"]
    r_violation = measured.data["r_violation"]
    y_scale = measured.data["y_scale"]
    widths = measured.data["widths"]
    n = measured.data["n"]
    fig = Figure(figsize=(11, 5), layout="constrained")
    ax_f, ax_d = fig.subplots(1, 2)
    extent = (ticks[0], ticks[-1], ticks[0], ticks[-1])
    image = ax_f.imshow(-values.reshape(side, side), origin="lower", extent=extent, cmap="viridis")
    # Thin and light, so that thousands of exact piece boundaries leave the surface readable.
    ax_f.add_collection(PolyCollection(regions.polygons(), facecolors="none", edgecolors="white",
                                       linewidths=0.15, alpha=0.35))
    if minima:
        ax_f.plot(minima_x[1:, 0], minima_x[1:, 1], "o", mfc="none", mec="tab:orange", ms=8, mew=1.5,
                  label=f"other exact local minima ({len(minima) - 1})")
        ax_f.plot(*minima[0].x, "*", color="tab:red", mec="k", mew=0.6, ms=13, label="global minimiser of f_0 (exact)")
    ax_f.set(xlim=extent[:2], ylim=extent[2:])
    ax_f.set_title(f"$-f_0(x)$ and its {len(regions)} exact linear pieces")
    ax_f.legend(loc="upper right", fontsize=8)
    fig.colorbar(image, ax=ax_f, shrink=0.8, label=r"$-f_0(x) = -\frac{1}{2}\|G(x) - y\|^2$")
    ax_d.imshow(violations.reshape(side, side), origin="lower", extent=extent, cmap="coolwarm",
                vmin=0, vmax=1, interpolation="nearest")
    ax_d.add_patch(Circle((0, 0), r_violation, fill=False, color="k", linestyle="--",
                          label=f"largest violating radius = {r_violation / y_scale:.3f}(1+‖y‖)"))
    ax_d.plot(minima_x[:, 0], minima_x[:, 1], "o", mfc="none", mec="k", ms=7, mew=1.2, label="exact local minima")
    ax_d.set_title(r"blue: $D_{-x/\|x\|} f_0(x) < 0$;  red: $\geq 0$")
    ax_d.legend(loc="upper right", fontsize=8)
    for ax in (ax_f, ax_d):
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
    fig.suptitle(f"Random expansive network {widths} → n = {n}, y ~ N(0, I_n), A = I")
    path = out_dir / "landscape_2d.png"
    fig.savefig(path, dpi=110)

    return [path]
