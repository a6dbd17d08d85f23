"""python -m proofs_check NAME [--quick] [--seed S] [--json PATH] [--workers N] [--journal PATH]

A full run shows progress and journals every finished trial (by default to
proofs_check/out/NAME-seedS.jsonl); run the same command again to resume after an interruption.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import proofs_check

OUT = Path(proofs_check.__file__).parent / "out"


ALIASES = {"hv": "hand_voroninski"}


def checks() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(proofs_check.__path__) if not m.name.startswith("_"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proofs_check", description="Check a claim of the Surfing paper.")
    parser.add_argument("check", choices=checks() + sorted(ALIASES), help=f"a check; aliases: {ALIASES}")
    parser.add_argument("--quick", action="store_true", help="small settings, about a minute or less")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the full result here")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    parser.add_argument("--journal", type=Path, help="trial journal to write and resume from "
                        "(default for full runs: proofs_check/out/NAME-seedS.jsonl; quick runs keep none)")
    args = parser.parse_args(argv)
    name = ALIASES.get(args.check, args.check)
    module = importlib.import_module(f"proofs_check.{name}")
    journal = args.journal
    if journal is None and not args.quick:
        journal = OUT / f"{name}-seed{args.seed}.jsonl"
    run = module.quick if args.quick else module.run
    result = run(seed=args.seed, workers=args.workers, journal=journal, progress=not args.quick)
    if args.json:
        args.json.write_text(result.to_json())
    print(f"{result.check}: {'HOLDS' if result.holds else 'NOT OBSERVED'}\n{result.verdict}")
    return 0 if result.holds else 1


if __name__ == "__main__":
    sys.exit(main())
