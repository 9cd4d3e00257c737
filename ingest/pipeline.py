"""Idempotent ingestion: files → chunks → embeddings → Chroma.

A chunk's id is its document id plus a hash of its heading path and text, so re-ingesting an unchanged
file writes nothing, and a changed file adds its new chunks, then deletes exactly its stale ones. Each
document is written with one ``upsert`` (new chunks and moved ones together) followed by one ``delete``;
an ingest killed between the two leaves the old chunks beside the new, and the next run removes them, so
a re-run always converges to exactly the right chunks. A journal file under the data dir records the
document being written (its id and file; see :mod:`assistant.index.documents`), so ``pva status`` can say that
an ingest was interrupted and :func:`ensure_index` (run when the app starts) can finish that document, an
upload included.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import corpus
from assistant.config import Settings
from assistant.index import documents
from assistant.index.documents import DocumentInfo, interrupted_ingest, write_journal
from assistant.index.outline import CHILDREN, LIST_END, LIST_START
from assistant.index.store import Store, bump_generation
from assistant.models.embeddings import SentenceTransformerEmbeddings
from assistant.services import Services, services_for
from assistant.text_vectors import store_text_vectors
from ingest.loaders import SUPPORTED_SUFFIXES, LoadedDocument, LoadError, load_file
from ingest.splitter import Chunk, split_markdown

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``on_progress(description, done, total)`` while chunks are embedded."""


@dataclass
class FileResult:
    """What happened to one file."""

    path: str
    doc_id: str | None = None
    title: str | None = None
    chunks: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class IngestReport:
    """The results of one ingest run, a row per file."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if not f.ok]

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    def summary(self) -> str:
        return (
            f"{self.total('added')} added, {self.total('updated')} updated, {self.total('unchanged')} unchanged, "
            f"{self.total('removed')} removed; {len(self.failed)} file(s) failed"
        )


def default_corpus_dir() -> Path:
    return corpus.CORPUS_DIR


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders (recursively) into the supported files inside them; files named directly are kept."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and p.suffix.lower() in SUPPORTED_SUFFIXES
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            found.append(path)
    return found


def _chunk_ids(doc_id: str, chunks: Sequence[Chunk]) -> list[str]:
    seen: Counter[str] = Counter()
    ids = []
    for chunk in chunks:
        base = f"{doc_id}::{chunk.hash[:16]}"
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return ids


def _metadata(doc: LoadedDocument, chunk: Chunk, now: str) -> dict:
    """A chunk's flat Chroma metadata; the outline keys are described in :mod:`assistant.index.outline`."""
    list_start, list_end = chunk.list_span or (None, None)
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "source": doc.source,
        "section": chunk.section,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        "hash": chunk.hash,
        "ingested_at": now,
        CHILDREN: json.dumps(list(chunk.children), ensure_ascii=False),
        # None is not stored, and on an update removes a span the chunk no longer has.
        LIST_START: list_start,
        LIST_END: list_end,
    }


_COMPARED = ("title", "source", "section", "position", "start", "end", CHILDREN, LIST_START, LIST_END)


