"""Benchmarks: speed and memory figures printed by ``pva bench``. Never used as timed tests."""

from __future__ import annotations

import random
import resource
import tempfile
import time
from pathlib import Path

from assistant.config import Settings


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_markdown(size_mb: float, seed: int = 7) -> str:
    """A Markdown text of about ``size_mb`` MB made of corpus sentences under generated headings."""
    from ingest.pipeline import collect_files, default_corpus_dir

    sentences: list[str] = []
    for path in collect_files([default_corpus_dir()]):
        text = path.read_text(encoding="utf-8")
        sentences.extend(s.strip() for s in text.replace("\n", " ").split(". ") if len(s.strip()) > 40)
    rng = random.Random(seed)
    parts: list[str] = ["# Synthetic benchmark document\n"]
    size, target, section = 0, int(size_mb * 1_000_000), 0
    while size < target:
        section += 1
        block = f"\n## Section {section}\n\n" + ". ".join(rng.choices(sentences, k=6)) + ".\n"
        parts.append(block)
        size += len(block)
    return "".join(parts)


def bench_ingest(settings: Settings, synthetic_mb: float = 5.0) -> dict[str, float | int | str]:
    """Ingest the corpus, re-ingest it unchanged, then ingest a synthetic text, in a temporary data dir."""
    from ingest.pipeline import ingest_paths

    figures: dict[str, float | int | str] = {
        "embedding_model": settings.embedding_model,
        "embedding_backend": settings.embedding_backend,
    }
    with tempfile.TemporaryDirectory(prefix="pva-bench-") as tmp:
        bench_settings = settings.model_copy(update={"data_dir": Path(tmp), "chroma_url": None})
        started = time.perf_counter()
        report = ingest_paths(None, bench_settings)
        elapsed = time.perf_counter() - started
        chunks = report.total("added")
        figures |= {
            "corpus_chunks": chunks,
            "corpus_seconds": elapsed,
            "corpus_chunks_per_s": chunks / elapsed,
        }
        started = time.perf_counter()
        ingest_paths(None, bench_settings)
        figures["reingest_unchanged_seconds"] = time.perf_counter() - started
        if synthetic_mb > 0:
            path = Path(tmp) / "synthetic.md"
            path.write_text(synthetic_markdown(synthetic_mb), encoding="utf-8")
            started = time.perf_counter()
            report = ingest_paths([path], bench_settings)
            elapsed = time.perf_counter() - started
            chunks = report.total("added")
            figures |= {
                "synthetic_mb": synthetic_mb,
                "synthetic_chunks": chunks,
                "synthetic_seconds": elapsed,
                "synthetic_chunks_per_s": chunks / elapsed,
            }
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures
