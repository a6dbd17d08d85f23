r"""Figure 3 of §4 on real training flows: exact recovery from m Gaussian measurements.

:math:`f(x) = \tfrac12\|A G(x, \theta_T) - A G(x_*, \theta_T)\|^2` with :math:`A \in \mathbb R^{m \times n}`,
i.i.d. :math:`\mathcal N(0, 1/m)` entries; success is :math:`\|\hat x_T - x_*\| < 0.01`. As §4: DCGAN and WGAN,
k = 20, snapshots every 100 training steps, 200 trials per m. The paper gives T only for Table 1 (T = 100);
the same T is used here. The protocol (starting points, budget, stopping rule) is Table 1's, see
:mod:`proofs_check._measured`. The paper shows Figure 3 only as a plot; no numbers of it are in its text.
"""

from __future__ import annotations

from pathlib import Path

from . import _measured
from ._result import CheckResult

CLAIM = (
    "§4, Figure 3 (Song, Fan, Lafferty 2019): with m Gaussian measurements of y = G(x*) (DCGAN and WGAN generators, "
    "Fashion-MNIST, k = 20), surfing recovers x* (‖x̂_T − x*‖ < 0.01) in a larger proportion of trials than regular Adam "
    "on the final network, across the numbers of measurements m shown."
)


def verdict_of(summaries: list[dict], scale: str) -> tuple[bool, str]:
    better = [s for s in summaries if s["verdict"].startswith("surfing")]
    worse = [s for s in summaries if s["verdict"].startswith("regular")]
    lines = "; ".join(
        f"{s['model']} m={s['m']}: regular {100 * s['regular_rate']:.1f} % [{100 * s['regular_ci95'][0]:.0f}, "
        f"{100 * s['regular_ci95'][1]:.0f}] → surfing {100 * s['surfing_rate']:.1f} % [{100 * s['surfing_ci95'][0]:.0f}, "
        f"{100 * s['surfing_ci95'][1]:.0f}] (McNemar p = {s['mcnemar_p']:.2g})" for s in summaries)
    holds = bool(better) and not worse
    return holds, (
        f"Surfing recovered x* significantly more often in {len(better)} of {len(summaries)} settings, regular Adam in "
        f"{len(worse)}, no significant difference in {len(summaries) - len(better) - len(worse)} ({scale}): {lines}. "
        + ("The paper's qualitative claim reproduces at these settings." if holds
           else "The paper's qualitative claim does not reproduce in every setting here."))


def run(models=("dcgan", "wgan"), k: int = 20, measurements=(10, 20, 30, 40, 50, 64), training_seeds=(0, 1, 2),
        trials: int = 200, matrices: int = 10, T: int = 100, every: int = 100, layout: str = "infogan",
        dataset: str = "digits", lr: float = 0.01, tol: float = 1e-6, max_steps: int = 20_000, stall_window: int = 100,
        stall_tol: float = 1e-6, reset_moments: bool = False, flows_dir=None, seed: int = 0,
        workers: int | None = None, journal: Path | None = None, progress: bool = False) -> CheckResult:
    """Figure 3 on flows trained here: every (model, m, training seed) cell is one trial of the runner.

    Parameters
    ----------
    models, k, T, every, layout, dataset, training_seeds
        The generators (trained with :func:`landscape.training.train_flow`, cached in ``flows_dir``).
    measurements : sequence of int
        The numbers m of rows of A, each in 1..n.
    trials, matrices
        Inversions per cell, and how many independent A they are split over.
    lr, tol, max_steps, stall_window, stall_tol, reset_moments
        Adam and the stopping rule, as :func:`proofs_check.table1.run`.
    flows_dir, seed, workers, journal, progress
        As :func:`proofs_check.table1.run`.
    """
    settings, records, summaries = _measured.run(
        "range", models, k, measurements, training_seeds, trials, matrices, T, every, layout, dataset, lr, tol,
        max_steps, stall_window, stall_tol, reset_moments, flows_dir, seed, workers, journal, progress)
    holds, verdict = verdict_of(summaries, f"{len(settings['cells']) // len(summaries)} training seed(s) × {trials} "
                                           f"trials per setting, k = {k}; 8×8 digits, not Fashion-MNIST")
    return CheckResult(check="compressed_sensing", claim=CLAIM, settings=settings, seed=seed,
                       statistics={"per_setting": summaries}, holds=holds, verdict=verdict, records=records)


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False,
          flows_dir=None) -> CheckResult:
    """DCGAN only, k = 5, the quick Table 1 flow (T = 25 every 40, so no extra training when that ran first),
    m = 3, 5, 10, 20, 40 trials over 4 matrices each (seconds)."""
    return run(models=("dcgan",), k=5, measurements=(3, 5, 10, 20), training_seeds=(0,), trials=40, matrices=4, T=25,
               every=40, seed=seed, workers=workers, journal=journal, progress=progress, flows_dir=flows_dir)
