"""The benchmark functions on tiny sizes: they run, and return figures with the expected keys and sane values.

No assertion here compares a timing with a target: speed targets live in ``pva bench``, never in timed tests
(a busy CI machine would make them flaky).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import Settings
from assistant.services import get_services
from evals import bench, bench_data, bench_report, bench_start, processes

QUERIES = bench_data.bench_questions(6)
QUESTIONS_FILE = Path(__file__).parents[1] / "evals" / "datasets" / "questions.jsonl"


def _sane(stats: dict) -> None:
    assert stats["n"] > 0
    assert 0 < stats["min"] <= stats["p50"] <= stats["p95"] <= stats["max"]


def test_percentiles() -> None:
    stats = processes.percentiles([float(n) for n in range(1, 101)])
    assert stats["p50"] == pytest.approx(50.5)
    assert stats["p95"] == pytest.approx(95.05)
    assert stats["n"] == 100
    with pytest.raises(ValueError):
        processes.percentiles([])


def test_process_cpu_seconds_reads_the_process_own_clock() -> None:
    sum(i * i for i in range(2_000_000))  # some CPU time to read
    read, own = processes.process_cpu_seconds(os.getpid()), time.process_time()
    assert read is not None and abs(read - own) < 0.2  # the same clock, read from /proc (ticks of 10 ms)
    assert processes.process_cpu_seconds(2**22 + 1) is None  # above Linux's pid limit: no such process


def test_questions_come_from_the_eval_dataset() -> None:
    rows = [json.loads(line) for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    facts = [row["question"] for row in rows if row["kind"] == "fact"]
    assert len(facts) > 10
    assert bench_data.bench_questions(10, kinds=("fact",)) == facts[:10]
    assert bench_data.bench_questions() == [row["question"] for row in rows]


def test_synthetic_chunks_look_like_ingested_ones() -> None:
    chunks = bench_data.SyntheticChunks(seed=3)
    ids, vectors, texts, metadatas = chunks.next_batch(250)
    more_ids, *_ = chunks.next_batch(10)
    assert len(set(ids + more_ids)) == 260
    assert vectors.shape == (250, bench_data.EMBEDDING_DIM)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert all(len(t.split()) > 20 for t in texts)
    contract = {"doc_id", "title", "source", "section", "position", "start", "end", "hash"}
    assert all(contract <= set(m) for m in metadatas)
    assert len({m["doc_id"] for m in metadatas}) == 3  # 100 chunks a document
    assert bench_data.SyntheticChunks(seed=3).next_batch(5)[0] == ids[:5]  # deterministic


def test_bench_scale_on_a_tiny_store(corpus_settings: Settings, tmp_path: Path) -> None:
    corpus_chunks = get_services(corpus_settings).store.count()
    rows = bench.bench_scale(corpus_settings, tmp_path, [200], queries=QUERIES)
    assert [row["size"] for row in rows] == [corpus_chunks, 200]
    for row in rows:
        assert row["chunks"] == row["size"] == row["bm25"]["chunks"]
        for mode in ("hybrid", "dense", "bm25"):
            _sane(row[f"{mode}_ms"])
        _sane(row["bm25"]["query_ms"])
        assert row["bm25"]["build_seconds"] > 0 and row["bm25"]["load_seconds"] > 0
    assert rows[1]["write_chunks_per_s"] > 0
    # The store is a real one: hybrid search still finds the corpus answer among the filler.
    grown = corpus_settings.model_copy(update={"data_dir": tmp_path / "scale-embedded"})
    from assistant.retrieval import search

    hits = search("When was the Social Value Act introduced?", grown, k=5)
    assert "social-value-act-and-model" in {h.doc_id for h in hits}


def test_copied_chunks_keep_their_text_vectors(corpus_settings: Settings, tmp_path: Path) -> None:
    copy = corpus_settings.model_copy(update={"data_dir": tmp_path / "copy"})
    source, target = get_services(corpus_settings).store, get_services(copy).store
    ids = source.all_ids()
    assert bench_data.copy_chunks(corpus_settings, copy) == len(ids) > 0
    texts, vectors = source.text_vectors(ids)
    copied_texts, copied_vectors = target.text_vectors(ids)
    assert len(texts) > len(ids)
    assert sorted(copied_texts) == sorted(texts)
    order = {text: row for row, text in enumerate(copied_texts)}
    assert np.allclose(vectors, copied_vectors[[order[text] for text in texts]])
    for doc in {meta["doc_id"] for meta in source.get(include=["metadatas"]).metadatas}:
        assert target.text_rows(doc) == source.text_rows(doc)  # same rows: an ingest into the copy keeps them


def test_bench_answers_extractive(corpus_settings: Settings) -> None:
    figures = bench.bench_answers(corpus_settings, "extractive", bench_data.bench_questions(4, kinds=("fact",)))
    assert figures["questions"] == 4 and figures["warmup_seconds"] > 0
    _sane(figures["total_ms"])
    _sane(figures["first_token_ms"])
    assert "tokens_per_s" not in figures  # the extractive answer arrives in one piece


def test_bench_ingest_small(settings: Settings) -> None:
    figures = bench.bench_ingest(settings, synthetic_mb=0.02)
    assert figures["corpus_chunks"] > 0 and figures["corpus_chunks_per_s"] > 0
    assert figures["reingest_unchanged_written"] == 0 and figures["reingest_unchanged_seconds"] > 0
    assert figures["synthetic_chunks"] > 0 and figures["synthetic_chunks_per_s"] > 0
    assert figures["peak_rss_mb"] > 0


def test_every_start_up_row_is_listed_even_when_not_measured() -> None:
    targets = {t["target"]: t for t in bench_report.check_targets({})}
    for name in (
        "cold start to first answer (index present) (extractive)",
        "app peak RSS (extractive)",
        "ingest chunks/s (corpus)",
        "`pva ask` in a new process, index built (local)",
    ):
        assert targets[name]["met"] is None and targets[name]["value"] is None


def test_targets_and_summary_rows() -> None:
    stats = {"p50": 10.0, "p95": 20.0, "mean": 12.0, "min": 5.0, "max": 30.0, "n": 5}
    figures = {
        "ingest": {
            "embedding_load_seconds": 1.0,
            "corpus_chunks": 20,
            "corpus_chunks_per_s": 100.0,
            "corpus_seconds": 0.2,
            "reingest_unchanged_seconds": 0.01,
        },
        "scale": [
            {"store": "embedded", "size": 100_000, "hybrid_ms": stats, "dense_ms": stats, "bm25_ms": stats},
            {"store": "server", "size": 100_000, "hybrid_ms": {**stats, "p50": 40.0}},
        ],
        "answers": {"extractive": {"total_ms": stats, "warmup_seconds": 1.0}, "local": {"skipped": "no model"}},
        "cold_start": {"extractive_indexed": {"skipped": "no app"}},
    }
    targets = {t["target"]: t for t in bench_report.check_targets(figures)}
    assert targets["ingest chunks/s (corpus)"]["met"] is True
    assert targets["hybrid retrieval p50 at 100k chunks (embedded)"]["met"] is True
    assert targets["hybrid retrieval p50 at 100k chunks (server)"]["met"] is False
    assert targets["extractive answer p50"]["met"] is True
    assert targets["bundled model tokens/s (p50)"]["met"] is None  # skipped: not measured, not failed
    assert targets["`pva --help` wall time (p50)"]["met"] is None
    rows = bench_report.summary_rows(figures)
    assert ("answers", "local", "skipped: no model") in rows
    assert any(section == "scale" and "hybrid" in name for section, name, _ in rows)
    assert bench_report.rounded({"a": [1.23456, {"b": 2.0001}]}) == {"a": [1.235, {"b": 2.0}]}


def test_pva_bench_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--sizes",
            "150",
            "--skip-server",
            "--skip-local",
            "--skip-cold-start",
            "--skip-startup",
            "--synthetic-mb",
            "0",
            "--queries",
            "4",
            "--answers",
            "2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert {"machine", "ingest", "scale", "answers", "targets", "peak_rss_mb"} <= set(figures)
    assert [row["size"] for row in figures["scale"]][-1] == 150
    assert "local" not in figures["answers"] and not {"cold_start", "cli", "cold_ask", "sessions"} & set(figures)
    assert "Targets" in result.output


@pytest.mark.slow
def test_bench_cold_start_answers(tmp_path: Path, settings: Settings) -> None:
    figures = bench.bench_cold_start(settings, tmp_path, backend="extractive", indexed=True)
    assert "skipped" not in figures, figures
    assert 0 < figures["ready_seconds"] <= figures["first_answer_seconds"]
    assert figures["warm_answer_ms"] > 0 and figures["peak_rss_mb"] > 0


def test_pva_bench_ingest_only_prints_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--ingest-only", "--synthetic-mb", "0", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["ingest"]["corpus_chunks"] > 0 and figures["ingest"]["corpus_chunks_per_s"] > 0
    assert figures["scale"] == [] and figures["answers"] == {} and "cold_start" not in figures
    assert {t["target"] for t in figures["targets"] if t["met"] is not None} == {"ingest chunks/s (corpus)"}


def test_start_up_targets_are_issue_14s_rows() -> None:
    def ms(p50: float) -> dict:
        return {"p50": p50, "p95": p50, "mean": p50, "min": p50, "max": p50, "n": 1}

    def app(first_answer: float, rss: float) -> dict:
        return {"ready_seconds": 1.0, "first_answer_seconds": first_answer, "warm_answer_ms": 9.0, "peak_rss_mb": rss}

    figures = {
        "cli": {"help_ms": ms(400.0)},
        "cold_ask": {"extractive": {"seconds": 4.0, "timings_ms": {"total": 50.0}}, "local": {"skipped": "no extra"}},
        "cold_start": {"extractive_indexed": app(9.0, 650.0), "local_indexed": app(12.0, 900.0)},
        "sessions": {"sessions": 20, "cold_ms": ms(3500.0), "warm_ms": ms(900.0), "errors": 0, "peak_rss_mb": 680.0},
        "install": {"install_seconds": 200.0, "index_seconds": 20.0, "run_seconds": 220.0},
    }
    targets = {t["target"]: t for t in bench_report.check_targets(figures)}
    assert targets["`pva --help` wall time (p50)"]["value"] == pytest.approx(0.4)
    assert targets["`pva --help` wall time (p50)"]["met"] is True
    assert targets["`pva ask` in a new process, index built (extractive)"]["met"] is False
    assert targets["`pva ask` in a new process, index built (local)"]["met"] is None
    assert targets["cold start to first answer (index present) (extractive)"]["met"] is True
    assert targets["cold start to first answer (index present) (local)"]["met"] is False
    rss = targets["app peak RSS (extractive)"]
    assert rss["value"] == 680.0 and rss["met"] is True  # the local app's 900 MB is not the extractive app's
    assert targets["20 sessions at once right after the app is ready (p50)"]["met"] is False
    assert targets["fresh install + first index (`make run` before it serves)"]["met"] is True
    rows = bench_report.summary_rows(figures)
    assert ("start-up", "`pva ask` cold (local)", "skipped: no extra") in rows
    assert {("sessions", "20 at once, cold"), ("install", "fresh `make install` + first index")} <= {
        (section, name) for section, name, _ in rows
    }


def test_bench_cli_start(tmp_path: Path) -> None:
    _sane(bench_start.bench_cli_start(tmp_path, repeats=2)["help_ms"])


@pytest.mark.slow
def test_bench_cold_ask_extractive(tmp_path: Path, settings: Settings) -> None:
    figures = bench_start.bench_cold_ask(settings, tmp_path, ("extractive",))
    assert "skipped" not in figures["extractive"], figures
    seconds = figures["extractive"]["seconds"]
    assert 0 < figures["extractive"]["timings_ms"]["total"] / 1000 < seconds
    assert figures["extractive"]["cpu_seconds"] > 0  # the child's CPU time, not this process's


@pytest.mark.slow
def test_bench_sessions_at_once(tmp_path: Path, settings: Settings) -> None:
    figures = bench_start.bench_sessions(settings, tmp_path, sessions=3)
    assert "skipped" not in figures, figures
    assert figures["errors"] == 0 and figures["cold_ms"]["n"] == figures["warm_ms"]["n"] == 3
    assert figures["peak_rss_mb"] > 0 and figures["ready_seconds"] > 0
