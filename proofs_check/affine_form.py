r"""§2 of the Surfing paper: the Hand–Voroninski network in "linear form" and its gradient.

For :math:`G(x) = \sigma(W_d \cdots \sigma(W_1 x))` and :math:`W_{i,+,x} = \operatorname{diag}(W_i W_{i-1,+,x} \cdots W_{1,+,x} x > 0) W_i`,

.. math::

    G(x) = W_{d,+,x} \cdots W_{1,+,x}\, x, \qquad
    \nabla f_{A,\theta_0}(x) = \Big(\prod_{i=d}^{1} W_{i,+,x}\Big)^\top A^\top A \Big(\prod_{i=d}^{1} W_{i,+,x}\Big) x
      - \Big(\prod_{i=d}^{1} W_{i,+,x}\Big)^\top A^\top A \Big(\prod_{i=d}^{1} W_{i,+,x_0}\Big) x_0

wherever :math:`f_{A,\theta_0}(x) = \tfrac12\|A G(x) - A G(x_0)\|^2` is differentiable. The check
evaluates both right-hand sides from activation patterns and compares them with the network's
forward pass and with a central-difference gradient of f that never looks at a pattern.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import landscape as L

from ._result import CheckResult
from ._runner import run_trials

CLAIM = (
    "§2: for a bias-free ReLU network, G(x) = W_{d,+,x}⋯W_{1,+,x} x, and where f_{A,θ0}(x) = ½‖AG(x) − AG(x0)‖² "
    "is differentiable, ∇f = (ΠW_{i,+,x})ᵀAᵀA(ΠW_{i,+,x})x − (ΠW_{i,+,x})ᵀAᵀA(ΠW_{i,+,x0})x0."
)


def _central_difference_gradient(f: L.Objective, x: np.ndarray, h: float) -> np.ndarray:
    eye = np.eye(len(x))
    return (f.value(x + h * eye) - f.value(x - h * eye)) / (2 * h)


def _trial(index: int, seed: np.random.SeedSequence, settings: dict) -> dict:
    rng = np.random.default_rng(seed)
    net = L.ReLUNet.random(settings["widths"], bias=False, rng=rng)
    m = settings["m"]
    A = None if m is None else L.gaussian_measurements(m, net.output_dim, rng)
    x0, x = rng.normal(size=(2, net.input_dim))
    f = L.Objective(net, net.forward(x0), A)
    Jx, _ = L.local_affine(net, x)
    Jx0, _ = L.local_affine(net, x0)
    AtA = np.eye(net.output_dim) if A is None else A.T @ A
    formula = Jx.T @ AtA @ Jx @ x - Jx.T @ AtA @ Jx0 @ x0
    h = 1e-6 * (1 + np.linalg.norm(x))
    differences = _central_difference_gradient(f, x, h)
    own = L.activation_pattern(net, x)
    stencil = x + h * np.vstack([np.eye(net.input_dim), -np.eye(net.input_dim)])
    g = net.forward(x)
    return {
        "linear_form_rel_error": float(np.linalg.norm(Jx @ x - g) / max(np.linalg.norm(g), 1e-300)),
        "gradient_rel_error": float(np.linalg.norm(formula - differences) / max(np.linalg.norm(differences), 1e-12)),
        "stencil_on_one_piece": all(p == own for p in L.activation_pattern(net, stencil)),
    }


def run(trials: int = 200, widths=(5, 40, 160, 320), m: int | None = 60, seed: int = 0, workers: int | None = None,
        journal: Path | None = None, progress: bool = False) -> CheckResult:
    """Check both identities on ``trials`` random networks, points x, x0 and measurement matrices.

    Parameters
    ----------
    trials : int
        Number of independent (θ_0, A, x, x0) draws.
    widths : sequence of int
        ``[k, n_1, ..., n_d]``.
    m : int or None
        Rows of the Gaussian A; None for A = I.
    seed, workers, journal, progress
        See :func:`proofs_check._runner.run_trials`.
    """
    if trials < 1:
        raise ValueError(f"trials must be >= 1; got {trials}")
    settings = {"trials": trials, "widths": list(widths), "m": m}
    records = run_trials(_trial, trials, seed, settings, workers, journal, "affine_form" if progress else None)
    linear = max(r["linear_form_rel_error"] for r in records)
    usable = [r["gradient_rel_error"] for r in records if r["stencil_on_one_piece"]]
    gradient = max(usable) if usable else float("nan")
    holds = linear < 1e-12 and bool(usable) and gradient < 1e-5
    verdict = (
        f"Both identities hold: G(x) = ΠW_{{i,+,x}} x to relative error {linear:.1e}, and the §2 gradient formula "
        f"matches central differences to {gradient:.1e} on {len(usable)} of {trials} trials (the others had a "
        "piece boundary inside the difference stencil)."
        if holds
        else f"An identity failed: linear-form error {linear:.1e}, gradient error {gradient:.1e} over {len(usable)} usable trials."
    )
    return CheckResult(
        check="affine_form",
        claim=CLAIM,
        settings=settings,
        seed=seed,
        statistics={
            "max_linear_form_rel_error": linear,
            "max_gradient_rel_error": gradient,
            "trials_with_stencil_on_one_piece": len(usable),
        },
        holds=holds,
        verdict=verdict,
        records=records,
    )


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False) -> CheckResult:
    return run(trials=30, widths=(3, 20, 60), m=25, seed=seed, workers=workers, journal=journal, progress=progress)
