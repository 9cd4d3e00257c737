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
  index is built and loaded by :func:`assistant.index.bm25.get_bm25_index`. Random vectors have no cluster
  structure, which makes HNSW work harder than on real text: the dense figures are an upper bound.
* **answers**: :func:`assistant.answer.ask_stream` per backend: time to first token, decode tokens/s, total.
* **cold start**: ``python app.py`` in a subprocess with a fresh data dir (index already built, and not), from
  process start to the first ``/ask`` answer through ``gradio_client``, with the app's peak RSS (VmHWM).

Timings are wall-clock on whatever else the machine is doing; run it on a quiet machine and compare runs,
never assert them in tests. The latest figures, beside their targets, are in docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from evals.dataset import load_questions

Progress = Callable[[str], None]
"""Called with a short description before each slow step (the CLI prints it to stderr)."""

EMBEDDING_DIM = 384
"""all-MiniLM-L6-v2's vector size: the synthetic vectors must match the bundled model's queries."""

SYNTHETIC_PER_DOC = 100
"""Synthetic chunks per synthetic document (a large store holds many documents, like a real one)."""

WRITE_BATCH = 5000
"""Chunks per ``upsert`` while filling a synthetic store (bounded by the client's own maximum)."""

SERVER_START_TIMEOUT_S = 60.0
APP_START_TIMEOUT_S = 300.0


def _noop(_: str) -> None:
    return None


# --------------------------------------------------------------------------------------------- small helpers


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory (``VmHWM``) of a running process, in MB; ``None`` when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """``p50``, ``p95``, ``mean``, ``min``, ``max`` (ms) and ``n`` of a list of timings in milliseconds."""
    if not samples_ms:
        raise ValueError("no timings to summarise")
    values = np.asarray(samples_ms, dtype=np.float64)
    return {
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
        "mean": float(values.mean()),
        "min": float(values.min()),
        "max": float(values.max()),
        "n": len(values),
    }


def time_calls(fn: Callable[[str], object], queries: Sequence[str], warmup: int = 3) -> dict[str, float]:
    """Call ``fn`` on each query and summarise the latencies; the first ``warmup`` calls are not counted."""
    for query in queries[:warmup]:
        fn(query)
    samples = []
    for query in queries:
        started = time.perf_counter()
        fn(query)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None, log: Path | None = None) -> float:
    """Poll ``url`` until it answers 200; return the seconds waited. Bounded by ``timeout``.

    Raises ``RuntimeError`` with the end of ``log`` when ``process`` exits first or the time runs out.
    """
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before answering:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s:\n{_tail(log)}")


def _tail(log: Path | None, lines: int = 30) -> str:
    if log is None:
        return "(no log)"
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Stop a subprocess this module started, by its own handle: terminate, then kill if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def bench_questions(limit: int | None = None, kinds: Sequence[str] | None = None) -> list[str]:
    """Questions of the eval dataset (``evals/datasets/questions.jsonl``), optionally of some kinds only.

    Real questions make the BM25 side score realistic term sets.
    """
    questions = [case.question for case in load_questions() if kinds is None or case.kind in kinds]
    return questions[:limit] if limit else questions


# --------------------------------------------------------------------------------------------- Chroma server


@dataclass
class ChromaServer:
    """A ``chroma run`` subprocess on 127.0.0.1: its URL, process handle and log file."""

    url: str
    process: subprocess.Popen
    path: Path
    log: Path

    def peak_rss_mb(self) -> float | None:
        return process_peak_rss_mb(self.process.pid)


def chroma_executable() -> str:
    """The ``chroma`` CLI installed with the chromadb package (beside this Python first, then on PATH)."""
    beside = Path(sys.executable).parent / "chroma"
    if beside.exists():
        return str(beside)
    found = shutil.which("chroma")
    if found is None:
        raise RuntimeError("the `chroma` command is missing: it ships with the chromadb package (pip install chromadb)")
    return found


