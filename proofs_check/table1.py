r"""Table 1 of §4 on real training flows: surfing against regular Adam on generators trained here.

The protocol, as §4 states it:

- For each model (VAE, DCGAN, WGAN, WGAN-GP) and latent dimension k, a generator is trained with
  :func:`landscape.training.train_flow` (the infogan layout on the bundled 8×8 digits unless told otherwise)
  and its snapshots θ_0 … θ_T are taken every ``every`` generator updates (T = 100, every 40).
- Each trial draws x* and x_init uniformly from :math:`[-1, 1]^k`; the target is :math:`y = G(x_*, \theta_T)`
  and :math:`f(x) = \tfrac12\|G(x, \theta_T) - y\|^2`. Success: :math:`\|\hat x_T - x_*\| < 0.01`.
- Regular Adam: Adam on :math:`f_{\theta_T}` from x_init until convergence.
- Surfing: Adam from x_init over θ_0 … θ_{T−1} with a total budget equal to the 75th percentile of regular
  Adam's iteration counts to convergence (this cell's), split by a decreasing schedule, then Adam to
  convergence on θ_T.

Every choice the paper leaves open is a setting (:mod:`proofs_check._protocol`: Adam's step size, the stopping
rule, Adam's moments across snapshots, the budget statistic, the schedule's shape, which snapshots are used).

What is measured besides the paper's numbers:

- *Iteration counts* (Table 1's second half): per trial, the total steps until :math:`\|x - x_*\| < 0.01` was
  first reached (over all snapshots for surfing); a trial that never got there counts with all the steps it
  ran. The table reports the 75th percentile over the cell's trials.
- Training varies: each (model, k) is run on several training seeds; per-seed rates, a pooled rate with a
  95 % Wilson interval and an exact McNemar test between the two methods (paired by trial) are reported.
- *Why runs fail*: every failed run of either method (up to ``polish_limit`` per method and cell) is classified
  exactly (:mod:`proofs_check._failures`: stopped short of x*, another global minimiser, a certified spurious
  minimum, surfing having wandered out of x*'s basin before θ_T, or uncertified); per trial, the rule that ended
  each method's last run (gradient tolerance, stall rule, step cap) and :math:`\sigma_{\min}` of G's Jacobian
  at x* (how well x* is identified), with failure rates by its tertiles.
- ``restarts``: regular Adam with random restarts on θ_T within surfing's steps for the same trial, the best end
  point by f kept — the baseline surfing must beat to matter.
- With ``converge_every_snapshot``, surfing is also run to convergence on every snapshot (no budget), to
  separate "surfing fails" from "the budget starves it".
- The cell's x* and both methods' end points :math:`\hat x_T` (``x_star``, ``end_regular``, ``end_surfing``), so
  its failures can be analysed further (polished with larger limits, sliced, certified) without running it again.
- A census (``census_targets`` targets per cell): regular Adam from ``census_starts`` uniform starts, every end
  point polished to a certified local minimum, distinct minima counted.

Trained flows are cached under ``flows_dir`` (one directory per model, k, T, every and training seed) and
reused; a directory holding other settings is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import landscape as L
from landscape import validate
from landscape.descent import resolve_engine
from landscape.touching import same_point

from . import _failures, _optimum, _protocol, _stages
from ._protocol import METHODS, SUCCESS_RADIUS, steps_to_target
from ._result import CheckResult
from ._runner import recorded_journal, run_trials
from ._stats import interval_text, mcnemar_exact, quartiles, wilson_interval

CLAIM = (
    "§4, Table 1 (Song, Fan, Lafferty 2019): on generators trained as VAE, DCGAN, WGAN and WGAN-GP (Fashion-MNIST, "
    "InfoGAN layout, k = 5, 10, 20), surfing over the training snapshots recovers x* (‖x̂_T − x*‖ < 0.01) at least as "
    "often as regular Adam on the final network, and often far more often (e.g. DCGAN k = 5: 48.3 % → 78.3 %), "
    "at 1–2× its iterations."
)

PAPER = {
    ("vae", 5): (98.7, 100.0, 737, 775), ("vae", 10): (100.0, 100.0, 1330, 1404),
    ("vae", 20): (100.0, 100.0, 8215, 10744), ("dcgan", 5): (48.3, 78.3, 618, 741),
    ("dcgan", 10): (68.7, 98.7, 4560, 6514), ("dcgan", 20): (80.0, 96.3, 18937, 33294),
    ("wgan", 5): (56.0, 81.7, 464, 547), ("wgan", 10): (84.3, 97.3, 1227, 1450),
    ("wgan", 20): (90.3, 99.3, 3702, 4986), ("wgangp", 5): (47.0, 83.7, 463, 564),
    ("wgangp", 10): (64.7, 95.7, 1915, 2394), ("wgangp", 20): (64.7, 97.3, 15445, 25991),
}
"""Table 1 of the paper: (regular Adam %, surfing %, regular iterations, surfing iterations) per (model, k)."""

MODELS = ("vae", "dcgan", "wgan", "wgangp")


def data_description(dataset) -> str:
    """The data a verdict was measured on, in words: ``"8×8 digits, not Fashion-MNIST"`` and the like."""
    data = L.datasets.load(dataset)
    height, width = data.image_shape
    if data.name.lower().startswith("fashion"):
        return f"{height}×{width} {data.name} images, as the paper"
    what = {"digits": "digits", "mnist5k": "MNIST digits"}.get(str(dataset), f"{data.name} images")
    return f"{height}×{width} {what}, not Fashion-MNIST"


def flow_directory(flows_dir, model: str, k: int, T: int, every: int, seed: int, layout: str = "infogan",
                   hidden=None, dataset: str = "digits") -> Path:
    """Where the cached flow of these settings lives (the data set and the hidden sizes are named when they are not
    the defaults, the digits and the layout's own)."""
    extra = ("" if str(dataset) == "digits" else f"-{Path(str(dataset)).name}") + (
        "" if not hidden else f"-h{'x'.join(str(h) for h in hidden)}")
    return Path(flows_dir) / f"{model}-{layout}-k{k}-T{T}-every{every}-seed{seed}{extra}"


def census(net: L.ReLUNet, x_star: np.ndarray, starts: np.ndarray, options: dict) -> dict:
    r"""The distinct local minima of :math:`f(x) = \tfrac12\|G(x) - G(x_*)\|^2` that regular Adam reaches from
    ``starts``: every end point polished to a certified local minimum, and minima closer than
    :math:`10^{-6}(1 + \|x\|)` merged (:func:`landscape.touching.same_point`). Returns their count, values f and
    distances to x* (lowest f first) and how many starts reached each, the share of starts that reached x* itself,
    and how many end points could not be certified within :data:`proofs_check._failures.POLISH_LIMITS`."""
    y = net.forward(x_star)
    ends = L.regular_descent(net, y, x0=starts, **options).x
    objective = L.Objective(net, y)
    minima: list[list] = []  # [point, value, starts that reached it]
    uncertified = 0
    for x in ends:
        found, _ = _failures.polish(objective, x)
        if found is None:
            uncertified += 1
            continue
        for entry in minima:
            if same_point(found.x, entry[0]):
                entry[2] += 1
                break
        else:
            minima.append([found.x, found.value, 1])
    minima.sort(key=lambda entry: entry[1])
    reached = sum(c for x, _, c in minima if same_point(x, x_star))
    return {"starts": len(starts), "uncertified": uncertified, "distinct_minima": len(minima),
            "share_reaching_x_star": reached / len(starts),
            "values": [float(v) for _, v, _ in minima],
            "distances_to_x_star": [float(np.linalg.norm(x - x_star)) for x, _, _ in minima],
            "starts_per_minimum": [int(c) for _, _, c in minima]}


def trained(settings: dict, model: str, k: int, training_seed: int, progress: bool = False) -> L.NetworkFlow:
    """The cell's flow, trained with :func:`landscape.training.train_flow` or read from ``flows_dir``."""
    from landscape.training import train_flow

    T, every, layout, hidden = settings["T"], settings["every"], settings["layout"], settings.get("hidden")
    directory = flow_directory(settings["flows_dir"], model, k, T, every, training_seed, layout, hidden,
                               settings["dataset"])
    return train_flow(model, directory, k=k, T=T, every=every, layout=layout, hidden=hidden, dataset=settings["dataset"],
                      seed=training_seed, progress=progress).flow


def classify_failures(objectives, X, x_star, failed, limit, iterates=None) -> list[dict]:
    """:func:`proofs_check._failures.classify` for the first ``limit`` (None: all) failed trials; ``objectives(i)``
    gives trial i's objective, ``iterates`` (T' + 1, B, k) surfing's path."""
    chosen = np.flatnonzero(failed)[:limit]
    return [{"trial": int(i)} | _failures.classify(objectives(i), X[i], x_star[i], SUCCESS_RADIUS,
                                                   None if iterates is None else iterates[:, i])
            for i in chosen]


def _descent_options(protocol: dict, x_star) -> dict:
    """The protocol's Adam and stopping settings, with x* and the success radius for counting steps to the target."""
    return _protocol.adam_options(protocol) | {"x_star": x_star, "radius": SUCCESS_RADIUS}


def regular_run(final: L.ReLUNet, Y: np.ndarray, A, x_init: np.ndarray, x_star, protocol: dict,
                engine: str = "auto") -> L.SurfResult:
    """Regular Adam on θ_T from ``x_init`` under ``protocol`` (only its Adam and stopping settings matter)."""
    return L.regular_descent(final, Y, A, x0=x_init, engine=engine, **_descent_options(protocol, x_star))


def surfing_run(flow: L.NetworkFlow, Y: np.ndarray, A, x_init: np.ndarray, x_star, protocol: dict,
                regular: L.SurfResult) -> tuple[L.SurfResult, int]:
    """Surfing under ``protocol`` with its budget from ``regular``'s runs (the protocol's budget statistic); returns
    the result and the budget."""
    budget = surfing_budget(regular, x_star, protocol)
    return budgeted_surfing(flow, Y, A, x_init, x_star, protocol, budget), budget


def surfing_budget(regular: L.SurfResult, x_star, protocol: dict) -> int:
    """Surfing's step budget on the snapshots before the last, from regular Adam's runs (the protocol's statistic)."""
    return _protocol.surfing_budget(regular.total_steps, None if x_star is None else steps_to_target(regular),
                                    protocol["budget_statistic"])


def budgeted_surfing(flow: L.NetworkFlow, Y: np.ndarray, A, x_init: np.ndarray, x_star, protocol: dict,
                     budget: int, engine: str = "auto") -> L.SurfResult:
    """Surfing under ``protocol`` with ``budget`` steps on the snapshots before the last."""
    return L.surf(_protocol.surfed_flow(flow, protocol), Y, A, x0=x_init, budget=budget,
                  schedule=protocol["schedule"], reset_moments=protocol["reset_moments"], engine=engine,
                  **_descent_options(protocol, x_star))


def invert(flow: L.NetworkFlow, Y: np.ndarray, A, x_init: np.ndarray, x_star, protocol: dict, restarts: bool = False,
           rng: np.random.Generator | None = None) -> dict:
    """Regular Adam and surfing (and, with ``restarts``, regular Adam restarted within surfing's steps) on the same
    targets and starts under ``protocol``; returns the results and the budget."""
    final = flow[flow.T]
    regular = regular_run(final, Y, A, x_init, x_star, protocol)
    surfed, budget = surfing_run(flow, Y, A, x_init, x_star, protocol, regular)
    out = {"regular": regular, "surfing": surfed, "budget": budget}
    if restarts:
        out["restarts"] = _protocol.restarted(final, Y, A, regular, surfed.total_steps, rng, protocol)
    return out


def blocks(n: int, size: int | None) -> list[slice]:
    """Trials 0..n−1 in consecutive blocks of ``size`` (None: one block)."""
    size = n if size is None else size
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def joined(results: list[L.SurfResult]) -> L.SurfResult:
    """Batched results of consecutive blocks of trials as one batch, in order."""
    if len(results) == 1:
        return results[0]
    return L.SurfResult(
        np.concatenate([r.x for r in results]), np.concatenate([r.iterates for r in results], axis=1),
        np.concatenate([r.steps for r in results], axis=1), np.concatenate([r.converged for r in results]),
        np.concatenate([r.stalled for r in results]),
        None if results[0].steps_to_target is None else np.concatenate([r.steps_to_target for r in results]))


def _trial(index: int, seed: np.random.SeedSequence, settings: dict, stages: _stages.Stages | None = None) -> dict:
    stages = _stages.Stages() if stages is None else stages
    model, k, training_seed = settings["cells"][index]
    flow = trained(settings, model, k, training_seed)
    final, protocol = flow[flow.T], settings["protocol"]
    rng = np.random.default_rng(seed)
    n = settings["trials_per_cell"]
    x_star, x_init = rng.uniform(-1, 1, (n, k)), rng.uniform(-1, 1, (n, k))
    Y = final.forward(x_star)
    parts = blocks(n, settings.get("block"))
    engine = resolve_engine("auto", n)  # the whole cell's: blocks run where the cell would, below JAX's batch or not
    regular = joined([stages(f"regular {b.start}:{b.stop}", lambda b=b: regular_run(
        final, Y[b], None, x_init[b], x_star[b], protocol, engine)) for b in parts])
    budget = surfing_budget(regular, x_star, protocol)
    surfed = joined([stages(f"surfing {b.start}:{b.stop}", lambda b=b: budgeted_surfing(
        flow, Y[b], None, x_init[b], x_star[b], protocol, budget, engine)) for b in parts])
    distance = {"regular": np.linalg.norm(regular.x - x_star, axis=1),
                "surfing": np.linalg.norm(surfed.x - x_star, axis=1)}
    record = {
        "model": model, "k": k, "training_seed": training_seed, "budget": budget,
        "snapshots_surfed": int(_protocol.surfed_flow(flow, protocol).T + 1),
        "distance_regular": distance["regular"].tolist(), "distance_surfing": distance["surfing"].tolist(),
        "x_star": x_star.tolist(), "end_regular": regular.x.tolist(), "end_surfing": surfed.x.tolist(),
        "iterations_regular": steps_to_target(regular).tolist(), "iterations_surfing": steps_to_target(surfed).tolist(),
        "total_steps_regular": regular.total_steps.tolist(), "total_steps_surfing": surfed.total_steps.tolist(),
        "stop_regular": _failures.stop_reasons(regular, protocol["max_steps"]),
        "stop_surfing": _failures.stop_reasons(surfed, protocol["max_steps"]),
        "sigma_min": stages("sigma_min", lambda: _failures.smallest_singular_values(final, x_star).tolist()),
        "M_max": stages("M_max", lambda: float(flow.weight_norms().max())),
    }
    if settings["restarts"]:
        X, spent, count = stages("restarts", lambda: _protocol.restarted(final, Y, None, regular, surfed.total_steps,
                                                                         rng, protocol), rng)
        record |= {"distance_restarts": np.linalg.norm(X - x_star, axis=1).tolist(),
                   "total_steps_restarts": spent.tolist(), "runs_restarts": count.tolist()}
    if settings["converge_every_snapshot"]:
        options = _protocol.adam_options(protocol)
        unlimited = stages("surfing to convergence", lambda: L.surf(
            _protocol.surfed_flow(flow, protocol), Y, x0=x_init, reset_moments=protocol["reset_moments"], **options))
        record["distance_surfing_to_convergence"] = np.linalg.norm(unlimited.x - x_star, axis=1).tolist()
    if settings["classify"]:
        def objective(i):
            return L.Objective(final, Y[i])

        limit = settings["polish_limit"]
        record["failures_regular"] = stages("failures_regular", lambda: classify_failures(
            objective, regular.x, x_star, distance["regular"] >= SUCCESS_RADIUS, limit))
        record["failures_surfing"] = stages("failures_surfing", lambda: classify_failures(
            objective, surfed.x, x_star, distance["surfing"] >= SUCCESS_RADIUS, limit, surfed.iterates))
    if settings.get("certify_failures"):
        failed = np.flatnonzero((distance["regular"] >= SUCCESS_RADIUS) | (distance["surfing"] >= SUCCESS_RADIUS))
        record["x_star_certificates"] = [
            stages(f"certified x* {i}", lambda i=int(i): _optimum.unique_minimiser(
                final, Y[i], x_star[i], settings.get("certify_max_nodes")) | {"trial": i})
            for i in failed[:settings["certify_failures"]]]
    census_options = _protocol.adam_options(protocol)
    record["census"] = [stages(f"census {i}", lambda i=i: census(
        final, x_star[i], rng.uniform(-1, 1, (settings["census_starts"], k)), census_options), rng)
        for i in range(min(settings["census_targets"], n))]
    return record


def rate(successes: np.ndarray) -> dict:
    """A success rate with its 95 % Wilson interval."""
    n = len(successes)
    return {"rate": float(np.mean(successes)), "ci95": list(wilson_interval(int(np.sum(successes)), n))}


def paired(first: np.ndarray, second: np.ndarray) -> dict:
    """The discordant pairs of two methods' successes on the same trials and McNemar's exact p."""
    only_first, only_second = int(np.sum(first & ~second)), int(np.sum(second & ~first))
    return {"only_first": only_first, "only_second": only_second, "mcnemar_p": mcnemar_exact(only_first, only_second)}


def direction(gain: float, p_value: float, better: str, worse: str) -> str:
    return better if gain > 0 and p_value < 0.05 else worse if gain < 0 and p_value < 0.05 else "no significant difference"


def failure_summary(records: list[dict], successes: dict[str, np.ndarray]) -> dict:
    """Per method: the classes of its classified failures, the rules that ended its runs, and its failure rate in
    each tertile of σ_min(J(x*)) over the cell's trials (None for an empty third, in a cell of fewer than 3 trials)."""
    sigma = np.concatenate([r["sigma_min"] for r in records])
    edges = np.quantile(sigma, [1 / 3, 2 / 3])
    tertile = np.empty(len(sigma), dtype=np.int64)  # by rank, so ties (σ_min = 0 with m < k) still fill three thirds
    tertile[np.argsort(sigma, kind="stable")] = np.arange(len(sigma)) * 3 // len(sigma)
    out = {"sigma_min_quartiles": quartiles(sigma),
           "sigma_min_tertile_edges": [float(e) for e in edges]}
    for method, won in successes.items():
        entry = {}
        key = f"failures_{method}"
        if all(key in r for r in records):
            classified = [c for r in records for c in r[key]]
            entry["classified"] = len(classified)
            entry["failed"] = int(np.sum(~won))
            entry["classes"] = _failures.tally(classified)
            spurious = [c for c in classified if c["class"] in ("spurious_minimum", "wandered")]
            entry["median_spurious_distance"] = float(np.median([c["distance"] for c in spurious])) if spurious else None
            entry["median_spurious_f"] = float(np.median([c["f"] for c in spurious])) if spurious else None
            short = [c for c in classified if c["class"] == "stopped_short"]
            entry["median_stopped_short_distance"] = float(np.median([c["end_distance"] for c in short])) if short else None
            wandered = [c for c in classified if "distance_before_last" in c]
            if wandered:
                entry["median_distance_before_last"] = float(np.median([c["distance_before_last"] for c in wandered]))
                entry["median_largest_norm"] = float(np.median([c["largest_norm"] for c in wandered]))
                entry["before_last_polishes_to"] = {
                    where: sum(c.get("before_last_polishes_to") == where for c in wandered)
                    for where in ("x_star", "other_global", "spurious", "uncertified")}
        stop_key = f"stop_{method}"
        if all(stop_key in r for r in records):
            stops = np.concatenate([r[stop_key] for r in records])
            entry["stop_rules"] = {rule: int(np.sum(stops == rule)) for rule in ("gradient", "stall", "cap")}
            entry["stop_rules_of_failures"] = {rule: int(np.sum((stops == rule) & ~won))
                                               for rule in ("gradient", "stall", "cap")}
        entry["failure_rate_by_sigma_tertile"] = [  # a cell of fewer than 3 trials leaves a third empty
            (rate(~won[tertile == b]) if np.any(tertile == b) else {"rate": None, "ci95": None})
            | {"trials": int(np.sum(tertile == b))} for b in range(3)]
        out[method] = entry
    return out


def _setting_summary(model: str, k: int, records: list[dict]) -> dict:
    won = {m: np.concatenate([np.asarray(r[f"distance_{m}"]) < SUCCESS_RADIUS for r in records]) for m in METHODS}
    n = len(won["regular"])
    test = paired(won["regular"], won["surfing"])
    difference = won["surfing"].mean() - won["regular"].mean()
    summary = {
        "model": model, "k": k, "trials": n, "training_seeds": [r["training_seed"] for r in records],
        "regular_rate": rate(won["regular"])["rate"], "regular_ci95": rate(won["regular"])["ci95"],
        "surfing_rate": rate(won["surfing"])["rate"], "surfing_ci95": rate(won["surfing"])["ci95"],
        "per_seed_regular": [float(np.mean(np.asarray(r["distance_regular"]) < SUCCESS_RADIUS)) for r in records],
        "per_seed_surfing": [float(np.mean(np.asarray(r["distance_surfing"]) < SUCCESS_RADIUS)) for r in records],
        "only_regular": test["only_first"], "only_surfing": test["only_second"], "mcnemar_p": test["mcnemar_p"],
        "verdict": direction(difference, test["mcnemar_p"], "surfing better", "regular better"),
        "iterations_p75_regular": float(np.percentile(np.concatenate([r["iterations_regular"] for r in records]), 75)),
        "iterations_p75_surfing": float(np.percentile(np.concatenate([r["iterations_surfing"] for r in records]), 75)),
        "budgets": [r["budget"] for r in records],
    }
    if all("distance_restarts" in r for r in records):
        won["restarts"] = np.concatenate([np.asarray(r["distance_restarts"]) < SUCCESS_RADIUS for r in records])
        against = paired(won["restarts"], won["surfing"])
        summary["restarts"] = rate(won["restarts"]) | {
            "only_restarts": against["only_first"], "only_surfing": against["only_second"],
            "mcnemar_p_against_surfing": against["mcnemar_p"],
            "runs_median": float(np.median(np.concatenate([r["runs_restarts"] for r in records]))),
            "total_steps_p75": float(np.percentile(np.concatenate([r["total_steps_restarts"] for r in records]), 75))}
    summary["failures"] = failure_summary(records, {m: won[m] for m in METHODS})
    regular_failures = {(r["training_seed"], c["trial"]): c for r in records for c in r.get("failures_regular", [])}
    if regular_failures:
        surfing_won = {(r["training_seed"], t): d < SUCCESS_RADIUS for r in records
                       for t, d in enumerate(r["distance_surfing"])}
        spurious = [key for key, c in regular_failures.items() if c["class"] == "spurious_minimum"]
        summary["regular_spurious_solved_by_surfing"] = int(sum(surfing_won[key] for key in spurious))
    censuses = [c for r in records for c in r["census"]]
    if censuses:
        summary["census"] = {
            "targets": len(censuses), "starts_per_target": censuses[0]["starts"],
            "median_distinct_minima": float(np.median([c["distinct_minima"] for c in censuses])),
            "median_share_reaching_x_star": float(np.median([c["share_reaching_x_star"] for c in censuses])),
            "largest_distinct_minima": int(max(c["distinct_minima"] for c in censuses)),
            "uncertified_end_points": int(sum(c["uncertified"] for c in censuses))}
    if all("x_star_certificates" in r for r in records):
        summary["x_star_certificates"] = _optimum.uniqueness_summary([c for r in records
                                                                      for c in r["x_star_certificates"]])
    if all("distance_surfing_to_convergence" in r for r in records):
        unlimited = np.concatenate([np.asarray(r["distance_surfing_to_convergence"]) < SUCCESS_RADIUS for r in records])
        summary["surfing_to_convergence_rate"] = float(unlimited.mean())
    paper = PAPER.get((model, k))
    if paper is not None:
        summary["paper"] = {"regular_percent": paper[0], "surfing_percent": paper[1], "regular_iterations": paper[2],
                            "surfing_iterations": paper[3]}
    return summary


def journal_statistics(*paths) -> dict:
    """Table 1's per-setting summaries (as :func:`run` reports them) from the trial journals of one or more runs,
    plain or gzip-compressed (``results/*.jsonl.gz``): every finished cell of every journal, grouped by (model, k).

    Journals of different runs combine (one cell per run, say, at the paper's scale); a cell found twice is refused,
    as is a file that is not a Table 1 journal. Returns ``{"per_setting": [...]}``, which :func:`scales_table` takes.
    """
    if not paths:
        raise ValueError("journal_statistics needs at least one journal path")
    cells = {}
    for path in map(Path, paths):
        header, entries = recorded_journal(path)
        run_settings = None if header is None else header.get("settings")
        if not isinstance(run_settings, dict) or not isinstance(run_settings.get("cells"), list):
            raise ValueError(f"journal {str(path)!r} is not a Table 1 journal (its header names no cells)")
        for record in entries.values():
            if "distance_regular" not in record:
                raise ValueError(f"journal {str(path)!r} holds a record that is not a Table 1 cell")
            key = (record["model"], int(record["k"]), int(record["training_seed"]))
            if key in cells:
                raise ValueError(f"journal {str(path)!r} holds the cell (model, k, training seed) = {key} again")
            cells[key] = record
    settings = sorted({(m, k) for m, k, _ in cells}, key=lambda mk: (MODELS.index(mk[0]) if mk[0] in MODELS
                                                                      else len(MODELS), mk))
    return {"per_setting": [_setting_summary(m, k, [cells[key] for key in sorted(cells) if key[:2] == (m, k)])
                            for m, k in settings]}


def scales_table(scales: dict) -> str:
    """Table 1 at several scales beside the paper's, as a Markdown table: one row per (model, k) measured at any of
    them; per scale, regular Adam → surfing in percent with Wilson 95 % intervals, the trials and McNemar's verdict.

    Parameters
    ----------
    scales : dict
        Column name → that scale's result: a :class:`CheckResult` of :func:`run`, its ``statistics`` or its JSON
        (``{"statistics": {"per_setting": [...]}}``). A (model, k) a scale did not measure reads "—".
    """
    if not isinstance(scales, dict) or not scales:
        raise ValueError("scales must be a non-empty dict of column name -> Table 1 result")
    columns = {}
    for name, result in scales.items():
        statistics = result.statistics if isinstance(result, CheckResult) else result
        statistics = statistics.get("statistics", statistics) if isinstance(statistics, dict) else None
        if not isinstance(statistics, dict) or not isinstance(statistics.get("per_setting"), list):
            raise ValueError(f"scales[{name!r}] must be a Table 1 result (a CheckResult, its statistics or its JSON, "
                             "with statistics.per_setting)")
        columns[name] = {(s["model"], int(s["k"])): s for s in statistics["per_setting"]}
    order = {model: i for i, model in enumerate(MODELS)}
    cells = sorted({cell for column in columns.values() for cell in column},
                   key=lambda cell: (order.get(cell[0], len(order)), cell[0], cell[1]))
    lines = ["| model | k | paper: regular → surfing | " + " | ".join(columns) + " |",
             "|---|---:|---|" + "---|" * len(columns)]
    for model, k in cells:
        paper = PAPER.get((model, k))
        row = [model, str(k), "—" if paper is None else f"{paper[0]:.1f} → {paper[1]:.1f}"]
        for column in columns.values():
            s = column.get((model, k))
            row.append("—" if s is None else (
                f"{100 * s['regular_rate']:.1f} {interval_text(s['regular_ci95'])} → {100 * s['surfing_rate']:.1f} "
                f"{interval_text(s['surfing_ci95'])}, {s['trials']} trials, {s['verdict']}"))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def checked_hidden(hidden) -> list[int] | None:
    """The generator's hidden sizes as a list of integers >= 1, or None for the layout's default."""
    if hidden is None:
        return None
    if not isinstance(hidden, (list, tuple)) or not hidden or not all(
            isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h >= 1 for h in hidden):
        raise ValueError(f"hidden must be a list of hidden sizes (integers >= 1), or None; got {hidden!r}")
    return [int(h) for h in hidden]


def cells_of(models, ks, training_seeds) -> tuple[list, list, list]:
    """The validated lists of models, latent dimensions and training seeds."""
    from landscape.training import MODELS as TRAINABLE

    models = list(models)
    unknown = [m for m in models if m not in TRAINABLE]
    if unknown or not models:
        raise ValueError(f"models must be a non-empty list from {', '.join(TRAINABLE)}; got {models}")
    if not ks or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1 or k > 64 for k in ks):
        raise ValueError(f"ks must be latent dimensions in 1..64 (integers); got {list(ks)}")
    if not training_seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0
                                 for s in training_seeds):
        raise ValueError(f"training_seeds must be a non-empty list of integers >= 0; got {list(training_seeds)}")
    return models, [int(k) for k in ks], [int(s) for s in training_seeds]


