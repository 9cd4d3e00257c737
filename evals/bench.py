"""Benchmarks: speed and memory figures printed by ``pva bench``. Never used as timed tests.

Every figure is measured through the production code paths, so it says what a user will see:

* **ingest**: :func:`ingest.ingest_paths` on the bundled corpus, again on the unchanged corpus, and on a
  synthetic Markdown text of a few MB (chunks/s, wall time).
* **scale**: stores of 10k and 100k chunks, embedded and on a Chroma server (``chroma run``, started here on
  127.0.0.1). Embedding 100,000 chunks with the bundled model would take the better part of an hour on two
  cores, so the filler chunks get random unit vectors (dimension 384, like MiniLM) and texts made of corpus
  sentences plus Zipf-distributed pseudo-words (so BM25 sees a realistic vocabulary). They are written with
  ``collection.upsert`` exactly as ingest writes them (same metadata, ids, generation marker); queries then go
  through :func:`assistant.retrieval.search` — which embeds the question with the real model — and the BM25
  index is built and loaded by :class:`assistant.index.bm25.BM25Cache`. Random vectors have no cluster
  structure, which makes HNSW work harder than on real text: the dense figures are an upper bound.
* **answers**: :func:`assistant.answer.ask_stream` per backend: time to first token, decode tokens/s, total.
* **cold start**: ``python app.py`` in a subprocess with a fresh data dir (index already built, and not), from
  process start to the first ``/ask`` answer through ``gradio_client``, with the app's peak RSS (VmHWM).
* **start-up** (:mod:`evals.bench_start`): ``pva --help``, a first ``pva ask`` per backend in a new process,
  20 sessions asking the app at once right after it is ready, and (``--install``) a fresh ``make install``.

Timings are wall-clock on whatever else the machine is doing; run it on a quiet machine and compare runs,
never assert them in tests. The latest figures, beside their targets, are in docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer import ask_stream
from assistant.config import Settings
from assistant.index import bm25
from assistant.models.llama import context_tokens
from assistant.retrieval import search
from assistant.services import forget, get_services
from evals.bench_data import SyntheticChunks, bench_questions, copy_chunks, fill_synthetic, synthetic_markdown
from evals.bench_report import check_targets
from evals.bench_start import (
    bench_cli_start,
    bench_cold_ask,
    bench_env,
    bench_install,
    bench_sessions,
    build_index,
    running_app,
)
from evals.processes import chroma_server, peak_rss_mb, percentiles, time_calls
from ingest.pipeline import ingest_paths

Progress = Callable[[str], None]
"""Called with a short description before each slow step (the CLI prints it to stderr)."""


def _noop(_: str) -> None:
    return None


# --------------------------------------------------------------------------------------------- Chroma server


# --------------------------------------------------------------------------------------------- ingest


def bench_ingest(
    settings: Settings, synthetic_mb: float = 5.0, data_dir: Path | None = None, progress: Progress = _noop
) -> dict[str, Any]:
    """Ingest the corpus, re-ingest it unchanged, then ingest a synthetic text, each in a fresh data dir.

    The embedding model is loaded (and run once) before the clock starts and its load time reported on its
    own: on a corpus of a few dozen chunks the load would otherwise dominate chunks/s. With ``data_dir`` the
    corpus index is built there and kept (``pva bench`` reuses it); the synthetic text always goes to a
    separate temporary data dir, so that index holds the corpus alone.
    """
    figures: dict[str, Any] = {
        "embedding_model": settings.embedding_model,
        "embedding_backend": settings.embedding_backend,
    }
    started = time.perf_counter()
    embeddings = get_services(settings).embeddings
    embeddings.embed_documents(["warm up the embedding model"])
    figures["embedding_load_seconds"] = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="pva-bench-") as tmp:
        corpus_dir = data_dir or Path(tmp) / "corpus"
        corpus_settings = settings.model_copy(update={"data_dir": corpus_dir, "chroma_url": None})
        progress("ingest: the bundled corpus")
        started, cpu = time.perf_counter(), time.process_time()
        report = ingest_paths(None, corpus_settings)
        elapsed = time.perf_counter() - started
        chunks = report.total("added")
        figures |= {
            "corpus_chunks": chunks,
            "corpus_seconds": elapsed,
            "corpus_cpu_seconds": time.process_time() - cpu,
            "corpus_chunks_per_s": chunks / elapsed,
        }
        progress("ingest: the unchanged corpus again")
        started = time.perf_counter()
        report = ingest_paths(None, corpus_settings)
        figures["reingest_unchanged_seconds"] = time.perf_counter() - started
        figures["reingest_unchanged_written"] = report.total("added") + report.total("updated")
        if synthetic_mb > 0:
            progress(f"ingest: a synthetic {synthetic_mb:g} MB text")
            synthetic_settings = settings.model_copy(update={"data_dir": Path(tmp) / "synthetic", "chroma_url": None})
            path = Path(tmp) / "synthetic.md"
            path.write_text(synthetic_markdown(synthetic_mb), encoding="utf-8")
            started, cpu = time.perf_counter(), time.process_time()
            report = ingest_paths([path], synthetic_settings)
            elapsed = time.perf_counter() - started
            chunks = report.total("added")
            figures |= {
                "synthetic_mb": synthetic_mb,
                "synthetic_chunks": chunks,
                "synthetic_seconds": elapsed,
                "synthetic_cpu_seconds": time.process_time() - cpu,
                "synthetic_chunks_per_s": chunks / elapsed,
            }
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


# --------------------------------------------------------------------------------------------- synthetic stores


# --------------------------------------------------------------------------------------------- retrieval, BM25


def bench_bm25(settings: Settings, queries: Sequence[str], depth: int = 20) -> dict[str, Any]:
    """BM25 at the store's current size: read, build (from scratch), load from disk, and query latency.

    ``build_seconds`` is what the first query after a change pays: reading every chunk from Chroma, tokenising,
    indexing and saving. ``load_seconds`` is what a new process pays when the saved index is current.
    """
    services = get_services(settings)
    store = services.store
    shutil.rmtree(bm25.index_dir(settings), ignore_errors=True)
    forget("bm25")
    started = time.perf_counter()
    bm25._read_chunks(store)  # noqa: SLF001 - the read alone, to split build time into read vs tokenise+index
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    index = services.bm25.index(store)
    build_seconds = time.perf_counter() - started
    forget("bm25")
    started = time.perf_counter()
    index = services.bm25.index(store)
    load_seconds = time.perf_counter() - started
    disk = sum(p.stat().st_size for p in bm25.index_dir(settings).rglob("*") if p.is_file())
    return {
        "chunks": len(index),
        "read_seconds": read_seconds,
        "build_seconds": build_seconds,
        "load_seconds": load_seconds,
        "disk_mb": disk / 1e6,
        "query_ms": time_calls(lambda q: index.search(q, depth), queries),
    }


def bench_retrieval(settings: Settings, queries: Sequence[str], k: int = 5) -> dict[str, Any]:
    """Latency of :func:`assistant.retrieval.search` per mode (hybrid, dense, bm25), indexes warm."""
    figures: dict[str, Any] = {"chunks": get_services(settings).store.count()}
    for mode in ("hybrid", "dense", "bm25"):
        figures[f"{mode}_ms"] = time_calls(lambda q, mode=mode: search(q, settings, k=k, mode=mode), queries)
    return figures


def bench_scale(
    corpus: Settings,
    root: Path,
    sizes: Sequence[int],
    *,
    server_url: str | None = None,
    queries: Sequence[str],
    progress: Progress = _noop,
    label: str | None = None,
) -> list[dict[str, Any]]:
    """Retrieval and BM25 figures at the corpus size and at each of ``sizes`` chunks, on one kind of store.

    The store is seeded with the corpus's real chunks (copied with their vectors from ``corpus``), measured,
    then grown with synthetic chunks to each size in turn (smallest first), measuring at each step.
    """
    kind = label or ("server" if server_url else "embedded")
    settings = corpus.model_copy(update={"data_dir": root / f"scale-{kind}", "chroma_url": server_url})
    progress(f"{kind}: copying the corpus chunks")
    have = copy_chunks(corpus, settings)
    synthetic = SyntheticChunks()
    rows: list[dict[str, Any]] = []
    for size in [have, *sorted(s for s in set(sizes) if s > have)]:
        write_seconds = 0.0
        if size > have:
            progress(f"{kind}: writing {size - have:,} synthetic chunks (random unit vectors) to reach {size:,}")
            write_seconds = fill_synthetic(settings, size - have, synthetic)
        added = size - have
        have = size
        progress(f"{kind}: BM25 build and queries at {size:,} chunks")
        row: dict[str, Any] = {"store": kind, "label": "corpus" if not rows else f"{size:,}", "size": size}
        if added:
            row |= {"write_seconds": write_seconds, "write_chunks_per_s": added / write_seconds}
        row["bm25"] = bench_bm25(settings, queries)
        progress(f"{kind}: search latency at {size:,} chunks")
        row |= bench_retrieval(settings, queries)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------- answers


def bench_answers(
    settings: Settings, backend: str, questions: Sequence[str], progress: Progress = _noop
) -> dict[str, Any]:
    """Answer latency of one backend through :func:`assistant.answer.ask_stream`.

    The first question warms the models up (for ``local``: loads the weights) and is reported as
    ``warmup_seconds``, not counted. Time to first token runs from the call to the first non-empty token event;
    tokens/s is the decode rate (streamed pieces after the first, over the time from the first to the last:
    llama.cpp streams one piece per token). Refusals generate nothing, so they count only in ``total_ms``.
    """
    progress(f"answers: {backend} (warm-up)")
    started = time.perf_counter()
    for _ in ask_stream(questions[0], settings=settings, backend=backend):
        pass
    warmup = time.perf_counter() - started
    totals, firsts, rates, token_counts, prompts, refused = [], [], [], [], [], 0
    progress(f"answers: {backend} ({len(questions)} questions)")
    for question in questions:
        started = time.perf_counter()
        first = last = None
        pieces = 0
        answer = None
        for event in ask_stream(question, settings=settings, backend=backend):
            now = time.perf_counter()
            if event.kind == "token" and event.text:
                first = first if first is not None else now
                last = now
                pieces += 1
            elif event.kind == "final":
                answer = event.answer
        totals.append((time.perf_counter() - started) * 1000)
        if answer is not None and answer.refused and first is None:
            refused += 1
            continue
        if first is not None:
            firsts.append((first - started) * 1000)
            token_counts.append(pieces)
            if backend == "local":
                prompts.append(max(context_tokens(), default=pieces) - pieces)
            if pieces > 1 and last is not None and last > first:
                rates.append((pieces - 1) / (last - first))
    figures: dict[str, Any] = {
        "backend": backend,
        "questions": len(questions),
        "refused": refused,
        "warmup_seconds": warmup,
        "total_ms": percentiles(totals),
    }
    if firsts:
        figures["first_token_ms"] = percentiles(firsts)
        figures["tokens_mean"] = float(np.mean(token_counts))
    if rates:
        figures["tokens_per_s"] = percentiles(rates)
    if prompts:
        figures["prompt_tokens"] = percentiles(prompts)  # the local model's context before it wrote its answer
    return figures


# --------------------------------------------------------------------------------------------- cold start


def bench_cold_start(
    settings: Settings,
    root: Path,
    *,
    backend: str = "extractive",
    indexed: bool = True,
    question: str = "What are the principles of social value?",
    progress: Progress = _noop,
) -> dict[str, Any]:
    """Start ``python app.py`` with a fresh data dir and time it to the first ``/ask`` answer.

    With ``indexed`` the corpus is ingested into the data dir first (by ``python -m ingest``, not timed), the
    normal case of a restart; without it the app builds the index itself before serving. ``ready_seconds`` is
    process start to the first HTTP 200, ``first_answer_seconds`` process start to the first answer; then one
    more question is timed warm. ``peak_rss_mb`` is the app process's VmHWM after answering.
    """
    name = f"cold-{backend}-{'indexed' if indexed else 'empty'}"
    workdir = root / name
    env = bench_env(settings, workdir / "data", chat_backend=backend)
    if indexed:
        progress(f"cold start ({backend}): building the index for it")
        error = build_index(env, workdir)
        if error:
            return {"skipped": error}
    progress(f"cold start ({backend}, {'index present' if indexed else 'no index'}): starting app.py")
    try:
        with running_app(env, workdir) as app:
            ready = time.perf_counter() - app.started
            client = app.client()
            client.predict(question, None, api_name="/ask")
            first_answer = time.perf_counter() - app.started
            first_answer_cpu = app.cpu_seconds()
            again = time.perf_counter()
            client.predict("When was the Social Value Act introduced?", None, api_name="/ask")
            warm_ms = (time.perf_counter() - again) * 1000
            return {
                "backend": backend,
                "indexed": indexed,
                "ready_seconds": ready,
                "first_answer_seconds": first_answer,
                "first_answer_cpu_seconds": first_answer_cpu,
                "warm_answer_ms": warm_ms,
                "peak_rss_mb": app.peak_rss_mb(),
            }
    except RuntimeError as exc:
        return {"skipped": f"the app did not start: {exc}"}


# --------------------------------------------------------------------------------------------- everything


@dataclass
class BenchOptions:
    """What ``pva bench`` runs; every slow part can be turned off."""

    sizes: tuple[int, ...] = (10_000, 100_000)
    scale: bool = True
    """Retrieval and BM25 figures (at the corpus size and each of ``sizes``)."""
    server: bool = True
    backends: tuple[str, ...] = ("extractive", "local")
    cold_start: bool = True
    synthetic_mb: float = 5.0
    queries: int = 50
    answer_questions: int = 20
    local_questions: int = 6
    """Each local answer takes seconds (up to ``max_tokens`` generated): a handful gives a stable median."""
    startup: bool = True
    """``pva --help`` and a first ``pva ask`` per backend, each in a new process."""
    sessions: int = 20
    """Clients asking at once right after the app is ready (0 leaves it out; needs ``cold_start``)."""
    install: bool = False
    """A fresh ``make install`` with an empty pip cache: minutes of downloads, so only when asked."""


def run_benchmarks(
    settings: Settings, options: BenchOptions | None = None, progress: Progress = _noop
) -> dict[str, Any]:
    """Run every benchmark in a temporary folder and return the figures (see :func:`summary_rows`)."""
    import chromadb  # deferred: only its version is read (the store module alone talks to Chroma)

    options = options or BenchOptions()
    queries = bench_questions(options.queries)
    figures: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "chromadb": chromadb.__version__,
            "load_average": list(os.getloadavg()),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in options.__dict__.items()},
    }
    with tempfile.TemporaryDirectory(prefix="pva-bench-") as tmp:
        root = Path(tmp)
        corpus = settings.model_copy(update={"data_dir": root / "corpus-index", "chroma_url": None})
        figures["ingest"] = bench_ingest(settings, options.synthetic_mb, data_dir=corpus.data_dir, progress=progress)

        scale = bench_scale(corpus, root, options.sizes, queries=queries, progress=progress) if options.scale else []
        if options.scale and options.server:
            progress("starting a Chroma server on 127.0.0.1")
            with chroma_server(root / "chroma-server") as server:
                scale += bench_scale(
                    corpus, root, options.sizes, server_url=server.url, queries=queries, progress=progress
                )
                figures["chroma_server_peak_rss_mb"] = server.peak_rss_mb()
        figures["scale"] = scale

        answers: dict[str, Any] = {}
        for backend in options.backends:
            count = options.local_questions if backend == "local" else options.answer_questions
            questions = bench_questions(count, kinds=("fact", "paraphrase", "list", "colloquial"))
            try:
                answers[backend] = bench_answers(corpus, backend, questions, progress)
            except Exception as exc:  # an unconfigured or unreachable backend is reported, not fatal
                answers[backend] = {"skipped": f"{type(exc).__name__}: {exc}"}
        figures["answers"] = answers

        figures |= _start_figures(settings, root, options, progress)
    figures["machine"]["load_average_end"] = list(os.getloadavg())
    figures["peak_rss_mb"] = peak_rss_mb()
    figures["targets"] = check_targets(figures)
    return figures


def _start_figures(settings: Settings, root: Path, options: BenchOptions, progress: Progress) -> dict[str, Any]:
    """The figures measured in new processes (see :mod:`evals.bench_start`), each failure reported, not fatal."""
    figures: dict[str, Any] = {}
    if options.startup:
        figures["cli"] = bench_cli_start(root)
        figures["cold_ask"] = bench_cold_ask(settings, root, options.backends, progress)
    if options.cold_start:
        cold: dict[str, Any] = {}
        cases = [("extractive", True), ("extractive", False)]
        if "local" in options.backends:
            cases.append(("local", True))
        for backend, indexed in cases:
            key = f"{backend}_{'indexed' if indexed else 'empty'}"
            try:
                cold[key] = bench_cold_start(settings, root, backend=backend, indexed=indexed, progress=progress)
            except Exception as exc:  # the app is optional for the other figures
                cold[key] = {"skipped": f"{type(exc).__name__}: {exc}"}
        figures["cold_start"] = cold
        if options.sessions:
            try:
                figures["sessions"] = bench_sessions(settings, root, options.sessions, progress)
            except Exception as exc:  # as above
                figures["sessions"] = {"skipped": f"{type(exc).__name__}: {exc}"}
    if options.install:
        figures["install"] = bench_install(progress)
    return figures


# --------------------------------------------------------------------------------------------- reporting
