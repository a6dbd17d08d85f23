"""Independent trials: one SeedSequence child each, run in parallel, journalled, resumable.

Trial t always draws from child t of ``SeedSequence(seed)``, so results do not depend on the number
of workers or on the order in which trials finish. With a journal, each finished trial is appended
to a JSON-lines file at once (first line: the run's settings); a restarted run reads it back and
runs only the missing trials, and refuses a journal written for other settings; a trial that saves stages
(:mod:`proofs_check._stages`) resumes at its first unfinished stage. Worker processes run
one thread each (BLAS, Numba, XLA; ``PROOFS_CHECK_WORKER_THREADS`` changes it) and exit when the main process
dies. With a Dask client or scheduler address as ``workers``, the trials run on that cluster instead
(:mod:`proofs_check._dask`) and the journal is still written here.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np

from landscape import jsonsafe

from . import _dask, _stages
from ._threads import limit_threads, worker_threads


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def journal_entries(lines: list[str], path) -> dict[int, dict]:
    """The finished trials of a journal's lines after its header, by trial index; a line that is cut short or not a
    trial entry is skipped with a warning naming its line number (a resumed run runs that trial again)."""
    done = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            entry = jsonsafe.loads(line)
            trial, record = entry["trial"], entry["record"]
            if not isinstance(trial, int) or not isinstance(record, dict) or not record:
                raise TypeError
        except (json.JSONDecodeError, KeyError, TypeError):
            print(f"warning: journal {path}, line {number} is not a finished trial (cut short by a crash?); "
                  "skipped, that trial runs again", file=sys.stderr)
            continue
        done[trial] = record
    return done


def open_recorded(path: Path):
    """A recorded file opened for reading text, gunzipped where its name ends in .gz (``results/*.gz``)."""
    import gzip

    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def recorded_journal(path) -> tuple[dict | None, dict[int, dict]]:
    """A recorded journal, plain or gzip-compressed (``results/*.jsonl.gz``): its header (None where empty or not a
    JSON object) and its finished trials by index (:func:`journal_entries`). A file that cannot be read as JSON lines
    is refused with its path named."""
    path = Path(path)
    try:
        with open_recorded(path) as handle:
            lines = handle.read().splitlines()
        header = jsonsafe.loads(lines[0]) if lines else None
    except (OSError, EOFError, json.JSONDecodeError) as exc:
        raise ValueError(f"journal {str(path)!r} cannot be read as a trial journal: {exc}") from None
    return (header if isinstance(header, dict) else None), journal_entries(lines, path)


def _read_journal(path: Path, header: dict) -> dict[int, dict]:
    """The finished trials of a journal. An empty file is a new journal (its header is written); a header
    that is not the run's settings, or not JSON at all, is refused; a later line that is cut short or not a
    trial entry is skipped with a warning naming its line number (that trial runs again)."""
    text = path.read_text()
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        path.write_text(jsonsafe.dumps(header) + "\n")
        return {}
    try:
        found = jsonsafe.loads(lines[0])
    except json.JSONDecodeError as exc:
        raise ValueError(f"journal {path}, line 1 (the settings header) is not valid JSON ({exc.msg}); "
                         "delete the journal to start over") from None
    if comparable_header(found) != comparable_header(header):
        raise ValueError(f"journal {path} belongs to different settings ({_differences(found, header)}). "
                         "Use another journal path or delete this one.")
    done = journal_entries(lines, path)
    if text and not text.endswith("\n"):  # a line cut mid-write: the next entry starts on a line of its own
        with path.open("a") as handle:
            handle.write("\n")
    return done


WHERE_SETTINGS = ("flows_dir",)
"""Settings that say where inputs are cached, not what is computed: a journal resumes with them changed (a copied
journal and its flows in another folder)."""


def comparable_header(header):
    """The header without :data:`WHERE_SETTINGS`: what a resumed run must match, and the key its trials' stage
    checkpoints are saved under (with the trial's index)."""
    if not isinstance(header, dict) or not isinstance(header.get("settings"), dict):
        return header
    return header | {"settings": {key: value for key, value in header["settings"].items() if key not in WHERE_SETTINGS}}


def _differences(found, expected, where: str = "") -> str:
    """The entries in which a journal's header differs from the run's, named by their path
    (``settings.arms.lr 0.001``): the journal's value, then the run's."""
    if isinstance(found, dict) and isinstance(expected, dict):
        parts = [_differences(found.get(key), expected.get(key), f"{where}.{key}" if where else str(key))
                 for key in sorted(set(found) | set(expected), key=str) if found.get(key) != expected.get(key)]
        return "; ".join(parts)
    return f"{where or 'header'}: the journal has {found!r}, this run {expected!r}"


def _start_worker(parent: int) -> None:
    """In a process-pool worker: :func:`limit_threads`, ignore Ctrl-C (it reaches the whole process group: the
    parent handles it), and exit as soon as the parent process is gone (killed), instead of living on."""
    limit_threads()
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _bar(label: str, done: int, total: int, seconds: float, cost_done: float, cost_left: float,
         width: int = 30) -> str:
    """``[label] |#####-----| 12/40 trials, about 87 s left``: the time left is this session's seconds per unit of
    cost times the cost still to run, so slow settings queued last do not surprise the estimate."""
    filled = int(width * done / total)
    left = f", about {seconds / cost_done * cost_left:.0f} s left" if cost_done > 0 and done < total else ""
    return f"[{label}] |{'#' * filled}{'-' * (width - filled)}| {done}/{total} trials{left}"


_POOLS: dict[tuple[int, int], ProcessPoolExecutor] = {}
"""Worker pools kept for the next call with as many workers (and threads each): a process that runs several checks
(the main job) starts its workers, imports and Numba cache loads once, not once per check."""


def _pool(workers: int) -> ProcessPoolExecutor:
    key = (workers, worker_threads())
    if key not in _POOLS:
        # "spawn": forking a process whose Numba threading layer is already running can abort the child.
        _POOLS[key] = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                          initializer=_start_worker, initargs=(os.getpid(),))
    return _POOLS[key]


def _discard(pool: ProcessPoolExecutor, terminate: bool = False) -> None:
    """Forget a pool (it is broken or interrupted) and shut it down, its workers ended first with ``terminate``."""
    for key in [key for key, kept in _POOLS.items() if kept is pool]:
        del _POOLS[key]
    if terminate:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


@atexit.register
def _close_pools() -> None:
    for pool in list(_POOLS.values()):
        _discard(pool)


def _in_processes(trial, todo, children, settings, workers, finish, n_trials, done, journal) -> None:
    """The pending trials on a pool of spawned worker processes (kept for the next call); on Ctrl-C the pending ones
    are cancelled and the running ones abandoned (their workers ended) before KeyboardInterrupt goes on."""
    pool = _pool(workers)
    futures = {}
    try:
        futures = {pool.submit(trial, t, children[t], settings): t for t in todo}
        for future in as_completed(futures):
            finish(futures[future], future.result())
    except BrokenProcessPool:
        _discard(pool)
        raise RuntimeError(
            f"a worker process died ({len(done)} of {n_trials} trials finished"
            + (f" and kept in {journal}; the same call resumes" if journal is not None else "") + "). "
            "Called from a script? Put the call under `if __name__ == \"__main__\":` (worker processes "
            "re-run the script that starts them), or pass workers=1. Otherwise a worker was killed, "
            "e.g. out of memory.") from None
    except KeyboardInterrupt:
        _discard(pool, terminate=True)
        raise
    except BaseException:  # a trial raised: stop the others, keep what finished (journal), pass the error on
        for future in futures:
            future.cancel()
        wait(futures)
        raise


def run_trials(trial: Callable[[int, np.random.SeedSequence, dict], dict], n_trials: int, seed: int, settings: dict,
               workers: int | None = None, journal: Path | None = None, progress: str | None = None,
               costs=None) -> list[dict]:
    """Run ``trial(t, child_seed_t, settings)`` for trials ``t = 0..n_trials-1``; return the records in order.

    Parameters
    ----------
    trial : callable
        A module-level function (it is sent to worker processes) returning a JSON-serialisable dict. One that takes
        a ``stages`` keyword gets a :class:`proofs_check._stages.Stages` for checkpoints within the trial, saved
        beside the journal (none without a journal or on a Dask cluster).
    n_trials : int
    seed : int
        Root of the ``SeedSequence``; trial t gets child t.
    settings : dict
        JSON-serialisable; passed to every trial and written at the head of the journal.
    workers : int, None, ``dask.distributed.Client`` or str
        Processes on this machine (None: every core available; 1: in this process), or a Dask cluster to send
        the trials to: a ``Client``, or its scheduler's address (``"tcp://HOST:PORT"``; connected for this call
        and closed after). The results are the same on any of them (see :mod:`proofs_check._dask`).
    journal : Path or None
        JSON-lines file to append finished trials to and resume from.
    progress : str or None
        A label: when given, a progress line is written to stderr.
    costs : sequence of float, optional
        Each trial's relative cost (say, proportional to its network's size), for the progress line's
        estimate of the time left; equal by default.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # A worker starting up re-runs the calling script (multiprocessing's "spawn"); a script without a
        # __main__ guard lands here. Leave quietly: the parent explains (BrokenProcessPool below).
        os._exit(1)
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1; got {n_trials}")
    on_cluster = isinstance(workers, str) or _dask.is_client(workers)
    if isinstance(workers, str) and "://" not in workers:
        raise ValueError(f"workers: a scheduler address looks like 'tcp://HOST:PORT'; got {workers!r}")
    if not on_cluster:
        workers = default_workers() if workers is None else workers
        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
            raise ValueError(f"workers must be a positive integer, a dask.distributed.Client or a scheduler address "
                             f"'tcp://HOST:PORT'; got {workers!r}")
    worker_threads()  # a bad PROOFS_CHECK_WORKER_THREADS is refused here, not in every worker
    header = {"seed": seed, "n_trials": n_trials, "settings": settings}
    as_written = jsonsafe.loads(jsonsafe.dumps(header))  # tuples as lists: what a journal's header reads back as
    children = np.random.SeedSequence(seed).spawn(n_trials)
    done: dict[int, dict] = {}
    if journal is not None:
        journal = Path(journal)
        if journal.exists():
            done = _read_journal(journal, as_written)
        else:
            journal.parent.mkdir(parents=True, exist_ok=True)
            journal.write_text(jsonsafe.dumps(header) + "\n")
    todo = [t for t in range(n_trials) if t not in done]
    checkpoints = None
    if "stages" in inspect.signature(trial).parameters:
        if journal is not None and not on_cluster:
            checkpoints = _stages.directory_of(journal)
            for t in done:  # finished, but stopped before its checkpoint was removed
                _stages.path_of(checkpoints, t).unlink(missing_ok=True)
        trial = functools.partial(_stages.run_staged, trial, None if checkpoints is None else str(checkpoints),
                                  comparable_header(as_written))
    costs = np.ones(n_trials) if costs is None else np.asarray(costs, dtype=float)
    if costs.shape != (n_trials,) or not np.all(costs > 0):
        raise ValueError(f"costs must hold one positive number per trial ({n_trials})")
    fresh_cost = [0.0]

    started, resumed = time.monotonic(), len(done)
    if progress and resumed:
        print(f"[{progress}] resuming: {resumed} of {n_trials} trials already done (journal {journal})",
              file=sys.stderr, flush=True)

    def finish(t: int, record: dict) -> None:
        done[t] = record
        fresh_cost[0] += costs[t]
        if journal is not None:
            with journal.open("a") as handle:
                handle.write(jsonsafe.dumps({"trial": t, "record": record}) + "\n")
            if checkpoints is not None:
                _stages.path_of(checkpoints, t).unlink(missing_ok=True)
        if progress:
            left = float(sum(costs[u] for u in range(n_trials) if u not in done))
            print("\r" + _bar(progress, len(done), n_trials, time.monotonic() - started, fresh_cost[0], left), end="",
                  file=sys.stderr, flush=True)

    try:
        if on_cluster:
            _dask.run_on_cluster(workers, trial, todo, children, settings, finish)
        elif workers == 1 or len(todo) <= 1:
            for t in todo:
                finish(t, trial(t, children[t], settings))
        else:
            _in_processes(trial, todo, children, settings, min(workers, len(todo)), finish, n_trials, done, journal)
    except KeyboardInterrupt:
        print(f"\nstopped at {len(done)} of {n_trials} trials"
              + (f"; the journal {journal} keeps them: run the same command to resume" if journal is not None else ""),
              file=sys.stderr, flush=True)
        raise
    if checkpoints is not None and checkpoints.is_dir() and not any(checkpoints.iterdir()):
        checkpoints.rmdir()
    if progress:
        print(file=sys.stderr)
    return [done[t] for t in range(n_trials)]
