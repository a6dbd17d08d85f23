"""What a figure module hands back, and the REPORT.md written from all of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from landscape import jsonsafe

RESULTS = Path(__file__).resolve().parents[1] / "results"
"""The recorded journals behind the README's full-scale numbers (``results/`` of the repository; absent from an
installed package)."""


@dataclass
class Measured:
    """What a figure module measures, before anything is drawn (no matplotlib needed): the report's fields, and in
    ``data`` what the drawing needs beyond them (check results, arrays)."""

    name: str
    title: str
    claim: str
    settings: dict
    measurements: dict
    verdict: str
    notes: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)


@dataclass
class FigureResult:
    """One figure: its files, the paper's claim it illustrates, the settings run, what was
    measured, and a verdict in words. ``measurements`` values must be JSON-serialisable."""

    name: str
    title: str
    files: list[Path]
    claim: str
    settings: dict
    measurements: dict
    verdict: str
    notes: list[str] = field(default_factory=list)


def figure_result(measured: Measured, files: list[Path]) -> FigureResult:
    """A figure's report entry: its measurements and the files drawn from them."""
    return FigureResult(measured.name, measured.title, list(files), measured.claim, measured.settings,
                        measured.measurements, measured.verdict, list(measured.notes))


def _flatten(mapping: dict, prefix: str = "") -> list[tuple[str, object]]:
    """Nested dictionaries as labelled rows: ``{"vae": {"M(0)": 4.1}}`` -> ``("vae / M(0)", 4.1)``."""
    rows = []
    for key, value in mapping.items():
        label = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += _flatten(value, f"{label} / ")
        else:
            rows.append((label, value))
    return rows


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_shown(v) for v in value) if value else "none"
    return str(value)


def _markdown_table(mapping: dict) -> str:
    lines = ["| quantity | value |", "|---|---|"]
    lines += [f"| {label} | {_shown(value)} |" for label, value in _flatten(mapping)]
    return "\n".join(lines)


def _first_sentence(text: str) -> str:
    """Up to the first full stop that ends a sentence (not one inside a number such as 0.01)."""
    for i, character in enumerate(text):
        if character == "." and (i + 1 == len(text) or text[i + 1] == " ") and not text[:i].endswith(ABBREVIATIONS):
            return text[: i + 1]
    return text


ABBREVIATIONS = ("eq", "e.g", "i.e", "cf", "vs", "Fig")


def _summary(results: list[FigureResult]) -> str:
    """One row per figure: what it reproduces and the first sentence of its verdict (details below)."""
    lines = ["## Summary", "", "| figure | verdict (first sentence; details in its section) |", "|---|---|"]
    lines += [f"| [{r.title}](#{r.name}) | {_first_sentence(r.verdict).replace('|', '/')} |" for r in results]
    return "\n".join(lines) + "\n"


def write_report(results: list[FigureResult], out_dir: Path, header: str) -> Path:
    """Write ``REPORT.md`` (one section per figure) and ``results.json`` beside the figures."""
    sections = [f"# landscape — report\n\n{header}\n", _summary(results)]
    for r in results:
        images = "\n".join(f"![{r.title}]({Path(f).name})" for f in r.files if str(f).endswith(".png"))
        notes = "".join(f"\n- {n}" for n in r.notes)
        sections.append(
            f'<a id="{r.name}"></a>\n\n'
            f"## {r.title}\n\n**Claim.** {r.claim}\n\n**Settings.**\n\n{_markdown_table(r.settings)}\n\n"
            f"**Measured.**\n\n{_markdown_table(r.measurements)}\n\n**Verdict.** {r.verdict}\n"
            + (f"\n**Notes.**{notes}\n" if notes else "")
            + f"\n{images}\n"
        )
    path = out_dir / "REPORT.md"
    path.write_text("\n".join(sections))
    payload = [
        {"name": r.name, "title": r.title, "files": [Path(f).name for f in r.files], "settings": r.settings,
         "measurements": r.measurements, "verdict": r.verdict}
        for r in results
    ]
    (out_dir / "results.json").write_text(jsonsafe.dumps(payload, indent=2))
    return path
