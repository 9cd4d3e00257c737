"""Print the table of current eval figures in docs/evaluation.md from the committed baselines.

    python -m evals.figures            # Markdown table of evals/baseline-extractive.json and baseline-local.json

Generated rather than copied by hand, so the docs show what the baselines actually hold.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from evals import metrics as m
from evals.gate import load_baseline
from evals.report import METRICS, fmt, metric_unit

EVALS_DIR = Path(__file__).parent


def figures_table(backends: Sequence[str] = ("extractive", "local")) -> str:
    """The Markdown table, one column per backend whose baseline exists."""
    columns = []
    for backend in backends:
        path = EVALS_DIR / f"baseline-{backend}.json"
        if not path.exists():
            continue
        data = load_baseline(path)
        flat = m.flatten({**data["summary"], "checker": data["checker"]["metrics"], "drafts": data["drafts"]})
        meta = data["meta"]
        drafts = int(data["drafts"].get("n", 0)) if data["drafts"].get("status") == "ok" else 0
        label = f"{backend} ({meta['cases']} questions{f', {drafts} drafts' if drafts else ''})"
        columns.append((label, flat))
    lines = ["| metric | " + " | ".join(label for label, _ in columns) + " |"]
    lines.append("| --- |" + " --- |" * len(columns))
    for metric, label in METRICS:
        if all(flat.get(metric) is None for _, flat in columns):
            continue  # e.g. the optional judge, when no baseline used one
        lines.append(
            f"| {label} | " + " | ".join(fmt(flat.get(metric), metric_unit(metric)) for _, flat in columns) + " |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(figures_table(sys.argv[1:] or ("extractive", "local")))
