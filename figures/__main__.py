"""python -m figures [--quick | --scale tiny|quick|full] [--seed S] [--out DIR] [--only NAME ...]

Runs every figure module in this package in the paper's order — each measures (``measure(out_dir, scale, rng)``, a
:class:`figures._report.Measured`: numbers only, no matplotlib) and then draws (``draw(measured, out_dir)``, the
files) — writes the figures to ``figures/out/``, a ``REPORT.md`` that
states, for each claim, the paper's statement, the settings run, the measured figures and a verdict
(with a summary table first), and ``results.json`` with the same data for scripts. Each figure draws
its randomness from (seed, its name). --quick takes about 5 minutes on 2 cores; the full scale hours;
--scale tiny (a minute) runs every code path at sizes too small for the numbers to mean anything, for tests.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import zlib
from pathlib import Path

import numpy as np

import figures
from figures._report import figure_result, write_report
from figures._scale import SCALES

PAPER_ORDER = ("trained_landscapes", "theorem31", "theorem31_trained", "landscape_2d", "hand_voroninski", "surfing_2d",
               "tracking", "trained_flows", "table1", "failure_slices", "table1_ablation", "compressed_sensing", "inversion",
               "table1_synthetic")
"""The figures in the order of the paper: Figure 1, §2–3 (Theorem 3.1, Hand–Voroninski, Algorithms 1–2,
Theorem 3.3), §4 (trained flows, Table 1 and Figure 2, Figures 3–4), then the appendix."""


def figure_modules() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules(figures.__path__) if not m.name.startswith("_")}
    return [name for name in PAPER_ORDER if name in found] + sorted(found - set(PAPER_ORDER))


def arguments(argv=None) -> argparse.Namespace:
    """The command line, parsed (``--scale full`` unless told otherwise)."""
    parser = argparse.ArgumentParser(prog="python -m figures", description=__doc__.split("\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_const", const="quick", dest="scale",
                        help="small sizes, a first look (same as --scale quick)")
    parser.add_argument("--scale", choices=SCALES, default="full",
                        help="tiny: every code path in about a minute, for tests; quick: a first look; full: the "
                             "paper's sizes (default)")
    parser.set_defaults(scale="full")  # --quick shares the destination and would otherwise leave it None
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(figures.__file__).parent / "out")
    parser.add_argument("--only", nargs="+", choices=figure_modules(), help="run only these figure modules")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = arguments(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.only or figure_modules():
        module = importlib.import_module(f"figures.{name}")
        rng = np.random.default_rng([args.seed, zlib.crc32(name.encode())])
        start = time.perf_counter()
        print(f"[figures] {name} ...", file=sys.stderr, flush=True)
        try:
            measured = module.measure(args.out, args.scale, rng)
            results.append(figure_result(measured, module.draw(measured, args.out)))
        except KeyboardInterrupt:
            print(f"[figures] stopped during {name}; trained flows and full-scale journals under {args.out} are "
                  "kept, and the same command reuses them", file=sys.stderr)
            return 130
        print(f"[figures] {name} done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    command = {"tiny": " --scale tiny", "quick": " --quick", "full": ""}[args.scale]
    header = (f"Scale: **{args.scale}**, seed {args.seed}. Regenerate with `python -m figures{command} --seed "
              f"{args.seed}`. Each figure draws its randomness from (seed, its name), so a figure's numbers do not "
              "change when others are added; the seed each check ran with is in its section's settings.")
    if args.scale == "tiny":
        header += " The tiny scale runs every code path for the tests: its numbers mean nothing."
    report = write_report(results, args.out, header)
    print(f"[figures] wrote {report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
