"""The benchmark figures against their targets, as table rows for ``pva bench``, and rounded for JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """One target from the hardening issue: a figure, the limit, and whether lower or higher is better."""

    name: str
    limit: float
    unit: str
    higher_is_better: bool = False


TARGETS = {
    "cli": Target("`pva --help` wall time (p50)", 0.5, "s"),
    "ask_extractive": Target("`pva ask` in a new process, index built (extractive)", 3, "s"),
    "ask_local": Target("`pva ask` in a new process, index built (local)", 8, "s"),
    "cold_start": Target("cold start to first answer (index present)", 10, "s"),
    "ingest": Target("ingest chunks/s (corpus)", 40, "chunks/s", higher_is_better=True),
    "ingest_synthetic": Target("ingest chunks/s (synthetic text)", 40, "chunks/s", higher_is_better=True),
    "install": Target("fresh install + first index (`make run` before it serves)", 300, "s"),
    "rss": Target("app peak RSS (extractive)", 700, "MB"),
    "sessions": Target("20 sessions at once right after the app is ready (p50)", 3, "s"),
    "retrieval": Target("hybrid retrieval p50 at 100k chunks", 25, "ms"),
    "extractive": Target("extractive answer p50", 150, "ms"),
    "local_rate": Target("bundled model tokens/s (p50)", 90, "tokens/s", higher_is_better=True),
    "local_first": Target("bundled model first token p50", 1500, "ms"),
}
"""Issue 14's table first (start-up, install, memory, sessions), then the warm figures of the hardening issue."""


def _dig(figures: dict[str, Any], *path: str) -> Any:
    value: Any = figures
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _seconds(ms: Any) -> float | None:
    return ms / 1000 if isinstance(ms, int | float) else None


