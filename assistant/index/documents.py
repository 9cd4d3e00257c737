"""The documents in the store: listing and removing them, and the journal of an ingest stopped mid-document.

A document is the set of chunks sharing a ``doc_id``; what is known about it comes from their metadata. The
journal (``<data dir>/ingest.journal``) names the document an ingest is writing, so ``pva status`` can say that
an ingest was interrupted and the next ingest can finish it.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.index.store import Store, bump_generation, read_generation


@dataclass(frozen=True)
class DocumentInfo:
    """One ingested document, derived from its chunks' metadata."""

    doc_id: str
    title: str
    source: str
    chunks: int
    ingested_at: str


def list_documents(store: Store) -> list[DocumentInfo]:
    """The ingested documents with their chunk counts and when they were last written."""
    docs: dict[str, dict] = {}
    for meta in store.get(include=["metadatas"]).metadatas:
        entry = docs.setdefault(
            meta["doc_id"], {"title": meta["title"], "source": meta["source"], "chunks": 0, "ingested_at": ""}
        )
        entry["chunks"] += 1
        entry["ingested_at"] = max(entry["ingested_at"], meta.get("ingested_at", ""))
    return [DocumentInfo(doc_id, **entry) for doc_id, entry in sorted(docs.items())]


def remove_document(doc_id: str, store: Store) -> int:
    """Delete every chunk of ``doc_id``; return how many were removed (0 when it was not there)."""
    with store.write_lock:
        ids = store.all_ids(where={"doc_id": doc_id})
        if ids:
            store.delete(ids)
            bump_generation(store.settings)
    return len(ids)


class DocumentTitles:
    """The ingested documents' titles, read again only when the store's chunk count or change marker moves."""

    def __init__(self) -> None:
        self._seen: tuple[tuple, tuple[str, ...]] | None = None
        self._lock = threading.Lock()

    def get(self, store: Store) -> list[str]:
        key = (store.count(), read_generation(store.settings))
        with self._lock:
            seen = self._seen
        if seen is None or seen[0] != key:
            seen = (key, tuple(d.title for d in list_documents(store)))
            with self._lock:
                self._seen = seen
        return list(seen[1])


# ------------------------------------------------------------------------------------------------ journal


def journal_path(settings: Settings) -> Path:
    """``<data dir>/ingest.journal``: present only while an ingest is writing a document."""
    return settings.data_dir / "ingest.journal"


def interrupted_ingest(settings: Settings) -> dict | None:
    """The journal entry of an ingest that was stopped mid-document (its ``doc_id``, ``source``, ``path``), if any."""
    try:
        return json.loads(journal_path(settings).read_text())
    except (OSError, ValueError):
        return None


def write_journal(settings: Settings, entry: dict | None) -> None:
    """Record the document being written (atomically), or clear the journal with ``None``."""
    path = journal_path(settings)
    if entry is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry))
    os.replace(tmp, path)
