"""python -m proofs_check NAME [--quick] [--seed S] [--json PATH] [--workers N | --scheduler ADDRESS] [--journal PATH]
[--set NAME=VALUE ...]

python -m proofs_check compressed_sensing --journal PATH --staged-cells OUT.json.gz   (runs nothing: the cells of a
stopped Figure 3 run, read from its stage checkpoints; see :func:`proofs_check.compressed_sensing.staged_cells`)

Every run journals each finished trial (by default to proofs_check/out/NAME-seedS.jsonl, or
NAME-quick-seedS.jsonl); run the same command again to resume after an interruption. The exit code is
0 whenever the check ran (a claim not observed is a result, not an error), 2 for bad arguments, and 130 when
stopped by Ctrl-C (one is enough: pending trials are cancelled, finished ones stay in the journal).
``--scheduler tcp://HOST:PORT`` sends the trials to a Dask cluster instead of local processes; the journal
is still written here, and the result is the same (see :mod:`proofs_check._dask`).
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import inspect
import json
import os
import pkgutil
import sys
import zlib
from pathlib import Path

from landscape import jsonsafe

import proofs_check

OUT = Path(proofs_check.__file__).parent / "out"


ALIASES = {"hv": "hand_voroninski"}


def checks() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(proofs_check.__path__) if not m.name.startswith("_"))


FULL_RUN = {
    "table1": "full run (4 models × k = 5, 10, 20 × 3 training seeds × 300 trials): 19.7 min on 2 cores with a third "
              "of the flows cached, about 24 min training all 36",
    "compressed_sensing": "full run (DCGAN and WGAN × 6 m × 3 training seeds × 200 trials, k = 20, classify=false): "
                          "63 min on 2 cores with the flows cached (0.5.0, the compiled engine); classifying the "
                          "failures adds their certified polishing",
    "rate_distortion": "full run (as compressed_sensing, held-out images): one training seed took 5.8 min, so about "
                       "18 min with the flows cached",
    "ccnn": "full run (5 variations × 4 models, CNN-1 from 20 starts, CCNN-1 from 5): estimated from measured "
            "step times at about 6 CPU-hours, three hours on 2 cores (a CCNN layer on 4,000 digits costs about 0.5 s "
            "per step: 3 × 300 validation steps and up to 2,000 more per layer)",
    "thm33": "--quick about 40 s; a run with 3 flows per setting, T = 64, three τ: 13 min on 2 cores",
}


def _describe(name: str) -> str:
    """A check's own help: its docstring, its run() parameters with their defaults, and its run size."""
    module = importlib.import_module(f"proofs_check.{name}")
    parameters = "\n".join(f"  --set {p.name}={p.default!r}" for p in inspect.signature(module.run).parameters.values()
                           if p.name not in ("seed", "workers", "journal", "progress"))
    return (f"python -m proofs_check {name} [--quick] [--seed S] [--json PATH] [--workers N | --scheduler ADDRESS] "
            "[--journal PATH] "
            f"[--set NAME=VALUE ...]\n\n{inspect.getdoc(module)}\n\nquick: {inspect.getdoc(module.quick) or '-'}\n"
            f"{FULL_RUN.get(name, '')}\n\nparameters of the full run (defaults):\n{parameters}\n")


def _kind_mismatch(default, value) -> str | None:
    """Why ``value`` (parsed from JSON) cannot stand where ``default`` does, judged by the default's kind: an integer
    setting takes an integer, a number a number, a flag true or false, a list a list, a word a string; None where
    it fits. Settings whose default is None are checked by the check itself."""
    def kind(v):
        if isinstance(v, bool):
            return "true or false"
        if isinstance(v, int):
            return "an integer"
        if isinstance(v, float):
            return "a number"
        if isinstance(v, (list, tuple)):
            return "a list"
        if isinstance(v, str):
            return "a string"
        if isinstance(v, dict):
            return "a mapping"
        return None

    wanted = kind(default)
    if default is None or value is None or wanted is None or default is inspect.Parameter.empty:
        return None  # None (a rule turned off, say) is for the check itself to accept or refuse
    if wanted == "a number" and kind(value) == "an integer":
        return None
    if wanted == "a list" and isinstance(value, list):
        return None
    if kind(value) != wanted:
        return f"expected {wanted} (the default is {json.dumps(default)})"
    return None