def _start_measured(figures: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Issue 14's rows: (target key, where, value) for the figures measured in new processes."""
    measured: list[tuple[str, str, Any]] = [("cli", "", _seconds(_dig(figures, "cli", "help_ms", "p50")))]
    for backend in ("extractive", "local"):
        measured.append((f"ask_{backend}", "", _dig(figures, "cold_ask", backend, "seconds")))
    cold = figures.get("cold_start") or {}
    for key in ("extractive_indexed", "local_indexed"):
        if key in cold:
            measured.append(("cold_start", key.split("_")[0], _dig(cold, key, "first_answer_seconds")))
    if "extractive_indexed" not in cold:  # the row stays in the table, as not measured
        measured.append(("cold_start", "extractive", None))
    measured += [
        ("ingest", "", _dig(figures, "ingest", "corpus_chunks_per_s")),
        ("ingest_synthetic", "", _dig(figures, "ingest", "synthetic_chunks_per_s")),
        ("install", "", _dig(figures, "install", "run_seconds")),
    ]
    apps = [v for k, v in cold.items() if k.startswith("extractive")] + [figures.get("sessions") or {}]
    rss = [v["peak_rss_mb"] for v in apps if isinstance(v, dict) and v.get("peak_rss_mb")]
    measured.append(("rss", "", max(rss) if rss else None))
    measured.append(("sessions", "", _seconds(_dig(figures, "sessions", "cold_ms", "p50"))))
    return measured


def check_targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it was met (``None`` when the figure was not measured)."""
    measured = _start_measured(figures)
    for row in figures.get("scale", []):
        if row["size"] == 100_000:
            measured.append(("retrieval", row["store"], _dig(row, "hybrid_ms", "p50")))
    measured += [
        ("extractive", "", _dig(figures, "answers", "extractive", "total_ms", "p50")),
        ("local_rate", "", _dig(figures, "answers", "local", "tokens_per_s", "p50")),
        ("local_first", "", _dig(figures, "answers", "local", "first_token_ms", "p50")),
    ]
    results = []
    for key, where, value in measured:
        target = TARGETS[key]
        met = None
        if isinstance(value, int | float):
            met = value >= target.limit if target.higher_is_better else value <= target.limit
        results.append(
            {
                "target": target.name + (f" ({where})" if where else ""),
                "limit": f"{'≥' if target.higher_is_better else '≤'} {target.limit:g} {target.unit}",
                "value": value,
                "unit": target.unit,
                "met": met,
            }
        )
    return results


def _ms(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "—"
    return f"p50 {stats['p50']:.1f} · p95 {stats['p95']:.1f} ms"


def _cpu(seconds: Any) -> str:
    return f" ({seconds:.1f} CPU-s)" if isinstance(seconds, int | float) else ""


def summary_rows(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The figures as ``(section, figure, value)`` rows, for a table on screen."""
    rows: list[tuple[str, str, str]] = []
    ingest = figures.get("ingest") or {}
    if ingest:
        rows.append(("ingest", "embedding model load", f"{ingest['embedding_load_seconds']:.1f} s"))
        rows.append(
            (
                "ingest",
                f"corpus ({ingest['corpus_chunks']} chunks)",
                f"{ingest['corpus_chunks_per_s']:.1f} chunks/s · {ingest['corpus_seconds']:.1f} s"
                f"{_cpu(ingest.get('corpus_cpu_seconds'))}",
            )
        )
        rows.append(("ingest", "re-ingest unchanged corpus", f"{ingest['reingest_unchanged_seconds']:.2f} s"))
        if "synthetic_chunks" in ingest:
            rows.append(
                (
                    "ingest",
                    f"synthetic {ingest['synthetic_mb']:g} MB ({ingest['synthetic_chunks']} chunks)",
                    f"{ingest['synthetic_chunks_per_s']:.1f} chunks/s · {ingest['synthetic_seconds']:.1f} s"
                    f"{_cpu(ingest.get('synthetic_cpu_seconds'))}",
                )
            )
    for row in figures.get("scale", []):
        where = f"{row['store']} @ {row['size']:,}"
        if "write_chunks_per_s" in row:
            rows.append(("scale", f"{where}: write", f"{row['write_chunks_per_s']:.0f} chunks/s"))
        rows.append(("scale", f"{where}: hybrid search", _ms(row.get("hybrid_ms"))))
        rows.append(("scale", f"{where}: dense search", _ms(row.get("dense_ms"))))
        rows.append(("scale", f"{where}: bm25 search", _ms(row.get("bm25_ms"))))
        bm25 = row.get("bm25") or {}
        if bm25:
            rows.append(
                (
                    "scale",
                    f"{where}: BM25 index",
                    f"build {bm25['build_seconds']:.2f} s (read {bm25['read_seconds']:.2f}) · "
                    f"load {bm25['load_seconds']:.2f} s · query {_ms(bm25['query_ms'])}",
                )
            )
    if figures.get("chroma_server_peak_rss_mb"):
        rows.append(("scale", "Chroma server peak RSS", f"{figures['chroma_server_peak_rss_mb']:.0f} MB"))
    for backend, answer in (figures.get("answers") or {}).items():
        if "skipped" in answer:
            rows.append(("answers", backend, f"skipped: {answer['skipped']}"))
            continue
        value = f"total {_ms(answer['total_ms'])}"
        if "first_token_ms" in answer:
            value += f" · first token {_ms(answer['first_token_ms'])}"
        if "tokens_per_s" in answer:
            value += f" · {answer['tokens_per_s']['p50']:.0f} tokens/s"
        if "prompt_tokens" in answer:
            value += f" · prompt p50 {answer['prompt_tokens']['p50']:.0f} tokens"
        rows.append(("answers", f"{backend} (warm-up {answer['warmup_seconds']:.1f} s)", value))
    for key, cold in (figures.get("cold_start") or {}).items():
        if "skipped" in cold:
            rows.append(("cold start", key, f"skipped: {cold['skipped']}"))
            continue
        rss = f" · peak RSS {cold['peak_rss_mb']:.0f} MB" if cold.get("peak_rss_mb") else ""
        rows.append(
            (
                "cold start",
                key,
                f"ready {cold['ready_seconds']:.1f} s · first answer {cold['first_answer_seconds']:.1f} s"
                f"{_cpu(cold.get('first_answer_cpu_seconds'))} · "
                f"warm answer {cold['warm_answer_ms']:.0f} ms{rss}",
            )
        )
    rows += _start_rows(figures)
    if "peak_rss_mb" in figures:
        rows.append(("memory", "bench process peak RSS", f"{figures['peak_rss_mb']:.0f} MB"))
    return rows


def _start_rows(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Rows for the figures measured in new processes: the CLI, cold asks, sessions, a fresh install."""
    rows: list[tuple[str, str, str]] = []
    if figures.get("cli"):
        rows.append(("start-up", "`pva --help`", _ms(figures["cli"]["help_ms"])))
    for backend, ask in (figures.get("cold_ask") or {}).items():
        if "skipped" in ask:
            rows.append(("start-up", f"`pva ask` cold ({backend})", f"skipped: {ask['skipped']}"))
            continue
        parts = " · ".join(f"{k} {v:.0f}" for k, v in ask["timings_ms"].items() if isinstance(v, int | float))
        value = f"{ask['seconds']:.1f} s{_cpu(ask.get('cpu_seconds'))} (answer ms: {parts})"
        rows.append(("start-up", f"`pva ask` cold ({backend})", value))
    sessions = figures.get("sessions") or {}
    if "skipped" in sessions:
        rows.append(("sessions", "at once after ready", f"skipped: {sessions['skipped']}"))
    elif sessions:
        for phase in ("cold", "warm"):
            if f"{phase}_ms" in sessions:
                rows.append(("sessions", f"{sessions['sessions']} at once, {phase}", _ms(sessions[f"{phase}_ms"])))
        rss = f"{sessions['peak_rss_mb']:.0f} MB" if sessions.get("peak_rss_mb") else "—"
        rows.append(("sessions", "errors · app peak RSS", f"{sessions['errors']} · {rss}"))
    install = figures.get("install") or {}
    if "skipped" in install:
        rows.append(("install", "fresh `make install`", f"skipped: {install['skipped']}"))
    elif install:
        rows.append(
            (
                "install",
                "fresh `make install` + first index",
                f"{install['install_seconds']:.0f} + {install['index_seconds']:.0f} s",
            )
        )
    return rows


def rounded(value: Any, digits: int = 3) -> Any:
    """``value`` with every float rounded, for a readable JSON file."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value
