"""Optional progress bars for the long exact computations: off by default (scripts stay quiet), on in the
command-line tools, drawn with tqdm on standard error."""

from __future__ import annotations

import sys


class _Silent:
    """Stands in for a bar when progress is off."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


SILENT = _Silent()
"""The bar to pass where a caller's progress is off."""


def progress_bar(progress, total: int | None, desc: str, unit: str):
    """A tqdm bar (``total`` None: a counter with a rate) when ``progress`` is True, else a silent stand-in."""
    if not isinstance(progress, bool):
        raise ValueError(f"progress must be True or False; got {progress!r}")
    if not progress:
        return SILENT
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr, mininterval=0.5, dynamic_ncols=True)
