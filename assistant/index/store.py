"""The one module that talks to Chroma: the chunk collection, embedded on disk or on a Chroma server.

By default Chroma runs embedded and persists under ``<data dir>/chroma``; setting ``PVA_CHROMA_URL``
(``http://host:8000``) uses a Chroma server instead, with no code change. Similarity search goes through
LangChain's ``Chroma`` vector store; reads by id or metadata and writes go to the collection, because ingest
embeds the heading path together with the chunk text while storing the text alone, and upserts precomputed
vectors. Callers use :class:`Store`'s methods only.

A second collection, ``<collection>-texts``, holds the vectors of the texts the answer path compares with the
question (each chunk's sentences, list items, lists and verification windows), keyed by chunk id, so a question
embeds nothing but itself. It lives in the same client, so a Chroma server holds it too; deleting a chunk
deletes its texts.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from assistant.config import Settings

COUNT_MAX_AGE = 1.0
"""Seconds a chunk count is reused while the generation marker stays the same.

Writes through this data dir bump the marker, so they are seen at once; the age bounds how long a writer that
does not (another machine on a shared Chroma server) goes unseen. Counting a 100,000-chunk collection takes
about 8 ms, and every query needs the count twice (search depth, BM25 freshness).
"""

Where = dict[str, Any]
"""A Chroma metadata filter, e.g. ``{"doc_id": "act"}`` or ``{"doc_id": {"$in": ["a", "b"]}}``."""


class StoreUnavailableError(RuntimeError):
    """The Chroma server cannot be reached or the store cannot be opened."""


@dataclass(frozen=True)
class Rows:
    """Chunks read from the store; the lists run in the same order, and a field not asked for is empty."""

    ids: list[str]
    documents: list[str | None] = field(default_factory=list)
    metadatas: list[dict[str, Any] | None] = field(default_factory=list)
    embeddings: Any = field(default_factory=list)
    """One vector per chunk (an array from Chroma) when ``embeddings`` was included."""


class Store:
    """The chunk collection: reads, writes and similarity search, plus a write lock and a cached count."""

    def __init__(self, settings: Settings, client: chromadb.ClientAPI, embeddings: Embeddings) -> None:
        self.settings = settings
        self.client = client
        metadata = {"hnsw:space": "cosine", "embedding_model": settings.embedding_model}
        self._chroma = client.get_or_create_collection(
            name=settings.collection, embedding_function=None, metadata=metadata
        )
        self.vectorstore = Chroma(
            collection_name=settings.collection,
            embedding_function=embeddings,
            client=client,
            collection_metadata=metadata,
        )
        self._texts = client.get_or_create_collection(
            name=texts_collection(settings.collection), embedding_function=None, metadata=metadata
        )
        self.write_lock = threading.Lock()
        """Held around every write through this process (ingest, removal), with :func:`bump_generation`."""
        self._counted: tuple[str, float, int] | None = None

    # ------------------------------------------------------------------------------------------------ reads

    def count(self, max_age: float | None = None) -> int:
        """Chunks in the collection; reused for ``max_age`` seconds (default :data:`COUNT_MAX_AGE`) while the
        generation marker is unchanged."""
        generation, now = read_generation(self.settings), time.monotonic()
        counted = self._counted
        limit = COUNT_MAX_AGE if max_age is None else max_age
        if counted is not None and counted[0] == generation and now - counted[1] < limit:
            return counted[2]
        total = self._chroma.count()
        self._counted = (generation, now, total)
        return total

    def get(
        self,
        *,
        ids: Sequence[str] | None = None,
        where: Where | None = None,
        include: Sequence[str] = ("documents", "metadatas"),
        limit: int | None = None,
        offset: int | None = None,
    ) -> Rows:
        """Chunks by id and/or metadata filter; ``include`` names what to return besides the ids
        (``documents``, ``metadatas``, ``embeddings``)."""
        got = self._chroma.get(
            ids=list(ids) if ids is not None else None,
            where=where,
            include=list(include),  # type: ignore[arg-type]  (Chroma's Include literals)
            limit=limit,
            offset=offset,
        )

        def column(name: str) -> Any:
            value = got.get(name)
            return [] if value is None else value

        return Rows(
            ids=list(got["ids"]),
            documents=list(column("documents")),
            metadatas=list(column("metadatas")),
            embeddings=column("embeddings"),
        )

    def all_ids(self, where: Where | None = None) -> list[str]:
        """The ids of every chunk (matching ``where``, when given)."""
        return self.get(where=where, include=()).ids

    def text_vectors(self, chunk_ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """The stored texts of these chunks and their vectors (one row per text; none for an index built before
        texts were stored)."""
        if not chunk_ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        got = self._texts.get(where={"chunk_id": {"$in": list(chunk_ids)}}, include=["documents", "embeddings"])
        vectors = got.get("embeddings")
        texts = list(got.get("documents") or [])
        if vectors is None or not texts:
            return [], np.zeros((0, 0), dtype=np.float32)
        return texts, np.asarray(vectors, dtype=np.float32)

    def text_rows(self, doc_id: str) -> set[str]:
        """The row ids of a document's stored text vectors."""
        return set(self._texts.get(where={"doc_id": doc_id}, include=[])["ids"])

    def similarity_search(
        self, vector: Sequence[float], k: int, where: Where | None = None
    ) -> list[tuple[Document, float]]:
        """The ``k`` chunks nearest ``vector`` with their cosine distance (``1 - cos``), nearest first."""
        return self.vectorstore.similarity_search_by_vector_with_relevance_scores(list(vector), k=k, filter=where)

    # ----------------------------------------------------------------------------------------------- writes

    @property
    def max_batch_size(self) -> int:
        """The most chunks one write may carry (a limit of the Chroma backend)."""
        return self.client.get_max_batch_size()

    def upsert(
        self,
        ids: Sequence[str],
        embeddings: Sequence[Sequence[float]] | Any,
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        """Add or replace chunks with precomputed vectors, in as many writes as the backend's batch limit needs."""
        self._upsert_batched(self._chroma, ids, embeddings, documents, metadatas)

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Replace the metadata of existing chunks, keeping their text and vectors."""
        self._chroma.update(ids=list(ids), metadatas=list(metadatas))

    def delete(self, ids: Sequence[str]) -> None:
        """Remove chunks by id, with their stored text vectors."""
        step = self.max_batch_size
        for start in range(0, len(ids), step):
            part = list(ids[start : start + step])
            self._chroma.delete(ids=part)
            self._texts.delete(where={"chunk_id": {"$in": part}})

    def upsert_texts(
        self, ids: Sequence[str], vectors: Any, texts: Sequence[str], metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Add or replace text vectors (metadata: ``doc_id`` and ``chunk_id``), in batches the backend accepts."""
        self._upsert_batched(self._texts, ids, vectors, texts, metadatas)

    def _upsert_batched(
        self,
        collection: Any,
        ids: Sequence[str],
        vectors: Any,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        """Upsert into ``collection`` in writes of at most the backend's batch limit."""
        step = self.max_batch_size
        for start in range(0, len(ids), step):
            end = start + step
            collection.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                documents=list(texts[start:end]),
                metadatas=list(metadatas[start:end]),
            )

    def delete_texts(self, ids: Sequence[str]) -> None:
        """Remove text vectors by row id."""
        step = self.max_batch_size
        for start in range(0, len(ids), step):
            self._texts.delete(ids=list(ids[start : start + step]))


def texts_collection(collection: str) -> str:
    """The name of the collection holding the text vectors of ``collection``'s chunks."""
    return f"{collection}-texts"


def _client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = settings.chroma_url
        parsed = urlparse(url)
        try:
            return chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {url} ({exc}): start it (`chroma run`) or unset PVA_CHROMA_URL"
            ) from exc
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path.resolve()), settings=chroma_settings)


