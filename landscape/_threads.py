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
import sys

VARIABLE = "LANDSCAPE_BLAS_THREADS"
_controller: list = [None, -1]
"""A threadpoolctl controller (finding the BLAS libraries takes a millisecond) and len(sys.modules) when it was
made: a later import may load another BLAS library, and then the controller is made again."""


def _threads() -> int:
    raw = os.environ.get(VARIABLE, "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{VARIABLE} must be a positive integer (BLAS threads in the library's loops); got {raw!r}")
    return int(raw)


def one_blas_thread(function):
    """Run ``function`` with BLAS at one thread (or ``LANDSCAPE_BLAS_THREADS``), restoring the count after."""

    @functools.wraps(function)
    def limited(*args, **kwargs):
        if _controller[1] != len(sys.modules):
            from threadpoolctl import ThreadpoolController

            _controller[:] = [ThreadpoolController(), len(sys.modules)]
        with _controller[0].limit(limits=_threads(), user_api="blas"):
            return function(*args, **kwargs)

    return limited
