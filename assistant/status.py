"""What ``pva status`` and the app's status line show: where the index is, what is in it, which models."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.index.documents import interrupted_ingest, list_documents

if TYPE_CHECKING:
    from assistant.services import Services


def collect_status(services: Services) -> dict[str, str | int]:
    """A flat, printable summary of the configuration and the index."""
    settings = services.settings
    docs = list_documents(services.store)
    journal = interrupted_ingest(settings)
    return {
        "data dir": str(settings.data_dir.resolve()),
        "store": settings.chroma_url or f"embedded Chroma at {settings.chroma_path.resolve()}",
        "collection": settings.collection,
        "documents": len(docs),
        "chunks": sum(d.chunks for d in docs),
        "embedding model": settings.embedding_model,
        "chat backend": settings.chat_backend,
        "interrupted ingest": (
            f"yes, in '{journal['doc_id']}': run `pva ingest` again to finish it" if journal else "no"
        ),
    }
