"""The runner's Dask backend on a LocalCluster of this machine (worker processes, loopback only)."""

import json
import os
import signal
from pathlib import Path

import pytest

from proofs_check import _dask, affine_form
from proofs_check.__main__ import main
from proofs_check._runner import run_trials

distributed = pytest.importorskip("distributed")


def _cluster(workers: int):
    return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                    dashboard_address=":0")


@pytest.fixture(scope="module")
def two_workers():
    with _cluster(2) as cluster, distributed.Client(cluster) as client:
        yield client


def _draw(index, seed, settings):
    import numpy as np

    return {"index": index, "value": float(np.random.default_rng(seed).normal() * settings["scale"])}


def _die_once(index, seed, settings):
    """Kills its own worker process the first time trial ``settings['victim']`` runs (a marker file remembers)."""
    marker = Path(settings["marker"])
    if index == settings["victim"] and not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return _draw(index, seed, settings)


def _fail_on_three(index, seed, settings):
    if index == 3:
        raise ArithmeticError("trial 3 fails")
    return _draw(index, seed, settings)


def _threads(index, seed, settings):
    import numba
    from threadpoolctl import threadpool_info

    return {"pools": [pool["num_threads"] for pool in threadpool_info()], "numba": numba.get_num_threads()}


def test_same_json_on_the_local_pool_and_on_clusters_of_one_and_two_workers(two_workers):
    local = affine_form.quick(seed=4, workers=1).to_json()
    assert affine_form.quick(seed=4, workers=two_workers).to_json() == local
    with _cluster(1) as cluster:  # given by address: connected for the call, closed after
        assert affine_form.quick(seed=4, workers=cluster.scheduler_address).to_json() == local


def test_a_worker_killed_mid_run_loses_no_trial_and_counts_none_twice(two_workers, tmp_path):
    settings = {"scale": 1.0, "victim": 5, "marker": str(tmp_path / "killed")}
    journal = tmp_path / "run.jsonl"
    records = run_trials(_die_once, 12, 7, settings, workers=two_workers, journal=journal)
    assert (tmp_path / "killed").exists()  # the worker did die
    assert records == run_trials(_draw, 12, 7, settings, workers=1)
    trials = [json.loads(line)["trial"] for line in journal.read_text().splitlines()[1:]]
    assert sorted(trials) == list(range(12))  # every trial journalled exactly once
    two_workers.wait_for_workers(2, timeout=60)  # its nanny restarts it, for the tests that follow


def test_the_command_line_resumes_on_a_cluster_and_writes_the_same_json(two_workers, tmp_path):
    address = two_workers.scheduler.address
    journal = tmp_path / "affine.jsonl"
    common = ["affine_form", "--quick", "--seed", "3", "--journal", str(journal)]
    assert main(common + ["--scheduler", address, "--json", str(tmp_path / "a.json")]) == 0
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:8]) + "\n" + lines[8][:15])  # as if killed after 7 trials, mid-write
    assert main(common + ["--scheduler", address, "--json", str(tmp_path / "b.json")]) == 0
    assert main(["affine_form", "--quick", "--seed", "3", "--workers", "1", "--journal", str(tmp_path / "c.jsonl"),
                 "--json", str(tmp_path / "c.json")]) == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes() == (tmp_path / "c.json").read_bytes()


def test_a_failing_trial_stops_the_run_and_keeps_the_finished_ones(two_workers, tmp_path):
    journal = tmp_path / "run.jsonl"
    with pytest.raises(ArithmeticError, match="trial 3 fails"):
        run_trials(_fail_on_three, 8, 1, {"scale": 1.0}, workers=two_workers, journal=journal)
    kept = [json.loads(line)["trial"] for line in journal.read_text().splitlines()[1:]]
    assert 3 not in kept and len(kept) == len(set(kept))


def test_cluster_workers_run_one_thread_each(two_workers):
    for record in run_trials(_threads, 2, 0, {}, workers=two_workers):
        assert record["pools"] and set(record["pools"]) == {1} and record["numba"] == 1


def test_bad_cluster_arguments_are_refused(monkeypatch, capsys):
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        run_trials(_draw, 2, 0, {"scale": 1.0}, workers="localhost")
    for bad in (0, True, 2.5):
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            run_trials(_draw, 2, 0, {"scale": 1.0}, workers=bad)
    monkeypatch.setenv("PROOFS_CHECK_WORKER_THREADS", "two")
    with pytest.raises(ValueError, match="PROOFS_CHECK_WORKER_THREADS must be a positive integer"):
        run_trials(_draw, 2, 0, {"scale": 1.0}, workers=1)
    monkeypatch.delenv("PROOFS_CHECK_WORKER_THREADS")
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT_S", 1)
    assert main(["affine_form", "--quick", "--scheduler", "tcp://127.0.0.1:9", "--journal", os.devnull]) == 2
    assert "no Dask scheduler answered" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: --workers and --scheduler together
        main(["affine_form", "--quick", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"])
