"""One call behind ``pva eval``: index, run, gate, write the JSON and HTML report, optionally a baseline.

Kept out of :mod:`assistant.cli` so the command stays a thin wrapper and tests can drive the whole suite
without a subprocess.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from evals.dataset import DRAFTS, QUESTIONS, DocumentSpec, load_documents
from evals.documents import ingest_distractors, upload_documents
from evals.gate import THRESHOLDS, apply_gate, load_baseline, load_thresholds, make_baseline
from evals.report import METRICS, fmt, metric_unit, render_html
from evals.results import CaseResult, EvalResult
from evals.runner import ensure_corpus_index, eval_settings, load_cases, run_eval

DEFAULT_PAIRS = Path(__file__).parent / "datasets" / "grounding_pairs.jsonl"


@dataclass
class SuiteOptions:
    """The options of ``pva eval`` (see its ``--help``)."""

    backend: str | None = None
    datasets: Sequence[Path] = field(default_factory=lambda: [QUESTIONS, DRAFTS])
    out: Path | None = None
    baseline: Path | None = None
    thresholds: Path = THRESHOLDS
    write_baseline: Path | None = None
    limit: int | None = None
    k: int | None = None
    judge: str | None = None
    pairs: Path | None = DEFAULT_PAIRS
    drafts: bool = True
    corpus_index: bool = True
    distractors: bool = False
    llm: Any = None


@dataclass(frozen=True)
class SuiteOutcome:
    """The result, where it was written, and whether the gate passed."""

    result: EvalResult
    json_path: Path
    html_path: Path
    baseline_written: Path | None
    passed: bool


def default_out_dir(settings: Settings, backend: str) -> Path:
    """``<data_dir>/reports/eval-<backend>-<UTC timestamp>``: every run keeps its own report."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return Path(settings.data_dir) / "reports" / f"eval-{backend}-{stamp}"


def write_outputs(result: EvalResult, out_dir: Path) -> tuple[Path, Path]:
    """Write ``results.json`` and ``report.html`` into ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "results.json"
    html_path = out_dir / "report.html"
    json_path.write_text(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=1), encoding="utf-8")
    html_path.write_text(render_html(result), encoding="utf-8")
    return json_path, html_path


def index_name(documents: bool, distractors: bool) -> str:
    """The eval index's folder: the bundled corpus alone, or with uploaded documents and/or distractors.

    Each mix keeps its own index, so the bundled set's figures do not move when another set uploads documents,
    and a rerun with the same data dir finds its chunks already embedded.
    """
    return "index" + ("-documents" if documents else "") + ("-distractors" if distractors else "")


def prepare_index(options: SuiteOptions, settings: Settings, documents: Sequence[DocumentSpec]) -> Settings:
    """The index to evaluate: the data dir's own (``corpus_index`` off) or an eval index holding the corpus."""
    if not options.corpus_index:
        return settings
    index = eval_settings(settings, index_name(bool(documents), options.distractors))
    ensure_corpus_index(index)
    return index


def run_suite(
    options: SuiteOptions, settings: Settings, on_case: Callable[[CaseResult], None] | None = None
) -> SuiteOutcome:
    """Index the corpus (unless told to use the live index) and the datasets' documents, run, gate, write."""
    backend = options.backend or ("fake" if options.llm is not None else settings.chat_backend)
    questions, drafts = load_cases(options.datasets)
    thresholds = load_thresholds(backend, options.thresholds)
    baseline = load_baseline(options.baseline) if options.baseline else None
    documents = [spec for path in options.datasets for spec in load_documents(path)]
    index = prepare_index(options, settings, documents)
    uploaded = upload_documents(documents, index)
    distractors = ingest_distractors(index) if options.distractors else None
    result = run_eval(
        questions,
        index,
        backend,
        drafts=drafts if options.drafts else (),
        k=options.k,
        llm=options.llm,
        judge=options.judge,
        pairs=options.pairs,
        limit=options.limit,
        rules=thresholds["case"],
        on_case=on_case,
    )
    result.meta["datasets"] = [str(p) for p in options.datasets]
    result.meta["documents"] = uploaded
    result.meta["distractors"] = distractors
    result.meta["thresholds"] = str(options.thresholds)
    passed = apply_gate(result, thresholds, baseline, str(options.baseline) if options.baseline else None)
    json_path, html_path = write_outputs(result, options.out or default_out_dir(settings, backend))
    written = None
    if options.write_baseline:
        options.write_baseline.parent.mkdir(parents=True, exist_ok=True)
        options.write_baseline.write_text(
            json.dumps(make_baseline(result), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        written = options.write_baseline
    return SuiteOutcome(result, json_path, html_path, written, passed)


def summary_rows(result: EvalResult) -> list[tuple[str, str, str, str]]:
    """(label, value, threshold, change vs baseline) rows for the terminal table."""
    flat = result.flat_metrics()
    limits = {row["metric"]: row for row in result.gate.get("thresholds", [])}
    deltas = (result.gate.get("comparison") or {}).get("metrics", {})
    rows = []
    for metric, label in METRICS:
        unit = metric_unit(metric)
        value, row = flat.get(metric), limits.get(metric)
        if value is None and row is None:
            continue  # not produced by this run (no judge, drafting skipped) and not gated
        limit = "" if row is None else f"{'≥' if row['bound'] == 'min' else '≤'} {row['limit']:g} ({row['status']})"
        delta = deltas.get(metric, {}).get("delta")
        change = "" if delta is None else f"{delta:+.1%}" if unit == "share" else f"{delta:+,.0f}"
        rows.append((label, fmt(value, unit), limit, change))
    return rows
