"""What a figure module hands back, and the REPORT.md written from all of them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


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


def _markdown_table(mapping: dict) -> str:
    lines = ["| quantity | value |", "|---|---|"]
    for key, value in mapping.items():
        shown = f"{value:.4g}" if isinstance(value, float) else json.dumps(value) if isinstance(value, (list, dict)) else value
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)


def write_report(results: list[FigureResult], out_dir: Path, header: str) -> Path:
    """Write ``REPORT.md`` (one section per figure) and ``results.json`` beside the figures."""
    sections = [f"# landscape — report\n\n{header}\n"]
    for r in results:
        images = "\n".join(f"![{r.title}]({Path(f).name})" for f in r.files if str(f).endswith(".png"))
        notes = "".join(f"\n- {n}" for n in r.notes)
        sections.append(
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
    (out_dir / "results.json").write_text(json.dumps(payload, indent=2))
    return path
