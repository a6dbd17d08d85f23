r"""Figure 4 of §4 on real training flows: approximating a held-out image from m Gaussian measurements.

:math:`f(x) = \tfrac12\|A G(x, \theta_T) - A y\|^2` with y a held-out image (not in the generator's range) and
A as in :mod:`proofs_check.compressed_sensing`; the figure of merit is the per-pixel error
:math:`\sqrt{\|G(\hat x_T) - y\|^2 / n}` (Bora et al. 2017). Surfing and regular Adam are compared per trial
(same y, A and x_init) by a Wilcoxon signed-rank test on the paired errors. The paper shows Figure 4 only as a
plot; no numbers of it are in its text.
"""

from __future__ import annotations

from pathlib import Path

from . import _measured
from ._result import CheckResult

CLAIM = (
    "§4, Figure 4 (Song, Fan, Lafferty 2019): for a real held-out image y measured by A (m Gaussian measurements; "
    "DCGAN and WGAN generators, Fashion-MNIST), surfing's per-pixel reconstruction errors √(‖G(x̂_T) − y‖²/n) are "
    "distributed lower than regular Adam's (the figure shows them as a function of m, a rate–distortion curve)."
)


def verdict_of(summaries: list[dict], scale: str) -> tuple[bool, str]:
    better = [s for s in summaries if s["verdict"].startswith("surfing")]
    worse = [s for s in summaries if s["verdict"].startswith("regular")]
    lines = "; ".join(
        f"{s['model']} m={s['m']}: median error regular {s['error_quartiles_regular'][1]:.3f} → surfing "
        f"{s['error_quartiles_surfing'][1]:.3f} (surfing lower in {s['surfing_lower_error']}, regular lower in "
        f"{s['regular_lower_error']} of {s['trials']}; Wilcoxon p = {s['wilcoxon_p']:.2g})" for s in summaries)
    holds = bool(better) and not worse
    return holds, (
        f"Surfing's errors were significantly lower in {len(better)} of {len(summaries)} settings, regular Adam's in "
        f"{len(worse)}, no significant difference in {len(summaries) - len(better) - len(worse)} ({scale}): {lines}. "
        + ("The paper's qualitative claim reproduces at these settings." if holds
           else "The paper's qualitative claim does not reproduce in every setting here."))


def run(models=("dcgan", "wgan"), k: int = 20, measurements=(10, 20, 30, 40, 50, 64), training_seeds=(0, 1, 2),
        trials: int = 200, matrices: int = 10, T: int = 100, every: int = 100, layout: str = "infogan",
        dataset: str = "digits", lr: float = 0.01, tol: float = 1e-6, max_steps: int = 20_000, stall_window: int = 100,
        stall_tol: float = 1e-6, reset_moments: bool = False, flows_dir=None, seed: int = 0,
        workers: int | None = None, journal: Path | None = None, progress: bool = False) -> CheckResult:
    """Figure 4 on flows trained here; the parameters are those of :func:`proofs_check.compressed_sensing.run`.
    Held-out images are drawn (uniformly, per trial) from the dataset's test part."""
    settings, records, summaries = _measured.run(
        "heldout", models, k, measurements, training_seeds, trials, matrices, T, every, layout, dataset, lr, tol,
        max_steps, stall_window, stall_tol, reset_moments, flows_dir, seed, workers, journal, progress)
    holds, verdict = verdict_of(summaries, f"{len(settings['cells']) // len(summaries)} training seed(s) × {trials} "
                                           f"trials per setting, k = {k}; 8×8 digits, not Fashion-MNIST")
    return CheckResult(check="rate_distortion", claim=CLAIM, settings=settings, seed=seed,
                       statistics={"per_setting": summaries}, holds=holds, verdict=verdict, records=records)


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False,
          flows_dir=None) -> CheckResult:
    """DCGAN only, k = 5, the quick Table 1 flow, m = 3, 5, 10, 20, 64, 40 trials over 4 matrices each."""
    return run(models=("dcgan",), k=5, measurements=(3, 5, 10, 20, 64), training_seeds=(0,), trials=40, matrices=4,
               T=25, every=40, seed=seed, workers=workers, journal=journal, progress=progress, flows_dir=flows_dir)
