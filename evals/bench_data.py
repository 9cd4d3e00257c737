"""Inputs of the benchmarks: eval questions, synthetic Markdown and synthetic chunks (random unit vectors, texts
of corpus sentences plus Zipf-distributed pseudo-words), written to a store the way ingest writes."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.index.store import bump_generation
from assistant.services import get_services
from assistant.text_vectors import copy_text_vectors
from evals.dataset import load_questions
from ingest.pipeline import collect_files, default_corpus_dir

EMBEDDING_DIM = 384
"""all-MiniLM-L6-v2's vector size: the synthetic vectors must match the bundled model's queries."""

SYNTHETIC_PER_DOC = 100
"""Synthetic chunks per synthetic document (a large store holds many documents, like a real one)."""

WRITE_BATCH = 5000
"""Chunks per ``upsert`` while filling a synthetic store (bounded by the client's own maximum)."""


def bench_questions(limit: int | None = None, kinds: Sequence[str] | None = None) -> list[str]:
    """Questions of the eval dataset (``evals/datasets/questions.jsonl``), optionally of some kinds only.

    Real questions make the BM25 side score realistic term sets.
    """
    questions = [case.question for case in load_questions() if kinds is None or case.kind in kinds]
    return questions[:limit] if limit else questions


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
    sentences: list[str] = []
    for path in collect_files([default_corpus_dir()]):
        text = path.read_text(encoding="utf-8")
        sentences.extend(s.strip() for s in text.replace("\n", " ").split(". ") if len(s.strip()) > 40)
    return sentences


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
    store = get_services(settings).store
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
    """Copy every chunk (vectors included) and its stored text vectors from one store to another; returns how many
    chunks were copied."""
    got = get_services(source).store.get(include=["embeddings", "documents", "metadatas"])
    if got.ids:
        write_chunks(target, got.ids, np.asarray(got.embeddings), got.documents, got.metadatas)
        doc_ids = {
            chunk_id: (meta or {}).get("doc_id", "") for chunk_id, meta in zip(got.ids, got.metadatas, strict=True)
        }
        target_store = get_services(target).store
        with target_store.write_lock:
            copy_text_vectors(get_services(source).store, target_store, doc_ids)
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