def run(models=MODELS, ks=(5, 10, 20), training_seeds=(0, 1, 2), trials: int = 300, T: int = 100, every: int = 40,
        layout: str = "infogan", dataset: str = "digits", hidden=None, lr: float = 0.01, tol: float = 1e-6, max_steps: int = 20_000,
        stall_window: int | None = 100, stall_tol: float = 1e-6, reset_moments: bool = False,
        budget_statistic: str = "p75_total", schedule: str = "harmonic", snapshot_every: int = 1,
        first_snapshot: int = 0, restarts: bool = False, converge_every_snapshot: bool = False, classify: bool = True,
        polish_limit: int | None = None, census_targets: int = 3, census_starts: int = 100,
        certify_failures: int = 0, certify_max_nodes: int | None = None, flows_dir=None, block: int | None = None, seed: int = 0, workers: int | None = None,
        journal: Path | None = None, progress: bool = False) -> CheckResult:
    """Table 1 on real training flows: every (model, k, training seed) cell is one trial of the runner.

    Parameters
    ----------
    models, ks, training_seeds
        The cells: every combination is trained (or read from the cache) and inverted ``trials`` times.
    T, every, layout, dataset, hidden
        Passed to :func:`landscape.training.train_flow`: ``dataset="mnist5k"`` and ``hidden=[1024, 128, 64]`` give the
        paper's 28×28 InfoGAN generator at its own widths (kept as operators, loaded lazily).
    lr, tol, max_steps, stall_window, stall_tol, reset_moments, budget_statistic, schedule, snapshot_every, first_snapshot
        The protocol's open choices (:mod:`proofs_check._protocol`); ``stall_window=None`` turns the stall rule off.
    restarts : bool
        Also run regular Adam with random restarts within surfing's steps, trial by trial.
    converge_every_snapshot : bool
        Also run surfing to convergence on every snapshot.
    classify : bool
        Classify failed runs exactly (:mod:`proofs_check._failures`), up to ``polish_limit`` per method and cell
        (None: every one).
    census_targets, census_starts : int
        Per cell, for this many of the trials' targets, regular Adam is run from ``census_starts`` further
        uniform starts and every end point polished: the census of distinct certified local minima it reaches
        (:func:`census`). 0 targets skips it.
    certify_failures : int
        Per cell, for this many failed trials (either method; the first ones), certify by branch and bound whether
        x* is the unique global minimiser of f on [−1, 1]^k (:func:`proofs_check._optimum.unique_minimiser`;
        small k only: at Table 1's k ≥ 5 the search is refused and recorded with its estimated size, unless
        ``certify_max_nodes`` is given). 0 skips it.
    certify_max_nodes : int, optional
        With ``certify_failures``: run each certificate up to this many sub-boxes (undecided where it runs out)
        instead of refusing one estimated beyond branch and bound's default limit of 100,000.
    flows_dir : path, optional
        The flow cache; default ``proofs_check/out/flows``.
    block : int, optional
        Invert each cell's trials in blocks of this many, each block saved on its own beside the journal
        (:mod:`proofs_check._stages`), so a cell that runs for hours (the paper's width) resumes mid-way; None:
        all of a cell's trials in one batch. Blocks run on the engine the whole cell would
        (:func:`landscape.descent.resolve_engine` of the cell's trials). Every later stage of a cell (σ_min, M_max, the failure classes, the
        census) is saved too, either way.
    seed, workers, journal, progress
        See :func:`proofs_check._runner.run_trials`; trial draws (x*, x_init) come from the seed, training
        seeds are fixed by ``training_seeds`` so cached flows are reused across runs.
    """
    models, ks, training_seeds = cells_of(models, ks, training_seeds)
    for name, value in (("trials", trials), ("T", T), ("every", every), ("census_starts", census_starts)):
        validate.positive_int(value, name)
    validate.positive_int(census_targets + 1, "census_targets + 1")
    if isinstance(certify_failures, bool) or not isinstance(certify_failures, (int, np.integer)) or certify_failures < 0:
        raise ValueError(f"certify_failures must be an integer >= 0 (failed trials per cell); got {certify_failures!r}")
    for name, value in (("polish_limit", polish_limit), ("block", block), ("certify_max_nodes", certify_max_nodes)):
        if value is not None:
            validate.positive_int(value, name)
    for name, value in (("restarts", restarts), ("converge_every_snapshot", converge_every_snapshot),
                        ("classify", classify)):
        validate.boolean(value, name)
    protocol = _protocol.validated(T, lr=lr, tol=tol, max_steps=max_steps, stall_window=stall_window,
                                   stall_tol=stall_tol, reset_moments=reset_moments, budget_statistic=budget_statistic,
                                   schedule=schedule, snapshot_every=snapshot_every, first_snapshot=first_snapshot)
    if layout not in ("infogan", "mlp"):
        raise ValueError(f"layout must be 'infogan' or 'mlp'; got {layout!r}")
    hidden = checked_hidden(hidden)
    if flows_dir is None:
        flows_dir = Path(__file__).parent / "out" / "flows"
    cells = [[m, k, s] for m in models for k in ks for s in training_seeds]
    settings = {"cells": cells, "trials_per_cell": int(trials), "T": int(T), "every": int(every), "layout": layout,
                "dataset": str(dataset), "protocol": protocol, "restarts": restarts,
                "converge_every_snapshot": converge_every_snapshot, "classify": classify, "polish_limit": polish_limit,
                "census_targets": int(census_targets), "census_starts": int(census_starts), "flows_dir": str(flows_dir)}
    if hidden is not None:  # only then: journals of the default generator keep their settings
        settings["hidden"] = hidden
    if block is not None:  # likewise
        settings["block"] = int(block)
    if certify_failures:  # likewise
        settings["certify_failures"] = int(certify_failures)
    if certify_max_nodes is not None:
        if not certify_failures:
            raise ValueError("certify_max_nodes needs certify_failures > 0 (the certificates it limits)")
        settings["certify_max_nodes"] = int(certify_max_nodes)
    records = run_trials(_trial, len(cells), seed, settings, workers, journal, "table1" if progress else None,
                         costs=[k for _, k, _ in cells])  # larger latents take longer to converge and to polish
    summaries = [_setting_summary(m, k, [r for r in records if r["model"] == m and r["k"] == k])
                 for m in models for k in ks]
    better = [s for s in summaries if s["verdict"] == "surfing better"]
    worse = [s for s in summaries if s["verdict"] == "regular better"]
    holds = bool(better) and not worse
    lines = "; ".join(
        f"{s['model']} k={s['k']}: regular {100 * s['regular_rate']:.1f} % {interval_text(s['regular_ci95'])} → "
        f"surfing {100 * s['surfing_rate']:.1f} % {interval_text(s['surfing_ci95'])} (McNemar p = {s['mcnemar_p']:.2g}, "
        f"{s['verdict']}"
        + (f"; paper {s['paper']['regular_percent']} → {s['paper']['surfing_percent']}" if "paper" in s else "") + ")"
        for s in summaries)
    n_cells = len(summaries)
    verdict = (
        f"Surfing was significantly better than regular Adam in {len(better)} of {n_cells} settings, regular Adam "
        f"significantly better in {len(worse)}, no significant difference in {n_cells - len(better) - len(worse)} "
        f"({len(training_seeds)} training seed(s) × {trials} trials per setting; {data_description(dataset)}): "
        f"{lines}. "
        + ("The paper's qualitative claim (surfing at least as good, often better) reproduces here."
           if holds else "The paper's qualitative claim does not reproduce in every setting here.")
    )
    return CheckResult(check="table1", claim=CLAIM, settings=settings, seed=seed,
                       statistics={"per_setting": summaries}, holds=holds, verdict=verdict, records=records)


def quick(seed: int = 0, workers: int | None = None, journal: Path | None = None, progress: bool = False,
          flows_dir=None) -> CheckResult:
    """Two models, k = 5, one training seed, 30 trials, T = 25 snapshots every 40 updates, a census of 30 starts
    for one target per cell (about a minute on 2 cores, training included)."""
    return run(models=("dcgan", "wgangp"), ks=(5,), training_seeds=(0,), trials=30, T=25, every=40, census_targets=1,
               census_starts=30, seed=seed, workers=workers, journal=journal, progress=progress, flows_dir=flows_dir)