def ingest_document(
    doc: LoadedDocument,
    store: Store,
    embeddings: SentenceTransformerEmbeddings,
    settings: Settings,
    on_progress: ProgressCallback | None = None,
    path: str | os.PathLike | None = None,
) -> FileResult:
    """Bring ``doc``'s chunks in ``store`` up to date, embedding new ones with ``embeddings``; return the counts
    of what changed.

    ``path``, the file ``doc`` was read from, goes into the journal so an interrupted write can be finished.
    """
    chunks = split_markdown(doc.text, doc.title, embeddings.count_tokens, settings.chunk_tokens)
    ids = _chunk_ids(doc.doc_id, chunks)
    result = FileResult(path=doc.source, doc_id=doc.doc_id, title=doc.title, chunks=len(chunks))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with store.write_lock:
        existing = store.get(where={"doc_id": doc.doc_id}, include=["metadatas"])
        old = dict(zip(existing.ids, existing.metadatas, strict=True))
        new_ids, new_chunks, moved_ids, moved_meta = [], [], [], []
        for chunk_id, chunk in zip(ids, chunks, strict=True):
            meta = _metadata(doc, chunk, now)
            previous = old.get(chunk_id)
            if previous is None:
                new_ids.append(chunk_id)
                new_chunks.append(chunk)
            elif any(previous.get(k) != meta[k] for k in _COMPARED):
                moved_ids.append(chunk_id)
                moved_meta.append(meta)
            else:
                result.unchanged += 1
        stale = [chunk_id for chunk_id in old if chunk_id not in set(ids)]
        vectors: list[list[float]] = []
        batch = max(store.settings.embedding_batch_size, 1)
        for start in range(0, len(new_chunks), batch):
            part = new_chunks[start : start + batch]
            vectors.extend(embeddings.embed_documents([c.embed_text for c in part]))
            if on_progress:
                on_progress(doc.title, start + len(part), len(new_chunks))
        if new_ids or moved_ids or stale:
            entry = {"doc_id": doc.doc_id, "source": doc.source, "started": now}
            if path is not None:
                entry["path"] = str(Path(path).resolve())
            write_journal(store.settings, entry)
            bump_generation(store.settings)  # before and after the writes: a killed ingest still invalidates
        if new_ids:
            store.upsert(
                ids=new_ids,
                embeddings=vectors,
                documents=[c.text for c in new_chunks],
                metadatas=[_metadata(doc, c, now) for c in new_chunks],
            )
        if moved_ids:
            store.update_metadata(moved_ids, moved_meta)
        known = dict(zip((c.embed_text for c in new_chunks), vectors, strict=True))
        if stale:
            known |= dict(zip(*store.text_vectors(stale), strict=True))  # an edit's unchanged sentences keep theirs
            store.delete(stale)
        if new_ids or moved_ids or stale:
            bump_generation(store.settings)
        # Before the journal is cleared: an ingest killed here is finished by the next, vectors included.
        store_text_vectors(store, embeddings, doc.doc_id, known)
        write_journal(store.settings, None)
    result.added, result.updated, result.removed = len(new_ids), len(moved_ids), len(stale)
    return result


def ingest_paths(
    paths: Sequence[Path] | None = None,
    settings: Settings | None = None,
    on_progress: ProgressCallback | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    services: Services | None = None,
) -> IngestReport:
    """Ingest files and folders (default: the bundled ``corpus/``); bad files are reported and skipped.

    A document whose ingest was interrupted (the journal names its file) is finished first, whatever the paths:
    any ingest, like the app's start, leaves no half-written document behind.
    """
    services = services_for(settings, services)
    settings, store, embeddings = services.settings, services.store, services.embeddings
    report = IngestReport()
    seen_ids: dict[str, str] = {}
    files = collect_files(paths or [default_corpus_dir()])
    journal = interrupted_ingest(settings)
    if journal and journal.get("path"):
        interrupted = Path(journal["path"])
        if interrupted.is_file() and interrupted.resolve() not in {f.resolve() for f in files}:
            files.insert(0, interrupted)
    for path in files:
        try:
            doc = load_file(path)
            if doc.doc_id in seen_ids:
                raise LoadError(
                    f"document id '{doc.doc_id}' is already used by {seen_ids[doc.doc_id]} in this run: "
                    "rename the file or give it an `id:` in its front matter"
                )
            seen_ids[doc.doc_id] = str(path)
            result = ingest_document(doc, store, embeddings, settings, on_progress, path=path)
            result.path = str(path)
        except LoadError as exc:
            result = FileResult(path=str(path), error=str(exc))
        report.files.append(result)
        if on_file:
            on_file(result)
    return report


def ensure_index(
    settings: Settings | None = None, on_progress: ProgressCallback | None = None, services: Services | None = None
) -> IngestReport | None:
    """Build the index from the bundled corpus when the store is empty or an ingest was interrupted.

    An interrupted document (an upload or a ``pva ingest`` of a user's file, killed mid-write) is ingested
    again first, from the file the journal names, so it ends with exactly its chunks, not half of them.
    """
    services = services_for(settings, services)
    if services.store.count() and not interrupted_ingest(services.settings):
        return None
    return ingest_paths(None, services.settings, on_progress, services=services)


def list_documents(settings: Settings | None = None, services: Services | None = None) -> list[DocumentInfo]:
    """The ingested documents of the store of ``settings``, with their chunk counts and last write."""
    return documents.list_documents(services_for(settings, services).store)


def remove_document(doc_id: str, settings: Settings | None = None, services: Services | None = None) -> int:
    """Delete every chunk of ``doc_id`` from the store of ``settings``; how many were removed (0: not there)."""
    return documents.remove_document(doc_id, services_for(settings, services).store)
