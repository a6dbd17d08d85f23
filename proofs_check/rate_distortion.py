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


def _describe(s: dict) -> str:
    return (f"{s['model']} m={s['m']}: median error regular {s['error_quartiles_regular'][1]:.3f} → surfing "
            f"{s['error_quartiles_surfing'][1]:.3f} (surfing lower in {s['surfing_lower_error']}, regular lower in "
            f"{s['regular_lower_error']} of {s['trials']}; Wilcoxon p = {s['wilcoxon_p']:.2g})")


run = _measured.check("heldout", "rate_distortion", CLAIM,
                      ("Surfing's errors were significantly lower", "regular Adam's"), _describe)


journal_statistics = _measured.journal_statistics
"""The per-setting summaries of recorded journals (:func:`proofs_check._measured.journal_statistics`)."""


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False,
          flows_dir=None) -> CheckResult:
    """DCGAN only, k = 5, the quick Table 1 flow, m = 3, 10, 20, 64, 20 trials over 4 matrices each."""
    return run(models=("dcgan",), k=5, measurements=(3, 10, 20, 64), training_seeds=(0,), trials=20, matrices=4,
               T=25, every=40, seed=seed, workers=workers, journal=journal, progress=progress, flows_dir=flows_dir)
