"""The three sizes a figure runs at: ``tiny`` (tests: every code path, numbers too small to mean anything),
``quick`` (the main job: a first look in minutes) and ``full`` (the paper's sizes, hours)."""

from __future__ import annotations

SCALES = ("tiny", "quick", "full")


def by_scale(scale: str, tiny, quick, full):
    """The setting for ``scale``: one of ``tiny``, ``quick``, ``full``."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    return {"tiny": tiny, "quick": quick, "full": full}[scale]
