"""The runner's Dask backend: trials sent to a ``dask.distributed`` cluster, the journal kept here.

The submitting process keeps every duty that makes a run resumable and reproducible: it draws the trials'
``SeedSequence`` children, writes each finished trial to the journal as its result arrives, and assembles the
records in trial order. The cluster only evaluates ``trial(t, child_t, settings)``, so the result does not depend
on the cluster's size, on the order in which trials finish, or on a worker dying: Dask re-runs the trials a lost
worker held (a trial's result comes back once, from one run, so none is counted twice).

The workers must import the same ``landscape`` / ``proofs_check`` as this process (the trial function is sent by
reference), and experiments on trained flows need ``flows_dir`` on a filesystem the workers share (a worker that
does not find a flow trains it again: the same bits, at the cost of the training).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ._threads import limit_threads

CONNECT_TIMEOUT_S = 20


def is_client(workers) -> bool:
    """Whether ``workers`` is a ``dask.distributed.Client`` (checked without importing Dask)."""
    return type(workers).__name__ == "Client" and type(workers).__module__.startswith("distributed")


def connect(address: str):
    """A ``Client`` of the scheduler at ``address`` (``tcp://HOST:PORT``), or a ``ValueError`` naming it."""
    try:
        from distributed import Client
    except ImportError as error:  # pragma: no cover - a dependency of the package
        raise ValueError(f"a Dask scheduler ({address}) needs the `distributed` package: {error}") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as error:
        raise ValueError(f"scheduler {address}: no Dask scheduler answered within {CONNECT_TIMEOUT_S} s ({error}); "
                         "start one with `dask scheduler` and workers with `dask worker ADDRESS`") from None


_limited = False


def _run_one(trial: Callable, index: int, child, settings: dict) -> dict:
    """On a Dask worker: the runner's thread rule (once per process), then the trial."""
    global _limited
    if not _limited:
        limit_threads()
        _limited = True
    return trial(index, child, settings)


def run_on_cluster(cluster, trial: Callable, todo: list[int], children, settings: dict,
                   finish: Callable[[int, dict], None]) -> None:
    """Run the pending trials on ``cluster`` (a ``Client``, or a scheduler address connected for this call) and pass
    each result to ``finish`` as it arrives. A trial that raises stops the run (the others are cancelled, finished
    ones are already journalled) and its error goes on; so does Ctrl-C."""
    if not todo:
        return
    if isinstance(cluster, str):
        client = connect(cluster)
        try:
            return run_on_cluster(client, trial, todo, children, settings, finish)
        finally:
            client.close()
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    client, run = cluster, uuid.uuid4().hex[:8]
    futures = {client.submit(_run_one, trial, t, children[t], settings, key=f"trial-{t}-{run}", pure=False): t
               for t in todo}
    try:
        for future in as_completed(futures):
            finish(futures[future], future.result())
    except KilledWorker as error:
        raise RuntimeError(f"Dask gave up on a trial after it killed several workers ({error}); the trials that "
                           "finished are kept in the journal. A trial that crashes its worker every time (out of "
                           "memory?) cannot finish on this cluster.") from None
    finally:
        client.cancel([future for future in futures if not future.done()])
