"""Finding the chunks that answer a question: hybrid search.

Hybrid search runs two retrievers over the same chunks and fuses their rankings:

* **dense**: the question's embedding against Chroma (LangChain's ``Chroma`` store, cosine space), good at
  paraphrase ("how do they check value for money" → "cost benchmarking");
* **BM25**: keyword scores from :mod:`assistant.index.bm25`, good at exact rare terms (a measure code, "TOMs",
  "principle F") that a small embedding model blurs.

Reciprocal rank fusion (``1 / (60 + rank)`` summed over the lists) combines them without calibrating
cosine similarities against BM25 scores, which live on unrelated scales. A chunk both sides rank highly wins;
a chunk only one side finds can still make the top ``k``.

The question's form can add rankings to the same fusion (:mod:`assistant.query_plan`): the front matter of the
best hits' documents for "who wrote X?", the candidates holding an address for "what is her email address?",
the candidates filed under the heading of an entry the question names by its label ("stage two", "section 2.1").
A multi-part question is also searched part by part, and each part's best chunk keeps a slot in the top ``k``.

Follow-up questions are made standalone before they get here (:mod:`assistant.followup`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.config import Settings
from assistant.index.outline import child_headings, front_matter
from assistant.index.store import Store
from assistant.models.embeddings import VectorCache
from assistant.query_plan import answer_evidence, front_matter_evidence, sub_queries
from assistant.services import Services, services_for
from assistant.shapes import Label, label_level, labels
from assistant.text import SECTION_SEPARATOR
from assistant.types import RetrievedChunk

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")

RRF_K = 60
"""The rank offset of reciprocal rank fusion; 60 is the value from Cormack et al. and damps the top ranks."""

CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 40
"""Each side contributes ``max(4·k, 40)`` candidates to the fusion, so a chunk ranked modestly by both sides
can still beat one ranked first by only one of them. In an index with much off-topic text (1,024 chunks of
Python's documentation beside the corpus), 20 keyword candidates were all taken by chunks sharing a question's
common words ("ok", "take", "value"), and the passage the question was about, found by only one side, ranked
below a keyword-only stranger."""

FRONT_MATTER_DOCUMENTS = 2
"""For "who wrote X?" / "what is the date of X?", the front matter of the best hits' first two documents."""


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
    found = _Found()
    order = _ranked(query, services, depth, wanted, mode, found)
    parts = sub_queries(query)
    if parts:
        order = with_part_heads(order, [_ranked(part, services, depth, wanted, mode, found) for part in parts], k)
    # Fetch text and metadata for keyword-only hits from Chroma itself: a chunk deleted since the BM25 index
    # was built simply is not returned, so no stale hit can ever surface.
    found.read(store, order)
    results: list[RetrievedChunk] = []
    for chunk_id in order:
        if chunk_id not in found.chunks:
            continue
        text, meta = found.chunks[chunk_id]
        if wanted is not None and meta.get("doc_id") not in wanted:
            continue
        results.append(
            to_chunk(
                chunk_id,
                text,
                meta,
                found.fused.get(chunk_id, 0.0),
                found.dense.get(chunk_id),
                found.bm25.get(chunk_id),
            )
        )
        if len(results) == k:
            break
    return results


@dataclass
class _Found:
    """What the searches of one question found: chunk text and metadata, and each chunk's best scores."""

    chunks: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    fused: dict[str, float] = field(default_factory=dict)
    dense: dict[str, float] = field(default_factory=dict)
    bm25: dict[str, float] = field(default_factory=dict)

    def read(self, store: Store, ids: Sequence[str]) -> None:
        """Read the text and metadata of those of ``ids`` not seen yet (keyword-only hits) from Chroma."""
        missing = [c for c in ids if c not in self.chunks]
        if missing:
            got = store.get(ids=missing, include=["documents", "metadatas"])
            for chunk_id, text, meta in zip(got.ids, got.documents, got.metadatas, strict=True):
                self.chunks[chunk_id] = (text or "", dict(meta or {}))

    def keep(self, scores: dict[str, float], into: dict[str, float]) -> None:
        for chunk_id, score in scores.items():
            into[chunk_id] = max(score, into.get(chunk_id, score))


def _ranked(
    query: str, services: Services, depth: int, wanted: list[str] | None, mode: Mode, found: _Found
) -> list[str]:
    """Chunk ids best first for one query: dense and BM25 fused, plus the document's front matter when the
    query asks what a document says about itself (its author, its date)."""
    store = services.store
    dense: list[tuple[str, float]] = []
    bm25: list[tuple[str, float]] = []
    if mode != "bm25":
        for chunk_id, similarity, text, meta in _dense_search(store, services.vectors, query, depth, wanted):
            dense.append((chunk_id, similarity))
            found.chunks[chunk_id] = (text, meta)
    if mode != "dense":
        bm25 = services.bm25.index(store).search(query, depth, wanted)
    rankings = [[chunk_id for chunk_id, _ in side] for side in (dense, bm25) if side]
    fused = reciprocal_rank_fusion(rankings)
    dense_scores, bm25_scores = dict(dense), dict(bm25)

    def order_of(scores: dict[str, float]) -> list[str]:
        return sorted(scores, key=lambda c: (-scores[c], -dense_scores.get(c, -1.0), -bm25_scores.get(c, -1.0), c))

    order = order_of(fused)
    extra = _shaped_rankings(query, store, order, found, bm25_scores) if mode == "hybrid" and order else []
    if extra:
        fused = reciprocal_rank_fusion([*rankings, *extra])
        order = order_of(fused)
    found.keep(fused, found.fused)
    found.keep(dense_scores, found.dense)
    found.keep(bm25_scores, found.bm25)
    return order


def _shaped_rankings(
    query: str, store: Store, order: list[str], found: _Found, keyword: dict[str, float]
) -> list[list[str]]:
    """Further rankings for the fusion when the question says what shape its answer has: the candidates that
    hold a contact detail it asks for, and the front matter of the best hits' documents for "who wrote X?".

    Contact details are ranked by their keyword score first: whose address it is is a name, which BM25 matches
    and a small embedding model blurs (an example address in a template reads much like the real one)."""
    rankings = []
    shape = answer_evidence(query)
    if shape is not None:
        found.read(store, order)
        holding = [c for c in order if c in found.chunks and shape.search(found.chunks[c][0])]
        rankings.append(sorted(holding, key=lambda c: -keyword.get(c, 0.0)))  # stable: fused order among ties
    evidence = front_matter_evidence(query)
    if evidence is not None:
        rankings.append(_front_matter_ranking(store, order, evidence, found))
    named = labels(query)
    if named:
        found.read(store, order)
        rankings.append(_labelled_ranking(order, named, found))
    return [ranking for ranking in rankings if ranking]


def _labelled_ranking(order: list[str], named: Sequence[Label], found: _Found) -> list[str]:
    """The candidates filed under a heading that names an entry the question names ("pillar two", "section
    2.1", "principle F"), those whose own heading names it first, in fused order otherwise.

    Neither side tells entries apart by their label: to BM25 "two" is a common word (other entries say "two
    copies"), a small embedding model puts "stage two" as near "stage four" as to itself, and "stage 2" matches
    "Stage two" on neither side; so the chunks of another entry can take every slot. The heading path says which
    entry a chunk belongs to."""
    own: list[str] = []
    under: list[str] = []
    for chunk_id in order:
        if chunk_id not in found.chunks:
            continue
        headings = str(found.chunks[chunk_id][1].get("section", "")).split(SECTION_SEPARATOR)
        levels = [max(label_level(label, heading) for label in named) for heading in headings]
        if levels[-1]:
            own.append(chunk_id)
        elif any(levels):
            under.append(chunk_id)
    return own + under


def _front_matter_ranking(store: Store, order: list[str], evidence: re.Pattern[str], found: _Found) -> list[str]:
    """The front-matter chunks showing ``evidence`` of the documents the best hits come from, best document
    first: a third ranking for the fusion."""
    best = order[: FRONT_MATTER_DOCUMENTS * 4]
    found.read(store, best)
    documents = list(dict.fromkeys(str(found.chunks[c][1].get("doc_id", "")) for c in best if c in found.chunks))
    ranking: list[str] = []
    for doc_id in documents[:FRONT_MATTER_DOCUMENTS]:
        for chunk_id, text, meta in front_matter(store, doc_id):
            if evidence.search(text):
                found.chunks[chunk_id] = (text, meta)
                ranking.append(chunk_id)
    return ranking


def with_part_heads(order: Sequence[str], parts: Sequence[Sequence[str]], k: int) -> list[str]:
    """``order`` with each part's best chunk moved into the first ``k`` (in part order, after the chunks of
    ``order`` that are some part's best), so a multi-part question's top ``k`` answers every part."""
    heads = list(dict.fromkeys(part[0] for part in parts if part))[:k]
    rest = [c for c in order if c not in heads]
    free = max(k - len(heads), 0)
    top = [c for c in order[:k] if c in heads or c in rest[:free]]
    top += [c for c in heads if c not in top]
    return top + [c for c in order if c not in top]


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
