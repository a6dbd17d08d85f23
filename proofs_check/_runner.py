"""Independent trials: one SeedSequence child each, run in parallel, journalled, resumable.

Trial t always draws from child t of ``SeedSequence(seed)``, so results do not depend on the number
of workers or on the order in which trials finish. With a journal, each finished trial is appended
to a JSON-lines file at once (first line: the run's settings); a restarted run reads it back and
runs only the missing trials, and refuses a journal written for other settings.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _read_journal(path: Path, header: dict) -> dict[int, dict]:
    lines = path.read_text().splitlines()
    if not lines:
        return {}
    found = json.loads(lines[0])
    if found != header:
        raise ValueError(
            f"journal {path} belongs to different settings ({found}); expected {header}. "
            "Use another journal path or delete this one."
        )
    done = {}
    for line in lines[1:]:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a kill: that trial runs again
            continue
        done[entry["trial"]] = entry["record"]
    return done


def _bar(label: str, done: int, total: int, resumed: int, seconds: float, width: int = 30) -> str:
    """``[label] |#####-----| 12/40 trials, 3.1 s/trial, about 87 s left`` (rate over this session's trials)."""
    filled = int(width * done / total)
    fresh = done - resumed
    rate = seconds / fresh if fresh else float("nan")
    left = f", about {rate * (total - done):.0f} s left" if fresh and done < total else ""
    return f"[{label}] |{'#' * filled}{'-' * (width - filled)}| {done}/{total} trials, {rate:.1f} s/trial{left}"


def run_trials(trial: Callable[[int, np.random.SeedSequence, dict], dict], n_trials: int, seed: int, settings: dict,
               workers: int | None = None, journal: Path | None = None, progress: str | None = None) -> list[dict]:
    """Run ``trial(t, child_seed_t, settings)`` for trials ``t = 0..n_trials-1``; return the records in order.

    Parameters
    ----------
    trial : callable
        A module-level function (it is sent to worker processes) returning a JSON-serialisable dict.
    n_trials : int
    seed : int
        Root of the ``SeedSequence``; trial t gets child t.
    settings : dict
        JSON-serialisable; passed to every trial and written at the head of the journal.
    workers : int or None
        Processes; None uses every core available, 1 runs in this process.
    journal : Path or None
        JSON-lines file to append finished trials to and resume from.
    progress : str or None
        A label: when given, a progress line is written to stderr.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1; got {n_trials}")
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1; got {workers}")
    header = {"seed": seed, "n_trials": n_trials, "settings": settings}
    children = np.random.SeedSequence(seed).spawn(n_trials)
    done: dict[int, dict] = {}
    if journal is not None:
        journal = Path(journal)
        if journal.exists():
            done = _read_journal(journal, json.loads(json.dumps(header)))
        else:
            journal.parent.mkdir(parents=True, exist_ok=True)
            journal.write_text(json.dumps(header) + "\n")
    todo = [t for t in range(n_trials) if t not in done]

    started, resumed = time.monotonic(), len(done)

    def finish(t: int, record: dict) -> None:
        done[t] = record
        if journal is not None:
            with journal.open("a") as handle:
                handle.write(json.dumps({"trial": t, "record": record}) + "\n")
        if progress:
            print("\r" + _bar(progress, len(done), n_trials, resumed, time.monotonic() - started), end="",
                  file=sys.stderr, flush=True)

    if workers == 1 or len(todo) <= 1:
        for t in todo:
            finish(t, trial(t, children[t], settings))
    else:
        # "spawn": forking a process whose Numba threading layer is already running can abort the child.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context) as pool:
            futures = {pool.submit(trial, t, children[t], settings): t for t in todo}
            for future in as_completed(futures):
                finish(futures[future], future.result())
    if progress:
        print(file=sys.stderr)
    return [done[t] for t in range(n_trials)]
