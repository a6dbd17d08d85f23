r"""Figure 3 of §4 on real training flows: exact recovery from m Gaussian measurements.

:math:`f(x) = \tfrac12\|A G(x, \theta_T) - A G(x_*, \theta_T)\|^2` with :math:`A \in \mathbb R^{m \times n}`,
i.i.d. :math:`\mathcal N(0, 1/m)` entries; success is :math:`\|\hat x_T - x_*\| < 0.01`. As §4: DCGAN and WGAN,
k = 20, snapshots every 100 training steps, 200 trials per m. The paper gives T only for Table 1 (T = 100);
the same T is used here. The protocol (starting points, budget, stopping rule) is Table 1's, see
:mod:`proofs_check._protocol` and :mod:`proofs_check._measured`; failed runs are classified as in Table 1. The paper shows Figure 3 only as a plot; no numbers of it are in its text.
"""

from __future__ import annotations

from pathlib import Path

from . import _measured
from ._result import CheckResult
from ._stats import interval_text

CLAIM = (
    "§4, Figure 3 (Song, Fan, Lafferty 2019): with m Gaussian measurements of y = G(x*) (DCGAN and WGAN generators, "
    "Fashion-MNIST, k = 20), surfing recovers x* (‖x̂_T − x*‖ < 0.01) in a larger proportion of trials than regular Adam "
    "on the final network, across the numbers of measurements m shown."
)


def _describe(s: dict) -> str:
    return (f"{s['model']} m={s['m']}: regular {100 * s['regular_rate']:.1f} % {interval_text(s['regular_ci95'])} → "
            f"surfing {100 * s['surfing_rate']:.1f} % {interval_text(s['surfing_ci95'])} (McNemar p = {s['mcnemar_p']:.2g})")


run = _measured.check("range", "compressed_sensing", CLAIM,
                      ("Surfing recovered x* significantly more often", "regular Adam"), _describe)


journal_statistics = _measured.journal_statistics
"""The per-setting summaries of recorded journals (:func:`proofs_check._measured.journal_statistics`)."""

staged_cells = _measured.staged_cells
"""The cells of a run stopped after their inversions, read from its stage checkpoints without any network
(:func:`proofs_check._measured.staged_cells`); written as JSON (``python -m proofs_check compressed_sensing --journal
RUN --staged-cells OUT.json.gz``), it is read by :func:`journal_statistics`."""


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False,
          flows_dir=None) -> CheckResult:
    """DCGAN only, k = 5, the quick Table 1 flow (T = 25 every 40, so no extra training when that ran first),
    m = 3, 10, 20, 20 trials over 4 matrices each, at most 2 failed runs per method and m classified (a minute)."""
    return run(models=("dcgan",), k=5, measurements=(3, 10, 20), training_seeds=(0,), trials=20, matrices=4, T=25,
               every=40, polish_limit=2, seed=seed, workers=workers, journal=journal, progress=progress,
               flows_dir=flows_dir)
