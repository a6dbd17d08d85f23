"""The library's thread rule for BLAS: loops of small matrix products run BLAS at one thread.

A product of a batch of 100 points with a 200 × 300 layer takes tens of microseconds on one thread; a second
BLAS thread saves a few of them on an idle machine, and on a busy one (a parallel sweep, a shared node) its
spin-waiting turns every product into milliseconds: ADMM on [5, 50, 200] → 300 ran 143× slower per iteration with
OpenBLAS's default threads while one other process ran (measured, benchmarks/bench_methods.py). So the batched
NumPy loops (ADMM, the negation check, the NumPy descent engine, Algorithm 2, the per-region searches) run under
:func:`one_blas_thread`. Large one-shot products (activation patterns of 10^5 points) keep BLAS's own threads.
``LANDSCAPE_BLAS_THREADS=N`` sets another count for these loops (read at each call).
"""

from __future__ import annotations

import functools
import os

VARIABLE = "LANDSCAPE_BLAS_THREADS"
_controller = None


def _threads() -> int:
    raw = os.environ.get(VARIABLE, "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{VARIABLE} must be a positive integer (BLAS threads in the library's loops); got {raw!r}")
    return int(raw)


def one_blas_thread(function):
    """Run ``function`` with BLAS at one thread (or ``LANDSCAPE_BLAS_THREADS``), restoring the count after."""

    @functools.wraps(function)
    def limited(*args, **kwargs):
        global _controller
        if _controller is None:  # found once: the BLAS libraries numpy and scipy load
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
        with _controller.limit(limits=_threads(), user_api="blas"):
            return function(*args, **kwargs)

    return limited
