"""Finding the chunks that answer a question: hybrid search.

Hybrid search runs two retrievers over the same chunks and fuses their rankings:

* **dense**: the question's embedding against Chroma (LangChain's ``Chroma`` store, cosine space), good at
  paraphrase ("how do they check value for money" → "cost benchmarking");
* **BM25**: keyword scores from :mod:`assistant.index.bm25`, good at exact rare terms (a measure code, "TOMs",
  "principle F") that a small embedding model blurs.

Reciprocal rank fusion (``1 / (60 + rank)`` summed over the lists) combines them without calibrating
cosine similarities against BM25 scores, which live on unrelated scales. A chunk both sides rank highly wins;
a chunk only one side finds can still make the top ``k``.

Follow-up questions are made standalone before they get here (:mod:`assistant.followup`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from assistant.config import Settings
from assistant.index.outline import child_headings
from assistant.index.store import Store
from assistant.models.embeddings import VectorCache
from assistant.services import Services, services_for
from assistant.types import RetrievedChunk

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")

RRF_K = 60
"""The rank offset of reciprocal rank fusion; 60 is the value from Cormack et al. and damps the top ranks."""

CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 20
"""Each side contributes ``max(4·k, 20)`` candidates to the fusion, so a chunk ranked modestly by both sides
can still beat one ranked first by only one of them."""


# --------------------------------------------------------------------------------------------- search


def search(
    query: str,
    settings: Settings | None = None,
    *,
    k: int | None = None,
    doc_ids: Sequence[str] | None = None,
    mode: Mode = "hybrid",
    services: Services | None = None,
) -> list[RetrievedChunk]:
    """The ``k`` chunks (default ``settings.top_k``) that best match ``query``, best first.

    ``doc_ids`` restricts both sides to those frameworks (an empty list means no restriction, like an empty
    framework picker; a single string is taken as one id). ``mode`` picks one side alone, for comparisons and
    evals. Each result carries its fused ``score`` plus the side scores that produced it (``dense`` cosine
    similarity 0..1, ``bm25``), ``None`` for a side that did not find it. An empty store gives ``[]``.
    ``services`` are the parts to search with (default: those of ``settings``).
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError("the search query is empty: pass the question text to search for")
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
    services = services_for(settings, services)
    settings = settings or services.settings
    k = settings.top_k if k is None else k
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    wanted = _normalise_doc_ids(doc_ids)
    store = services.store
    total = store.count()
    if total == 0:
        return []
    depth = min(max(k * CANDIDATES_PER_RESULT, MIN_CANDIDATES), total)

    dense: list[tuple[str, float]] = []
    bm25: list[tuple[str, float]] = []
    chunks: dict[str, tuple[str, dict[str, Any]]] = {}
    if mode != "bm25":
        for chunk_id, similarity, text, meta in _dense_search(store, services.vectors, query, depth, wanted):
            dense.append((chunk_id, similarity))
            chunks[chunk_id] = (text, meta)
    if mode != "dense":
        bm25 = services.bm25.index(store).search(query, depth, wanted)

    rankings = [[chunk_id for chunk_id, _ in side] for side in (dense, bm25) if side]
    fused = reciprocal_rank_fusion(rankings)
    dense_scores, bm25_scores = dict(dense), dict(bm25)
    order = sorted(
        fused,
        key=lambda c: (-fused[c], -dense_scores.get(c, -1.0), -bm25_scores.get(c, -1.0), c),
    )
    # Fetch text and metadata for keyword-only hits from Chroma itself: a chunk deleted since the BM25 index
    # was built simply is not returned, so no stale hit can ever surface.
    missing = [c for c in order if c not in chunks]
    if missing:
        got = store.get(ids=missing, include=["documents", "metadatas"])
        for chunk_id, text, meta in zip(got.ids, got.documents, got.metadatas, strict=True):
            chunks[chunk_id] = (text or "", dict(meta or {}))
    results: list[RetrievedChunk] = []
    for chunk_id in order:
        if chunk_id not in chunks:
            continue
        text, meta = chunks[chunk_id]
        if wanted is not None and meta.get("doc_id") not in wanted:
            continue
        found = to_chunk(chunk_id, text, meta, fused[chunk_id], dense_scores.get(chunk_id), bm25_scores.get(chunk_id))
        results.append(found)
        if len(results) == k:
            break
    return results


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Fuse ranked id lists: each id scores ``Σ 1 / (k + rank)`` over the lists it appears in (rank from 1)."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


def _normalise_doc_ids(doc_ids: Sequence[str] | str | None) -> list[str] | None:
    if doc_ids is None:
        return None
    if isinstance(doc_ids, str):
        doc_ids = [doc_ids]
    wanted = list(dict.fromkeys(str(d) for d in doc_ids if d))
    return wanted or None


def _dense_search(
    store: Store, vectors: VectorCache, query: str, depth: int, doc_ids: list[str] | None
) -> list[tuple[str, float, str, dict[str, Any]]]:
    """Chroma's nearest chunks as ``(id, cosine similarity, text, metadata)``.

    The collection uses cosine space, so Chroma's distance is ``1 - cos``; with normalised embeddings the
    similarity is clipped to 0..1 (an opposite-pointing chunk is simply "not similar").
    """
    where = {"doc_id": {"$in": doc_ids}} if doc_ids else None
    # Through the shared vector cache: the extractive answerer and the checker embed the question again.
    vector = vectors.get([query])[0]
    hits = store.similarity_search(vector.tolist(), k=depth, where=where)
    found = []
    for doc, distance in hits:
        if doc.id is None:  # every chunk is written with an id; guard against a foreign collection
            continue
        similarity = min(max(1.0 - float(distance), 0.0), 1.0)
        found.append((doc.id, similarity, doc.page_content, dict(doc.metadata or {})))
    return found


def to_chunk(
    chunk_id: str,
    text: str,
    meta: dict[str, Any],
    score: float = 0.0,
    dense: float | None = None,
    bm25: float | None = None,
) -> RetrievedChunk:
    """A chunk read from the store (text and metadata) with the scores that found it."""

    def number(name: str) -> int:
        try:
            return int(meta.get(name) or 0)
        except (TypeError, ValueError):
            return 0

    return RetrievedChunk(
        id=chunk_id,
        text=text,
        doc_id=str(meta.get("doc_id", "")),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        section=str(meta.get("section", "")),
        position=number("position"),
        start=number("start"),
        end=number("end"),
        children=tuple(child_headings(meta)),
        score=score,
        dense=dense,
        bm25=bm25,
    )
