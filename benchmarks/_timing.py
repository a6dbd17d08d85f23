"""Paired timing: ours and the reference alternate, so machine noise hits both alike."""

from __future__ import annotations

import argparse
import statistics
import time


def describe(doc: str) -> None:
    """Answer ``--help`` with the script's docstring (and refuse unknown arguments) before any timing starts."""
    argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()


def compare(ours, reference, repeats: int = 7) -> dict:
    """Median seconds of each callable over interleaved repeats, and their ratio (ours / reference)."""
    ours(), reference()  # warm-up: compilation, caches, page faults
    t_ours, t_ref = [], []
    for r in range(repeats):
        pair = [(ours, t_ours), (reference, t_ref)]
        for fn, sink in pair if r % 2 == 0 else pair[::-1]:
            start = time.perf_counter()
            fn()
            sink.append(time.perf_counter() - start)
    ours_s, ref_s = statistics.median(t_ours), statistics.median(t_ref)
    paired = statistics.median(a / b for a, b in zip(t_ours, t_ref))
    return {"ours_s": ours_s, "reference_s": ref_s, "ratio": ours_s / ref_s, "paired_ratio": paired}


def row(name: str, result: dict, target: str) -> str:
    return (
        f"| {name} | {result['ours_s'] * 1e3:9.1f} | {result['reference_s'] * 1e3:9.1f} "
        f"| {result['ratio']:.2f} | {result['paired_ratio']:.2f} | {target} |"
    )


HEADER = (
    "| benchmark | ours (ms) | reference (ms) | ratio of medians | median paired ratio | target |\n"
    "|---|---:|---:|---:|---:|---|"
)