def _write_staged_cells(name: str, journal: Path | None, out: Path) -> int:
    """``--staged-cells OUT``: Figure 3's cells of ``journal`` read from its stage checkpoints, written to ``out``."""
    if name != "compressed_sensing":
        print(f"error: --staged-cells reads Figure 3's journals (compressed_sensing), not {name}'s", file=sys.stderr)
        return 2
    if journal is None or not journal.is_file():
        print(f"error: --staged-cells needs --journal, the journal of the stopped run; got {journal}", file=sys.stderr)
        return 2
    if not out.name.endswith((".json", ".json.gz")):
        print(f"error: --staged-cells {out}: expected a path ending in .json or .json.gz", file=sys.stderr)
        return 2
    from proofs_check.compressed_sensing import staged_cells

    try:
        staged = staged_cells(journal)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = jsonsafe.dumps(staged)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_bytes(gzip.compress(text.encode()) if out.name.endswith(".gz") else text.encode())
    os.replace(temporary, out)
    from_stages = sum(bool(cell["record"].get("from_stages")) for cell in staged["cells"])
    print(f"wrote {out}: {len(staged['cells'])} cells ({len(staged['cells']) - from_stages} finished in the journal, "
          f"{from_stages} read from stage checkpoints); without records or complete checkpoints: "
          f"{staged['unfinished'] or 'none'}")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    named = [ALIASES.get(a, a) for a in argv if ALIASES.get(a, a) in checks()]
    if named and any(a in ("-h", "--help") for a in argv):
        print(_describe(named[0]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m proofs_check", description="Check a claim of the Surfing paper. "
                                     "`python -m proofs_check NAME --help` describes one check.")
    parser.add_argument("check", choices=checks() + sorted(ALIASES), help=f"a check; aliases: {ALIASES}")
    parser.add_argument("--quick", action="store_true", help="small settings, about a minute or less")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the full result here")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run the trials on the Dask cluster whose scheduler is "
                       "at ADDRESS (tcp://HOST:PORT); its workers must have this package installed")
    parser.add_argument("--journal", type=Path, help="trial journal to write and resume from "
                        "(default: proofs_check/out/NAME[-quick]-seedS.jsonl)")
    parser.add_argument("--staged-cells", type=Path, metavar="PATH",
                        help="compressed_sensing only, runs nothing: write the cells of the --journal run that "
                             "stopped after their inversions, read from its stage checkpoints without any network "
                             "(proofs_check.compressed_sensing.staged_cells), to PATH as strict JSON (gzip-compressed "
                             "where PATH ends in .gz); journal_statistics reads it as it reads a journal")
    parser.add_argument("--set", nargs="+", action="extend", default=[], metavar="NAME=VALUE",
                        help="a parameter of the check's run() (see its docstring), VALUE as JSON: e.g. "
                             "--set 'widths=[[2, 7, 21]]' readout=50 trials=5 (repeating --set adds to the list)")
    args = parser.parse_args(argv)
    name = ALIASES.get(args.check, args.check)
    if args.seed < 0:
        print(f"error: --seed must be an integer >= 0; got {args.seed}", file=sys.stderr)
        return 2
    for flag, path in (("--json", args.json), ("--journal", args.journal)):
        if path is not None and path.is_dir():
            print(f"error: {flag} {path} is a directory; give a file path", file=sys.stderr)
            return 2
    if args.json is not None:
        folder = args.json.resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            print(f"error: --json {args.json}: the folder {folder} does not exist or is not writable", file=sys.stderr)
            return 2
    module = importlib.import_module(f"proofs_check.{name}")
    if args.staged_cells is not None:
        return _write_staged_cells(name, args.journal, args.staged_cells)
    overrides = {}
    for item in args.set:
        key, equals, value = item.partition("=")
        if not equals:
            print(f"error: --set {item!r}: expected NAME=VALUE", file=sys.stderr)
            return 2
        if key in overrides:
            print(f"error: --set {key}: given twice", file=sys.stderr)
            return 2
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value  # a bare word: a string
    accepted = set(inspect.signature(module.run).parameters) - {"seed", "workers", "journal", "progress"}
    unknown = sorted(set(overrides) - accepted)
    if unknown or (overrides and args.quick):
        print(f"error: --set {', '.join(unknown) or '...'}: " + (
            f"{name}.run() takes {', '.join(sorted(accepted))}" if unknown else "--set changes the full run; drop --quick"),
              file=sys.stderr)
        return 2
    defaults = {p.name: p.default for p in inspect.signature(module.run).parameters.values()}
    for key, value in overrides.items():
        problem = _kind_mismatch(defaults[key], value)
        if problem:
            print(f"error: --set {key}={json.dumps(value)}: {problem}", file=sys.stderr)
            return 2
    journal = args.journal
    if journal is None:
        custom = f"-{zlib.crc32(json.dumps(overrides, sort_keys=True).encode()):08x}" if overrides else ""
        journal = OUT / f"{name}{'-quick' if args.quick else ''}-seed{args.seed}{custom}.jsonl"
    run = module.quick if args.quick else module.run
    try:
        result = run(seed=args.seed, workers=args.scheduler or args.workers, journal=journal, progress=not args.quick,
                     **overrides)
    except (ValueError, TypeError) as error:  # a setting of the wrong kind (--set trials=abc) is bad input too
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the runner has said where it stopped and that the same command resumes
        return 130
    if args.json:
        temporary = args.json.with_name(args.json.name + ".tmp")
        temporary.write_text(result.to_json())
        os.replace(temporary, args.json)
    print(f"{result.check}: {'HOLDS' if result.holds else 'NOT OBSERVED'}\n{result.verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