def open_store(settings: Settings, embeddings: Embeddings) -> Store:
    """Open (creating if needed) the collection ``settings`` point at; ``embeddings`` embed search queries."""
    return Store(settings, _client(settings), embeddings)


def store_key(settings: Settings) -> tuple:
    """What identifies a store: settings equal on these share one :class:`Store` (and its write lock)."""
    return (str(settings.chroma_path.resolve()), settings.chroma_url, settings.collection, settings.embedding_model)


def generation_path(settings: Settings) -> Path:
    """The store's change marker, ``<data dir>/store.generation``, bumped by every ingest write.

    Derived indexes (BM25) compare it, with the chunk count, on each query: reading a tiny file is far cheaper
    than listing the collection. It lives in the data dir of the process that writes, so with a Chroma server
    shared by several machines only the count (and the BM25 cache's periodic id check) sees their writes.
    """
    return settings.data_dir / "store.generation"


def read_generation(settings: Settings) -> str:
    """The current change marker ("" when nothing was ever written through this data dir)."""
    try:
        return generation_path(settings).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def bump_generation(settings: Settings) -> str:
    """Record that the collection changed; call it under ``Store.write_lock`` around every write.

    The marker is a counter plus a random suffix, written atomically (temp file + rename): two processes that
    bump at once may both write the same counter, but never the same marker, so no change goes unnoticed.
    """
    path = generation_path(settings)
    previous = read_generation(settings).partition("-")[0]
    marker = f"{int(previous) + 1 if previous.isdigit() else 1}-{uuid.uuid4().hex[:12]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(marker, encoding="utf-8")
    os.replace(tmp, path)
    return marker