@contextmanager
def chroma_server(
    path: Path, port: int | None = None, timeout: float = SERVER_START_TIMEOUT_S
) -> Iterator[ChromaServer]:
    """Run ``chroma run --path PATH --host 127.0.0.1 --port PORT`` for the duration of the block.

    Waits (bounded by ``timeout``) for the heartbeat endpoint before yielding, and always stops the process
    on the way out, so a failing benchmark or test never leaves a server behind.
    """
    path.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = path.parent / f"chroma-{port}.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [chroma_executable(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
        )
    server = ChromaServer(url=f"http://127.0.0.1:{port}", process=process, path=path, log=log)
    try:
        wait_for_http(f"{server.url}/api/v2/heartbeat", timeout, process, log)
        yield server
    finally:
        stop_process(process)


# --------------------------------------------------------------------------------------------- ingest


def synthetic_markdown(size_mb: float, seed: int = 7) -> str:
    """A Markdown text of about ``size_mb`` MB made of corpus sentences under generated headings."""
    rng = random.Random(seed)
    parts: list[str] = ["# Synthetic benchmark document\n"]
    size, target, section = 0, int(size_mb * 1_000_000), 0
    sentences = corpus_sentences()
    while size < target:
        section += 1
        block = f"\n## Section {section}\n\n" + ". ".join(rng.choices(sentences, k=6)) + ".\n"
        parts.append(block)
        size += len(block)
    return "".join(parts)


def corpus_sentences() -> list[str]:
    """Sentences of the bundled corpus (longer than 40 characters), the raw material of synthetic texts."""
    from ingest.pipeline import collect_files, default_corpus_dir

    sentences: list[str] = []
    for path in collect_files([default_corpus_dir()]):
        text = path.read_text(encoding="utf-8")
        sentences.extend(s.strip() for s in text.replace("\n", " ").split(". ") if len(s.strip()) > 40)
    return sentences


def bench_ingest(
    settings: Settings, synthetic_mb: float = 5.0, data_dir: Path | None = None, progress: Progress = _noop
) -> dict[str, Any]:
    """Ingest the corpus, re-ingest it unchanged, then ingest a synthetic text, each in a fresh data dir.

    The embedding model is loaded (and run once) before the clock starts and its load time reported on its
    own: on a corpus of a few dozen chunks the load would otherwise dominate chunks/s. With ``data_dir`` the
    corpus index is built there and kept (``pva bench`` reuses it); the synthetic text always goes to a
    separate temporary data dir, so that index holds the corpus alone.
    """
    from assistant.models.embeddings import get_embeddings
    from ingest.pipeline import ingest_paths

    figures: dict[str, Any] = {
        "embedding_model": settings.embedding_model,
        "embedding_backend": settings.embedding_backend,
    }
    started = time.perf_counter()
    embeddings = get_embeddings(settings)
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


