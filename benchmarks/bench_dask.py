"""Scaling of a proofs_check sweep: the local process pool and a Dask LocalCluster, 1 and 2 workers, same run.

Two sweeps, each run through `run_trials` by its check's own `run()`:

* light: `affine_form` with 200 trials of ~0.1 s (per-trial overhead shows);
* heavy: `hand_voroninski` on [2, 50, 100] and [2, 100, 200] with A = I, 12 networks each (exact k = 2 enumeration,
  seconds per trial).

Each configuration runs every sweep twice after one untimed warm-up (worker imports, Numba's cache) and reports
the median; the cluster is started before the timing starts, as a researcher's cluster is. The JSON of every
configuration is checked byte-identical to the one-worker local run. Speed-up = one-worker local time ÷ this
configuration's time; on this 2-core machine the ideal for 2 workers is 2.

Run: .venv/bin/python benchmarks/bench_dask.py
"""

from __future__ import annotations

import statistics
import time

from _timing import describe

SWEEPS = {
    "light: affine_form, 200 trials": ("affine_form", {"trials": 200}),
    "heavy: hand_voroninski, 24 networks": ("hand_voroninski", {"widths": ((2, 50, 100), (2, 100, 200)),
                                                                 "m_values": (None,), "trials": 12}),
}
REPEATS = 2


def timed(check, options: dict, workers) -> tuple[float, str]:
    seconds, text = [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        text = check.run(seed=0, workers=workers, **options).to_json()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), text


def main() -> None:
    import importlib

    from distributed import Client, LocalCluster

    print("| sweep | where | workers | seconds | speed-up | same JSON |\n|---|---|---:|---:|---:|---|", flush=True)
    for label, (name, options) in SWEEPS.items():
        check = importlib.import_module(f"proofs_check.{name}")
        check.run(seed=1, workers=2, **options)  # warm-up: Numba's cache, imports
        base, reference = timed(check, options, 1)
        rows = [("local processes", 1, base, reference)]
        rows.append(("local processes", 2, *timed(check, options, 2)))
        for n in (1, 2):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                              dashboard_address=":0") as cluster, Client(cluster) as client:
                check.run(seed=1, workers=client, **options)  # warm the workers
                rows.append(("Dask LocalCluster", n, *timed(check, options, client)))
        for where, n, seconds, text in rows:
            print(f"| {label} | {where} | {n} | {seconds:.2f} | {base / seconds:.2f} | {text == reference} |", flush=True)


if __name__ == "__main__":
    describe(__doc__)
    main()
