"""Checkpoints inside one trial: a trial that runs for hours (a paper-width Table 1 cell) saves each finished stage
to a file beside the journal, so an interrupted run resumes at the trial's first unfinished stage, not at its start.

A trial function that takes a ``stages`` keyword gets a :class:`Stages` from
:func:`proofs_check._runner.run_trials` and wraps each long step as ``value = stages("name", compute, rng)``. The
file (``<journal>.stages/trial-<t>.pickle``) holds the stages finished so far and the run's settings; it is
removed once the trial's record is in the journal. A file written for other settings, or one that cannot be read
(cut short by a crash), is ignored with a warning and the trial starts over.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def directory_of(journal: Path) -> Path:
    """Where the stage checkpoints of ``journal``'s trials live."""
    return journal.with_name(journal.name + ".stages")


def path_of(directory: Path, trial: int) -> Path:
    """Trial ``trial``'s checkpoint file in ``directory``."""
    return directory / f"trial-{trial}.pickle"


class Stages:
    """The finished stages of one trial, read from and saved to ``path`` (None: nothing is saved, every stage runs).

    Parameters
    ----------
    path : Path or None
        The checkpoint file.
    key : JSON-like
        What the stages were computed for (the run's settings and the trial's index); a file saved under another
        key is ignored.
    """

    def __init__(self, path: Path | None = None, key: Any = None):
        self.path, self.key, self.saved = path, key, {}
        if path is None or not path.exists():
            return
        try:
            with path.open("rb") as handle:
                content = pickle.load(handle)
            if not isinstance(content, dict) or not isinstance(content.get("stages"), dict):
                raise ValueError("not a stage checkpoint")
        except Exception as exc:  # noqa: BLE001 - any unreadable file means the same: start the trial over
            print(f"warning: stage checkpoint {path} cannot be read ({type(exc).__name__}: {exc}); the trial starts "
                  "over", file=sys.stderr)
            return
        if content.get("key") != key:
            print(f"warning: stage checkpoint {path} was saved for other settings; the trial starts over",
                  file=sys.stderr)
            return
        self.saved = content["stages"]

    def __call__(self, name: str, compute: Callable[[], Any], rng: np.random.Generator | None = None) -> Any:
        """``compute()``, or its value saved by an earlier run of this trial. With ``rng``, the generator's state
        after the stage is saved too and restored when the stage is skipped, so later draws are the same either
        way."""
        if name in self.saved:
            value, state = self.saved[name]
            if rng is not None:
                if state is None:
                    raise RuntimeError(f"stage {name!r} was saved without its random state; the trial must start over "
                                       f"(delete {self.path})")
                rng.bit_generator.state = state
            return value
        value = compute()
        self.saved[name] = (value, None if rng is None else rng.bit_generator.state)
        self._write()
        return value

    def _write(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".tmp")
        with partial.open("wb") as handle:
            pickle.dump({"key": self.key, "stages": self.saved}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, self.path)  # atomic: a crash mid-write leaves the previous checkpoint whole


def run_staged(trial: Callable, directory: str | None, key: Any, index: int, seed, settings: dict) -> dict:
    """``trial(index, seed, settings, stages=...)`` with trial ``index``'s checkpoints in ``directory`` (None: none
    saved). Module-level, so it reaches worker processes through ``functools.partial``."""
    path = None if directory is None else path_of(Path(directory), index)
    return trial(index, seed, settings, stages=Stages(path, [key, index]))
