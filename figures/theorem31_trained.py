r"""Theorem 3.1 at the initialisations training really used: is :math:`f_{\theta_0}` "nice" for the θ_0 of the
trained flows, and how much of that is left at θ_T?

Eq. (2), :math:`D_{-x/\|x\|} f_\theta(x) < 0`, is tested (:func:`proofs_check.thm31.violation_search`) on shells
of radius ρ(1 + ‖y‖) in random directions, plus each point pushed onto its nearest first-layer kink, for
held-out images y, at θ_0 and at θ_T of each flow. For the k = 2 VAE of Figure 1 every exact local minimum
in the box is found as well. The theorem's hypotheses do not hold here, and the report says which: the
weights are PyTorch's default U(−1/√fan_in, 1/√fan_in) draws (not N(0, 1/n_i)), batch normalisation is
folded in, and the readout 256 → 64 contracts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import landscape as L
from figures._report import Measured
from figures._scale import by_scale
from proofs_check import table1, thm31

CLAIM = (
    "Theorem 3.1 and §1: at random initialisation θ_0 every critical point of f_0 lies in a small ball around 0 "
    "(eq. (2) holds outside it), so f_0 is easy to optimise; the trained f_T is not. Stated for Gaussian "
    "expansive networks; measured here at the initialisations the trained flows actually started from."
)


def _measure(net: L.ReLUNet, targets: np.ndarray, rng: np.random.Generator, directions: int) -> dict:
    shells = np.asarray(thm31.RHO_GRID)
    unit = rng.normal(size=(directions, net.input_dim))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    fraction, radius, censored = [], [], 0
    for y in targets:
        scale = 1 + np.linalg.norm(y)
        found = thm31.violation_search(L.Objective(net, y), shells * scale, unit)
        fraction.append(found["violations"] / found["points_tried"])
        radius.append(found["largest_violating_radius"] / scale)
        censored += found["largest_violating_radius"] >= shells[-1] * scale * (1 - 1e-12)
    return {"fraction of points violating eq. (2)": float(np.mean(fraction)),
            "median r_violation / (1+‖y‖)": float(np.median(radius)), "targets with violations on the outermost shell": int(censored),
            "_fractions": fraction}


def _exact_minima(net: L.ReLUNet, targets: np.ndarray, box: float) -> dict:
    radii, counts = [], []
    for y in targets:
        scale = 1 + np.linalg.norm(y)
        half = box * scale
        minima = [m for m in L.local_minima(L.Objective(net, y), bounds=(-half, half))
                  if np.all(np.abs(m.x) < half * (1 - 1e-9))]
        counts.append(len(minima))
        radii.append(max((np.linalg.norm(m.x) / scale for m in minima), default=0.0))
    return {"median exact local minima in the box": float(np.median(counts)),
            "median largest local-minimum radius / (1+‖y‖)": float(np.median(radii))}


def measure(out_dir: Path, scale: str, rng: np.random.Generator) -> Measured:
    from landscape.training import train_flow

    held_out = L.datasets.load_digits().flat("test")
    n_targets, directions, cells = by_scale(
        scale, tiny=(2, 30, [("dcgan", 3, 5)]), quick=(4, 50, [("dcgan", 5, 25), ("wgangp", 5, 25)]),
        full=(40, 400, [(model, k, 100) for model in table1.MODELS for k in (5, 10, 20)]))
    targets = held_out[rng.choice(len(held_out), n_targets, replace=False)]
    flows = {}
    for model, k, T in cells:
        flows[f"{model}, k = {k}"] = train_flow(
            model, table1.flow_directory(out_dir / "flows", model, k, T, 40, 0), k=k, T=T, every=40, seed=0).flow
    hidden, T2, every2 = by_scale(scale, tiny=((16, 32), 20, 20), quick=((16, 32), 20, 20), full=((32, 64), 100, 40))
    vae2 = train_flow("vae", out_dir / "flows" / f"vae-mlp{'x'.join(map(str, hidden))}-k2-T{T2}-every{every2}-seed0",
                      k=2, T=T2, every=every2, layout="mlp", hidden=hidden, seed=0).flow
    flows[f"vae (MLP {list(hidden)}), k = 2"] = vae2

    measurements, fractions_at_0 = {}, {}
    names = list(flows)
    for name in names:
        flow = flows[name]
        entry = {}
        for t, label in ((0, "θ_0"), (flow.T, "θ_T")):
            measured = _measure(flow[t], targets, np.random.default_rng(rng.integers(2**31)), directions)
            fractions = measured.pop("_fractions")
            if flow[0].input_dim == 2:
                measured |= _exact_minima(flow[t], targets, 0.5)
            entry[label] = measured
            if t == 0:
                fractions_at_0[name] = np.sort(fractions).tolist()
        measurements[name] = entry

    at_0 = {name: e["θ_0"]["fraction of points violating eq. (2)"] for name, e in measurements.items()}
    at_T = {name: e["θ_T"]["fraction of points violating eq. (2)"] for name, e in measurements.items()}
    nicer = [name for name in names if at_0[name] < at_T[name]]
    radius_0 = {name: e["θ_0"]["median r_violation / (1+‖y‖)"] for name, e in measurements.items()}
    verdict = (
        "Share of tested points where eq. (2) fails, θ_0 → θ_T: "
        + "; ".join(f"{name}: {at_0[name]:.1%} → {at_T[name]:.1%}" for name in names)
        + f". Initialisation has fewer violations than the trained network for {len(nicer)} of {len(names)} flows. "
        + ("But at every real θ_0 eq. (2) fails at some tested points, out to a median radius of "
           + ", ".join(f"{radius_0[name]:.2f}" for name in names) + " × (1+‖y‖): these θ_0 (uniform fan-in weights, "
           "BN folded, a contracting readout) are outside Theorem 3.1's hypotheses, and its small critical ball "
           "is not observed for them." if min(at_0.values()) > 0 else
           "At some initialisation eq. (2) held at every tested point.")
        + f" {len(targets)} held-out targets, {directions} directions × {len(thm31.RHO_GRID)} shells each (Monte Carlo: "
        "violations found are certain, their absence elsewhere is not).")
    return Measured(
        name="theorem31_trained",
        title="Theorem 3.1 at the real initialisations of the trained flows, and at their end",
        claim=CLAIM,
        settings={"flows": names, "targets": f"{len(targets)} held-out digits", "directions": directions,
                  "shells": "ρ(1 + ‖y‖) for the 24 radii of proofs_check.thm31.RHO_GRID (0.005 … 1)",
                  "initialisation": "U(−1/√fan_in, 1/√fan_in) (PyTorch's default), BN folded at its initial statistics"},
        measurements=measurements,
        verdict=verdict,
        data={"fractions_at_0": fractions_at_0},
    )


def draw(measured: Measured, out_dir: Path) -> list[Path]:
    from matplotlib.figure import Figure

    names = list(measured.measurements)
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    ax_bar, ax_cdf = fig.subplots(1, 2)
    for i, name in enumerate(names):
        for offset, label, colour in ((-0.2, "θ_0", "tab:green"), (0.2, "θ_T", "tab:purple")):
            ax_bar.bar(i + offset, measured.measurements[name][label]["fraction of points violating eq. (2)"], 0.38,
                       color=colour, label=label if i == 0 else None)
        fractions = measured.data["fractions_at_0"][name]
        ax_cdf.plot(fractions, np.linspace(0, 1, len(fractions)), drawstyle="steps-post", label=name)
    ax_bar.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax_bar.set(ylabel="share of tested points where eq. (2) fails", title="eq. (2) D_{−x/‖x‖} f(x) < 0 tested on shells")
    ax_bar.legend()
    ax_cdf.set(xlabel="share of points violating eq. (2), per target", ylabel="cumulative share of targets",
               title="at θ_0, per held-out target")
    ax_cdf.legend(fontsize=7)
    file = out_dir / "theorem31_trained.png"
    fig.savefig(file, dpi=110)
    return [file]
