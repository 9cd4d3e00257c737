"""Ingestion: load files (Markdown, text, PDF, Word, HTML), split them by headings, embed and upsert into Chroma.

Public API: :func:`ingest_paths`, :func:`ensure_index`, :func:`list_documents`, :func:`remove_document`, and
:func:`interrupted_ingest` (the journal of an ingest stopped mid-document).
"""

from importlib import import_module
from typing import Any

from assistant.offline import enforce_offline

enforce_offline()  # before any model library is imported

_EXPORTS = {
    "DocumentInfo": "assistant.index.documents",
    "interrupted_ingest": "assistant.index.documents",
    "list_documents": "ingest.pipeline",
    "remove_document": "ingest.pipeline",
    "FileResult": "ingest.pipeline",
    "IngestReport": "ingest.pipeline",
    "ensure_index": "ingest.pipeline",
    "ingest_paths": "ingest.pipeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """The public names, imported on first use: deferred for start-up time (``pva --help`` loads no Chroma)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ingest' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
