"""The library's BLAS thread rule (landscape._threads) and where it applies."""

import pytest
from threadpoolctl import threadpool_info

import landscape as L
from landscape import _threads, critical, enumeration, piece_search, projected_surfing, surfing
from landscape.inversion import admm, langevin, layerwise_lp, negation_check, pgd_gan, plugin


def _blas_threads() -> list[int]:
    """Threads of every BLAS library loaded that can run more than one (a single-threaded build, such as the
    OpenBLAS a solver may bring, reports threading_layer "disabled")."""
    return [pool["num_threads"] for pool in threadpool_info()
            if pool["user_api"] == "blas" and pool.get("threading_layer") != "disabled"]


def test_loops_run_blas_at_one_thread_and_restore_the_count(monkeypatch):
    before = _blas_threads()
    assert set(_threads.one_blas_thread(_blas_threads)()) == {1}
    assert _blas_threads() == before
    monkeypatch.setenv("LANDSCAPE_BLAS_THREADS", "3")
    assert set(_threads.one_blas_thread(_blas_threads)()) == {3}
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("LANDSCAPE_BLAS_THREADS", bad)
        with pytest.raises(ValueError, match="LANDSCAPE_BLAS_THREADS must be a positive integer"):
            _threads.one_blas_thread(_blas_threads)()
    assert _blas_threads() == before


def test_the_rule_covers_the_batched_numpy_loops():
    loops = [surfing.surf, surfing.regular_descent, projected_surfing.projected_surf, critical.local_minima,
             critical.global_minimizer, piece_search.pieces, enumeration.enumerate_regions, admm, negation_check, layerwise_lp,
             plugin, pgd_gan, langevin]
    for loop in loops:
        assert getattr(loop, "__wrapped__", None) is not None, loop.__qualname__
    assert L.surf is surfing.surf and L.global_minimizer is critical.global_minimizer  # the public names are these
