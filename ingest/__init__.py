"""Ingestion: load files (Markdown, text, PDF, Word, HTML), split them by headings, embed and upsert into Chroma.

Public API: :func:`ingest_paths`, :func:`ensure_index`; listing and removing documents, and the journal of an
interrupted ingest, live in :mod:`assistant.index.documents` and are re-exported here.
"""

from assistant.offline import enforce_offline

enforce_offline()

from assistant.index.documents import DocumentInfo, interrupted_ingest, list_documents, remove_document  # noqa: E402
from ingest.pipeline import FileResult, IngestReport, ensure_index, ingest_paths  # noqa: E402

__all__ = [
    "DocumentInfo",
    "FileResult",
    "IngestReport",
    "ensure_index",
    "ingest_paths",
    "interrupted_ingest",
    "list_documents",
    "remove_document",
]
