"""Ingestion: load files (Markdown, text, PDF, Word, HTML), split them by headings, embed and upsert into Chroma.

Public API: :func:`ingest_paths`, :func:`list_documents`, :func:`remove_document`, :func:`ensure_index`.
"""

from assistant.offline import enforce_offline

enforce_offline()

from ingest.pipeline import (  # noqa: E402
    DocumentInfo,
    FileResult,
    IngestReport,
    ensure_index,
    ingest_paths,
    interrupted_ingest,
    list_documents,
    remove_document,
)

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
