"""The vectors of the texts a question is compared with, computed at ingest and read back at question time.

For each chunk, the answer path embeds the same texts every time: the extractive answerer its answer units
(:func:`assistant.units.chunk_units`: sentences, items, lists with their lead-ins), the verifier the windows of
the passage (:func:`assistant.wording.windows`), the citation quote its sentences (:func:`assistant.text.units`).
:func:`store_text_vectors` embeds them when a document is written, with those very functions so the texts match
exactly, and keeps them in the store keyed by chunk id; :func:`preload` stages a question's retrieved chunks'
vectors for the shared vector cache, so only the question itself is embedded. A chunk without stored texts (an
index built before they were stored) is embedded at question time, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.index.store import Store
from assistant.models.staged import StagedEmbeddings
from assistant.retrieval import to_chunk
from assistant.text import passage_text, units
from assistant.types import RetrievedChunk
from assistant.units import Library, chunk_units
from assistant.wording import windows


def chunk_texts(library: Library, source: int) -> list[str]:
    """Every text the answer path embeds for chunk ``source`` of ``library`` (verifier windows, quote sentences,
    answer units and their lead-ins), without repeats."""
    chunk = library.chunks[source - 1]
    texts = list(windows(passage_text(chunk.section, chunk.text))[0])
    texts += [unit.text for unit in units(chunk.text)]
    for unit in chunk_units(library, source):
        texts += [unit.text, unit.lead]
    return [text for text in dict.fromkeys(texts) if text]


def _row_id(chunk_id: str, text: str) -> str:
    return f"{chunk_id}::{hashlib.sha1(text.encode('utf-8')).hexdigest()[:20]}"


def store_text_vectors(
    store: Store, embeddings: Embeddings, doc_id: str, known: Mapping[str, Sequence[float]] | None = None
) -> int:
    """Bring the stored text vectors of ``doc_id``'s chunks up to date (call it after writing its chunks, under the
    store's write lock); return how many texts were embedded.

    Only texts not stored yet are embedded, in one batched call, each text once; texts a chunk no longer has are
    deleted. A text the document already had under another chunk (an edit moves texts between chunk ids) reuses
    its stored vector, as does one in ``known`` (text → vector, e.g. the chunks' own vectors just computed). A
    list read on into the next chunk makes a chunk's texts depend on its neighbours, so every chunk of the
    document is checked, not only the new ones; an unchanged document costs a read.
    """
    rows = store.get(where={"doc_id": doc_id})
    chunks = [
        to_chunk(chunk_id, text or "", dict(meta or {}))
        for chunk_id, text, meta in zip(rows.ids, rows.documents, rows.metadatas, strict=True)
    ]
    library = Library(list(chunks), store)
    wanted: dict[str, tuple[str, str]] = {}
    for source, chunk in enumerate(chunks, start=1):
        for text in chunk_texts(library, source):
            wanted[_row_id(chunk.id, text)] = (chunk.id, text)
    existing = store.text_rows(doc_id)
    missing = [row for row in wanted if row not in existing]
    vectors: dict[str, Sequence[float]] = {}
    unique: list[str] = []
    if missing:
        vectors = _reusable(store, existing, known or {})
        unique = list(dict.fromkeys(wanted[row][1] for row in missing if wanted[row][1] not in vectors))
        if unique:
            vectors |= dict(zip(unique, embeddings.embed_documents(unique), strict=True))
        _write(store, doc_id, [wanted[row] for row in missing], [vectors[wanted[row][1]] for row in missing])
    gone = [row for row in existing if row not in wanted]
    if gone:
        store.delete_texts(gone)
    return len(unique)


def _write(store: Store, doc_id: str, rows: list[tuple[str, str]], vectors: Sequence[Sequence[float]]) -> None:
    """Store ``rows`` ((chunk id, text) of ``doc_id``) with their vectors."""
    store.upsert_texts(
        ids=[_row_id(chunk_id, text) for chunk_id, text in rows],
        vectors=np.asarray(vectors, dtype=np.float32),
        texts=[text for _, text in rows],
        metadatas=[{"doc_id": doc_id, "chunk_id": chunk_id} for chunk_id, _ in rows],
    )


def copy_text_vectors(source: Store, target: Store, chunks: Mapping[str, str]) -> int:
    """Copy the stored text vectors of ``chunks`` (chunk id → doc id) from one store to another; how many."""
    copied = 0
    for chunk_id, doc_id in chunks.items():
        texts, vectors = source.text_vectors([chunk_id])
        if texts:
            _write(target, doc_id, [(chunk_id, text) for text in texts], vectors)
            copied += len(texts)
    return copied


def _reusable(store: Store, existing: set[str], known: Mapping[str, Sequence[float]]) -> dict[str, Sequence[float]]:
    """Vectors at hand without the model: ``known`` and the document's stored texts (by their chunks)."""
    chunk_ids = list(dict.fromkeys(row.rsplit("::", 1)[0] for row in existing))
    texts, stored = store.text_vectors(chunk_ids) if chunk_ids else ([], [])
    return dict(known) | dict(zip(texts, stored, strict=True))


def preload(store: Store, staged: StagedEmbeddings, chunks: Sequence[RetrievedChunk | str]) -> int:
    """Stage the stored text vectors of ``chunks`` (or chunk ids) for the vector cache; return how many were found."""
    ids = [chunk if isinstance(chunk, str) else chunk.id for chunk in chunks]
    texts, vectors = store.text_vectors(list(dict.fromkeys(ids)))
    if texts:
        staged.stage(texts, np.asarray(vectors, dtype=np.float32))
    return len(texts)
