r"""Real training flows: generators trained on the bundled digits, their snapshots as exact ReLU networks,
and what §3's assumptions look like along them.

For each model, a k = 2 generator (MLP layout, BN folded) is trained with :func:`landscape.training.train_flow`
and its snapshots θ_0 … θ_T are examined: M(t) = max_i ‖W_i(θ_t)‖₂, the step ‖θ_t − θ_{t−1}‖, and, for a
target y = G(x∘, θ_T) with x∘ ~ U[−1, 1]², the exact global minimiser x*(θ_t) of
:math:`f_t(x) = \tfrac12\|G(x, \theta_t) - y\|^2` on [−2, 2]² at every snapshot, with the steps at which it
changes basin (Assumption 3.2.2 fails there), and Algorithm 2 (:func:`landscape.projected_surf`) run along the
same flow for two slacks τ against that exact path. Flows are cached under ``out/flows/`` and reused.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

import landscape as L
from figures._report import Measured
from figures._scale import by_scale
from landscape.touching import same_point

CLAIM = (
    "§3, Assumption 3.2: along training the parameters move by small steps (δ) with bounded weights (M), and the "
    "global minimiser x*(θ_t) moves continuously (Lipschitz in t, unique at every t); §4 trains the generators "
    "(VAE, DCGAN, WGAN, WGAN-GP) whose snapshots surfing rides."
)


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    from landscape.training import train_flow

    models, hidden, T, every = by_scale(scale, tiny=(("vae",), (16, 32), 5, 20), quick=(("vae", "wgangp"), (16, 32), 20, 20),
                                        full=(("vae", "gan", "dcgan", "wgan", "wgangp"), (32, 64), 100, 40))
    bounds = (-2.0, 2.0)
    x_generating = rng.uniform(-1.0, 1.0, 2)
    seed = int(rng.integers(2**31))
    taus = (0.01, 0.1)
    runs, paths, algorithm2 = {}, {}, {}
    for model in models:
        runs[model] = train_flow(model, out_dir / "flows" / f"{model}-mlp{'x'.join(map(str, hidden))}-T{T}-every{every}",
                                 k=2, T=T, every=every, layout="mlp", hidden=hidden, seed=seed)
        flow = runs[model].flow
        y = flow[T].forward(x_generating)
        with warnings.catch_warnings():  # a minimiser on the box face is reported in the measurements
            warnings.simplefilter("ignore", UserWarning)
            paths[model] = L.minimizer_path(flow, y, bounds=bounds, progress=scale == "full")
        algorithm2[model] = {tau: L.projected_surf(flow, y, tau, bounds=bounds, progress=scale == "full")
                            for tau in taus}

    samples, curves, measurements = {}, {}, {}
    for model in models:  # samples of the exported G_T, drawn from the model's own prior
        prior = runs[model].record["settings"]["hyperparameters"]["prior"]
        z = rng.standard_normal((36, 2)) if prior == "normal" else rng.uniform(-1, 1, (36, 2))
        samples[model] = np.clip(runs[model].flow[T].forward(z).reshape(6, 6, 8, 8), -1, 1)
    for model in models:
        flow, path = runs[model].flow, paths[model]
        M_t = flow.weight_norms().max(axis=1)
        steps = flow.step_norms()
        moves = np.linalg.norm(np.diff(path.minimizers, axis=0), axis=1)
        curves[model] = {"times": flow.times, "M_t": M_t, "steps": steps, "moves": moves,
                         "gaps": {tau: np.linalg.norm(algorithm2[model][tau].iterates - path.minimizers, axis=1)
                                  for tau in taus}}
        measurements[model] = {
            "M(0)": float(M_t[0]), "M(T)": float(M_t[-1]), "‖θ_1 − θ_0‖": float(steps[0]),
            "‖θ_T − θ_(T−1)‖": float(steps[-1]),
            "basin jumps of x*(θ_t)": int(len(path.jumps)), "of T steps": T,
            "non-unique minimisers (snapshots)": int(np.sum(~path.unique)),
            "snapshots with x* on the box face (a minimiser of the box only)": int(path.on_box_face.sum()),
            "largest ‖x*(θ_t) − x*(θ_(t−1))‖": float(moves.max()),
            "‖x*(θ_T) − x∘‖": float(np.linalg.norm(path.minimizers[-1] - x_generating)),
            **{f"Algorithm 2, τ = {tau}": {
                "snapshots off the exact path (‖x_t − x*(θ_t)‖ > 1e-6)": int(np.sum(curves[model]["gaps"][tau] > 1e-6)),
                "‖x_T − x*(θ_T)‖": float(np.linalg.norm(algorithm2[model][tau].x - path.minimizers[-1])),
                "most pieces at one step": int(algorithm2[model][tau].pieces.max())} for tau in taus},
            "final losses": {key: value for key, value in runs[model].record["intervals"][-1].items()
                             if key not in ("t", "updates")},
        }

    held = [m for m in models if measurements[m]["basin jumps of x*(θ_t)"] == 0
            and measurements[m]["non-unique minimisers (snapshots)"] == 0]
    verdict = (
        f"Along {len(held)} of {len(models)} trained flows ({', '.join(held) or 'none'}) the exact global minimiser "
        "stayed in one basin at every snapshot for this target (Assumption 3.2.2 not contradicted on this grid); "
        + "; ".join(f"{m}: x* changed basin at {measurements[m]['basin jumps of x*(θ_t)']} of {T} steps"
                    for m in models if m not in held)
        + "".join(f"; {m}: x* lay on the face of the box {list(bounds)} at "
                  f"{measurements[m]['snapshots with x* on the box face (a minimiser of the box only)']} snapshot(s), "
                  "where it is the box's minimiser and a jump there may be the box's doing"
                  for m in models if measurements[m]["snapshots with x* on the box face (a minimiser of the box only)"])
        + ". Algorithm 2 (exact projected-gradient surfing) from x*(θ_0) ended on x*(θ_T) for "
        + "; ".join(f"τ = {tau}: " + (", ".join(m for m in models
                                                  if same_point(algorithm2[m][tau].x, paths[m].minimizers[-1]))
                                        or "none")
                    for tau in taus)
        + f". One target per flow at {scale} scale: this is an illustration of what the exact "
        "machinery measures on real flows, not an estimate of how often the assumption holds."
    )
    return Measured(
        name="trained_flows",
        title="Trained flows: samples, M(t), snapshot steps and the exact minimiser path (k = 2)",
        claim=CLAIM,
        settings={"data": "scikit-learn digits, 1,500 training images in [−1, 1]", "generator": f"MLP {list(hidden)}, BN",
                  "k": 2, "T": T, "every": every, "models": list(models), "training seed": seed,
                  "box for x*": list(bounds), "x∘": [float(v) for v in x_generating]},
        measurements=measurements,
        verdict=verdict,
        data={"models": models, "samples": samples, "curves": curves, "paths": paths, "taus": taus, "T": T,
              "hidden": hidden, "every": every},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    models, samples, curves, paths, taus, T = (measured.data[key] for key in ("models", "samples", "curves", "paths",
                                                                                 "taus", "T"))
    columns = max(len(models), 4)
    fig = Figure(figsize=(4.0 * columns, 7.6), layout="constrained")
    grid = fig.add_gridspec(2, columns)
    colours = dict(zip(("vae", "gan", "dcgan", "wgan", "wgangp"), ("tab:green", "tab:gray", "tab:blue", "tab:orange",
                                                                   "tab:red")))
    for column, model in enumerate(models):
        ax = fig.add_subplot(grid[0, column])
        framed = np.zeros((6, 6, 9, 9))
        framed[:, :, :8, :8] = samples[model]
        ax.imshow(framed.transpose(0, 2, 1, 3).reshape(54, 54), cmap="gray", vmin=-1, vmax=1)
        ax.set_axis_off()
        ax.set_title(f"{model}: 36 samples of the exported G_T", fontsize=9)
    ax_m, ax_step, ax_move, ax_alg2 = (fig.add_subplot(grid[1, i]) for i in range(4))
    for model in models:
        curve, path, colour = curves[model], paths[model], colours[model]
        ax_m.plot(curve["times"], curve["M_t"], color=colour, label=model)
        ax_step.semilogy(np.arange(1, T + 1), curve["steps"], color=colour, label=model)
        ax_move.semilogy(np.arange(1, T + 1), np.maximum(curve["moves"], 1e-12), ".-", color=colour, ms=3, label=model)
        if len(path.jumps):
            ax_move.semilogy(path.jumps + 1, np.maximum(curve["moves"][path.jumps], 1e-12), "x", color=colour, ms=8,
                             mew=2)
        for tau, style in zip(taus, ("--", "-")):
            ax_alg2.semilogy(np.arange(T + 1), np.maximum(curve["gaps"][tau], 1e-16), style, color=colour,
                             label=f"{model}, τ = {tau}")
    ax_m.set(xlabel="generator updates", ylabel="M(t) = max_i ‖W_i(θ_t)‖₂", title="weight norm M(t)")
    ax_step.set(xlabel="snapshot t", ylabel="‖θ_t − θ_(t−1)‖", title="step between snapshots")
    ax_move.set(xlabel="snapshot t", ylabel="‖x*(θ_t) − x*(θ_(t−1))‖",
                title="exact x*(θ_t) movement (× = basin jump)")
    ax_alg2.set(xlabel="snapshot t", ylabel="‖x_t − x*(θ_t)‖ (1e-16 = on the path)",
                title="Algorithm 2 against the exact path")
    for ax in (ax_m, ax_step, ax_move, ax_alg2):
        ax.legend(fontsize=8)
    fig.suptitle(f"Generators trained on 8×8 digits, k = 2, MLP {list(measured.data['hidden'])} with BN; T = {T} "
                 f"snapshots every {measured.data['every']} updates; y = G(x∘, θ_T)")
    file = out_dir / "trained_flows.png"
    fig.savefig(file, dpi=100)
    return [file]