@dataclass
class SyntheticChunks:
    """A deterministic stream of synthetic chunks (text + random unit vector); ``next_batch`` continues it."""

    seed: int = 11
    produced: int = 0
    _rng: random.Random = field(init=False)
    _np_rng: np.random.Generator = field(init=False)
    _sentences: list[str] = field(init=False)
    _vocabulary: list[str] = field(init=False)
    _weights: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._np_rng = np.random.default_rng(self.seed)
        self._sentences = corpus_sentences() or bench_questions()
        # Pseudo-words with a Zipf distribution (weight 1/rank), so the vocabulary grows with the store as a real
        # one does and BM25's postings have a realistic shape; corpus sentences keep the common words real.
        syllables = ["ka", "lo", "mi", "ter", "van", "sol", "dri", "po", "nex", "ul", "ra", "bet", "cor", "fin"]
        vocab_rng = random.Random(self.seed + 1)
        self._vocabulary = [
            "".join(vocab_rng.choices(syllables, k=vocab_rng.randint(2, 4))) + str(i % 97) for i in range(30_000)
        ]
        self._weights = list(np.cumsum([1.0 / rank for rank in range(1, len(self._vocabulary) + 1)]))

    def text(self) -> str:
        sentences = self._rng.choices(self._sentences, k=self._rng.randint(3, 6))
        words = self._rng.choices(self._vocabulary, cum_weights=self._weights, k=20)
        return ". ".join(sentences) + ".\n\n" + " ".join(words)

    def next_batch(self, count: int) -> tuple[list[str], np.ndarray, list[str], list[dict[str, Any]]]:
        """``count`` more chunks as ``(ids, vectors, texts, metadatas)`` in the shape ingest writes."""
        vectors = self._np_rng.standard_normal((count, EMBEDDING_DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids, texts, metadatas = [], [], []
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for n in range(self.produced, self.produced + count):
            doc = n // SYNTHETIC_PER_DOC
            position = n % SYNTHETIC_PER_DOC
            text = self.text()
            digest = f"{self._rng.getrandbits(64):016x}"
            doc_id = f"synthetic-{doc:05d}"
            title = f"Synthetic document {doc}"
            ids.append(f"{doc_id}::{digest}")
            texts.append(text)
            metadatas.append(
                {
                    "doc_id": doc_id,
                    "title": title,
                    "source": "synthetic",
                    "section": f"{title} › Part {position}",
                    "position": position,
                    "start": 0,
                    "end": len(text),
                    "hash": digest,
                    "ingested_at": now,
                }
            )
        self.produced += count
        return ids, vectors, texts, metadatas


def write_chunks(
    settings: Settings,
    ids: Sequence[str],
    vectors: np.ndarray | Sequence[Sequence[float]],
    texts: Sequence[str],
    metadatas: Sequence[dict[str, Any]],
) -> None:
    """Upsert precomputed chunks into the store the way ingest does: batched, under the write lock, marker bumped."""
    from assistant.index.store import bump_generation, get_store

    store = get_store(settings)
    limit = min(WRITE_BATCH, store.max_batch_size)
    with store.write_lock:
        bump_generation(settings)
        for start in range(0, len(ids), limit):
            end = start + limit
            store.upsert(
                ids=list(ids[start:end]),
                embeddings=np.asarray(vectors[start:end], dtype=np.float32),
                documents=list(texts[start:end]),
                metadatas=list(metadatas[start:end]),
            )
        bump_generation(settings)


def copy_chunks(source: Settings, target: Settings) -> int:
    """Copy every chunk (vectors included) from one store to another; returns how many were copied."""
    from assistant.index.store import get_store

    got = get_store(source).get(include=["embeddings", "documents", "metadatas"])
    if got.ids:
        write_chunks(target, got.ids, np.asarray(got.embeddings), got.documents, got.metadatas)
    return len(got.ids)


def fill_synthetic(settings: Settings, count: int, chunks: SyntheticChunks) -> float:
    """Add ``count`` synthetic chunks to the store; returns the seconds the writes took (generation excluded)."""
    written = 0.0
    while count > 0:
        batch = min(count, WRITE_BATCH)
        ids, vectors, texts, metadatas = chunks.next_batch(batch)
        started = time.perf_counter()
        write_chunks(settings, ids, vectors, texts, metadatas)
        written += time.perf_counter() - started
        count -= batch
    return written


# --------------------------------------------------------------------------------------------- retrieval, BM25


def bench_bm25(settings: Settings, queries: Sequence[str], depth: int = 20) -> dict[str, Any]:
    """BM25 at the store's current size: read, build (from scratch), load from disk, and query latency.

    ``build_seconds`` is what the first query after a change pays: reading every chunk from Chroma, tokenising,
    indexing and saving. ``load_seconds`` is what a new process pays when the saved index is current.
    """
    from assistant.index import bm25
    from assistant.index.store import get_store

    store = get_store(settings)
    shutil.rmtree(bm25.index_dir(settings), ignore_errors=True)
    bm25.clear_bm25_cache()
    started = time.perf_counter()
    bm25._read_chunks(store)  # noqa: SLF001 - the read alone, to split build time into read vs tokenise+index
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    index = bm25.get_bm25_index(settings, store)
    build_seconds = time.perf_counter() - started
    bm25.clear_bm25_cache()
    started = time.perf_counter()
    index = bm25.get_bm25_index(settings, store)
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
    from assistant.index.store import get_store
    from assistant.retrieval import search

    figures: dict[str, Any] = {"chunks": get_store(settings).count()}
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
    from assistant.answer import ask_stream

    progress(f"answers: {backend} (warm-up)")
    started = time.perf_counter()
    for _ in ask_stream(questions[0], settings=settings, backend=backend):
        pass
    warmup = time.perf_counter() - started
    totals, firsts, rates, token_counts, refused = [], [], [], [], 0
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
    return figures


# --------------------------------------------------------------------------------------------- cold start


def app_script() -> Path | None:
    """``app.py`` at the root of the source tree, or ``None`` when this is an install without it."""
    path = Path(__file__).resolve().parent.parent / "app.py"
    return path if path.is_file() else None


def bench_cold_start(
    settings: Settings,
    root: Path,
    *,
    backend: str = "extractive",
    indexed: bool = True,
    question: str = "What are the principles of social value?",
    timeout: float = APP_START_TIMEOUT_S,
    progress: Progress = _noop,
) -> dict[str, Any]:
    """Start ``python app.py`` with a fresh data dir and time it to the first ``/ask`` answer.

    With ``indexed`` the corpus is ingested into the data dir first (by ``python -m ingest``, not timed), the
    normal case of a restart; without it the app builds the index itself before serving. ``ready_seconds`` is
    process start to the first HTTP 200, ``first_answer_seconds`` process start to the first answer; then one
    more question is timed warm. ``peak_rss_mb`` is the app process's VmHWM after answering.
    """
    script = app_script()
    if script is None:
        return {"skipped": "app.py is not beside the assistant package (an installed wheel): nothing to start"}
    name = f"cold-{backend}-{'indexed' if indexed else 'empty'}"
    data_dir = root / name / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PVA_", "GRADIO_"))}
    env |= {
        "PVA_DATA_DIR": str(data_dir),
        "PVA_HOST": "127.0.0.1",
        "PVA_PORT": str(port),
        "PVA_CHAT_BACKEND": backend,
        "PVA_EMBEDDING_MODEL": settings.embedding_model,
        "PVA_EMBEDDING_BACKEND": settings.embedding_backend,
        "PYTHONUNBUFFERED": "1",
        "HF_HUB_OFFLINE": "1",
    }
    # Each case runs in its own folder: a folder named like a package (``corpus``) in the working directory
    # would shadow it for ``python -m``.
    workdir = root / name
    log = workdir / "app.log"
    if indexed:
        progress(f"cold start ({backend}): building the index for it")
        built = subprocess.run(
            [sys.executable, "-m", "ingest"], env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout
        )
        if built.returncode != 0:
            return {"skipped": f"`python -m ingest` failed ({built.returncode}): {built.stderr[-500:]}"}
    progress(f"cold start ({backend}, {'index present' if indexed else 'no index'}): starting app.py")
    with log.open("wb") as handle:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(script)], cwd=workdir, env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            wait_for_http(url, timeout, process, log)
        except RuntimeError as exc:
            return {"skipped": f"the app did not start: {exc}"}
        ready = time.perf_counter() - started
        from gradio_client import Client

        client = Client(url, verbose=False, download_files=str(workdir / "downloads"))
        client.predict(question, None, api_name="/ask")
        first_answer = time.perf_counter() - started
        again = time.perf_counter()
        client.predict("When was the Social Value Act introduced?", None, api_name="/ask")
        warm_ms = (time.perf_counter() - again) * 1000
        return {
            "backend": backend,
            "indexed": indexed,
            "ready_seconds": ready,
            "first_answer_seconds": first_answer,
            "warm_answer_ms": warm_ms,
            "peak_rss_mb": process_peak_rss_mb(process.pid),
        }
    finally:
        stop_process(process)


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


def run_benchmarks(
    settings: Settings, options: BenchOptions | None = None, progress: Progress = _noop
) -> dict[str, Any]:
    """Run every benchmark in a temporary folder and return the figures (see :func:`summary_rows`)."""
    import chromadb

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
    figures["machine"]["load_average_end"] = list(os.getloadavg())
    figures["peak_rss_mb"] = peak_rss_mb()
    figures["targets"] = check_targets(figures)
    return figures


# --------------------------------------------------------------------------------------------- reporting


@dataclass(frozen=True)
class Target:
    """One target from the hardening issue: a figure, the limit, and whether lower or higher is better."""

    name: str
    limit: float
    unit: str
    higher_is_better: bool = False


TARGETS = {
    "ingest": Target("ingest chunks/s (corpus)", 80, "chunks/s", higher_is_better=True),
    "ingest_synthetic": Target("ingest chunks/s (synthetic text)", 80, "chunks/s", higher_is_better=True),
    "retrieval": Target("hybrid retrieval p50 at 100k chunks", 25, "ms"),
    "extractive": Target("extractive answer p50", 150, "ms"),
    "local_rate": Target("bundled model tokens/s (p50)", 90, "tokens/s", higher_is_better=True),
    "local_first": Target("bundled model first token p50", 1500, "ms"),
    "cold_start": Target("cold start to first answer (index present)", 10, "s"),
    "rss": Target("app peak RSS", 1536, "MB"),
}


def _dig(figures: dict[str, Any], *path: str) -> Any:
    value: Any = figures
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def check_targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it was met (``None`` when the figure was not measured)."""
    measured: list[tuple[str, str, Any]] = [
        ("ingest", "", _dig(figures, "ingest", "corpus_chunks_per_s")),
        ("ingest_synthetic", "", _dig(figures, "ingest", "synthetic_chunks_per_s")),
    ]
    for row in figures.get("scale", []):
        if row["size"] == 100_000:
            measured.append(("retrieval", row["store"], _dig(row, "hybrid_ms", "p50")))
    measured += [
        ("extractive", "", _dig(figures, "answers", "extractive", "total_ms", "p50")),
        ("local_rate", "", _dig(figures, "answers", "local", "tokens_per_s", "p50")),
        ("local_first", "", _dig(figures, "answers", "local", "first_token_ms", "p50")),
    ]
    cold = figures.get("cold_start") or {}
    for key in ("extractive_indexed", "local_indexed"):
        if key in cold:
            measured.append(("cold_start", key.split("_")[0], _dig(cold, key, "first_answer_seconds")))
    rss = [v.get("peak_rss_mb") for v in cold.values() if isinstance(v, dict) and v.get("peak_rss_mb")]
    measured.append(("rss", "app", max(rss) if rss else None))
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
                f"{ingest['corpus_chunks_per_s']:.1f} chunks/s · {ingest['corpus_seconds']:.1f} s",
            )
        )
        rows.append(("ingest", "re-ingest unchanged corpus", f"{ingest['reingest_unchanged_seconds']:.2f} s"))
        if "synthetic_chunks" in ingest:
            rows.append(
                (
                    "ingest",
                    f"synthetic {ingest['synthetic_mb']:g} MB ({ingest['synthetic_chunks']} chunks)",
                    f"{ingest['synthetic_chunks_per_s']:.1f} chunks/s · {ingest['synthetic_seconds']:.1f} s",
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
                f"ready {cold['ready_seconds']:.1f} s · first answer {cold['first_answer_seconds']:.1f} s · "
                f"warm answer {cold['warm_answer_ms']:.0f} ms{rss}",
            )
        )
    if "peak_rss_mb" in figures:
        rows.append(("memory", "bench process peak RSS", f"{figures['peak_rss_mb']:.0f} MB"))
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
