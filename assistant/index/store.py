"""The Chroma collection that holds every chunk, embedded on disk or on a Chroma server.

By default Chroma runs embedded and persists under ``<data dir>/chroma``; setting ``PVA_CHROMA_URL``
(``http://host:8000``) uses a Chroma server instead, with no code change. Reads go through LangChain's
``Chroma`` vector store. Writes go to the underlying collection directly because the ingest embeds the
heading path together with the chunk text while storing the text alone, and upserts precomputed vectors.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

from assistant.config import Settings
from assistant.models.embeddings import get_embeddings

COUNT_MAX_AGE = 1.0
"""Seconds a chunk count is reused while the generation marker stays the same.

Writes through this data dir bump the marker, so they are seen at once; the age bounds how long a writer that
does not (another machine on a shared Chroma server) goes unseen. Counting a 100,000-chunk collection takes
about 8 ms, and every query needs the count twice (search depth, BM25 freshness).
"""


class StoreUnavailableError(RuntimeError):
    """The Chroma server cannot be reached or the store cannot be opened."""


@lru_cache(maxsize=8)
def _client(path: str | None, url: str | None) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if url:
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
    assert path is not None
    return chromadb.PersistentClient(path=path, settings=chroma_settings)


def chroma_client(settings: Settings) -> chromadb.ClientAPI:
    """The Chroma client for these settings (one per location per process)."""
    if settings.chroma_url:
        return _client(None, settings.chroma_url)
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return _client(str(settings.chroma_path.resolve()), None)


@dataclass
class Store:
    """The chunk collection plus the LangChain vector store over it."""

    settings: Settings
    vectorstore: Chroma
    write_lock: threading.Lock
    _counted: tuple[str, float, int] | None = field(default=None, init=False, repr=False)

    @property
    def collection(self) -> chromadb.Collection:
        return self.vectorstore._collection

    def count(self, max_age: float | None = None) -> int:
        """Chunks in the collection; reused for ``max_age`` seconds (default :data:`COUNT_MAX_AGE`) while the
        generation marker is unchanged."""
        generation, now = read_generation(self.settings), time.monotonic()
        counted = self._counted
        limit = COUNT_MAX_AGE if max_age is None else max_age
        if counted is not None and counted[0] == generation and now - counted[1] < limit:
            return counted[2]
        total = self.collection.count()
        self._counted = (generation, now, total)
        return total

    def fingerprint(self) -> str:
        """Changes whenever a chunk is added or removed; derived indexes (BM25) key their caches on it."""
        import hashlib

        ids = sorted(self.all_ids())
        return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]

    def all_ids(self) -> list[str]:
        return self.collection.get(include=[])["ids"]


_stores: dict[tuple, Store] = {}
_stores_lock = threading.Lock()


def get_store(settings: Settings) -> Store:
    """The store for these settings, opened once per process."""
    key = (
        str(settings.chroma_path.resolve()),
        settings.chroma_url,
        settings.collection,
        settings.embedding_model,
    )
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            vectorstore = Chroma(
                collection_name=settings.collection,
                embedding_function=get_embeddings(settings),
                client=chroma_client(settings),
                collection_metadata={"hnsw:space": "cosine", "embedding_model": settings.embedding_model},
            )
            store = Store(settings, vectorstore, threading.Lock())
            _stores[key] = store
        return store


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


def reset_store_cache() -> None:
    """Forget opened stores (tests that move the data dir call this)."""
    with _stores_lock:
        _stores.clear()
    _client.cache_clear()
