"""The worker thread rule of the runner's processes, local or on a Dask cluster: one BLAS, Numba and XLA thread
per worker unless ``PROOFS_CHECK_WORKER_THREADS`` says otherwise (the workers already fill the cores)."""

from __future__ import annotations

import os
import sys

ONE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
THREADS_VARIABLE = "PROOFS_CHECK_WORKER_THREADS"


def worker_threads() -> int:
    """Library threads per worker process: ``PROOFS_CHECK_WORKER_THREADS``, 1 when unset."""
    raw = os.environ.get(THREADS_VARIABLE, "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{THREADS_VARIABLE} must be a positive integer (threads per worker); got {raw!r}")
    return int(raw)


def limit_threads() -> int:
    """In a worker process: BLAS, Numba and XLA threads per worker, one unless ``PROOFS_CHECK_WORKER_THREADS``
    says otherwise. The workers already fill the cores, and library threads on top of them oversubscribe: a
    batched descent then runs many times slower. Returns the number set (for XLA, only when JAX is not imported
    yet: its thread pool is fixed at import)."""
    import numba
    from threadpoolctl import threadpool_limits

    threads = worker_threads()
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # libraries loaded later
        os.environ[name] = str(threads)
    # set_num_threads starts Numba's threading layer, so BLAS is limited after it
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    threadpool_limits(limits=threads)  # libraries already loaded
    if threads == 1 and "jax" not in sys.modules:
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {ONE_THREAD_XLA}".strip()
    return threads
