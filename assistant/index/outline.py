"""What a chunk's metadata keeps of its document's outline, and how to read it back.

The ingest stores, beside each chunk's ``section`` (its heading path joined by " › "):

- ``children``: the headings directly under that section, as a JSON list ("[]" for a leaf), so an answer can
  name a section's parts even when their text is in other chunks. A heading with nothing but sub-headings
  under it gets a chunk of its heading line alone, so every outline is stored; small sub-sections packed
  together are chunks of their parent's section that show the child headings as heading lines;
- ``list_start`` / ``list_end``: only on the chunks of a list too long for one chunk, the list's characters in
  the document (lead-in included). Chunk spans (``start``, ``end``) index the same text, so the chunks that
  overlap the list, in order, give it back whole: :func:`whole_list`.

Everything lives in Chroma with the chunks, so it is replaced with them when a document changes and removed
with them when it is deleted; nothing else needs invalidating.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from assistant.index.store import Store

CHILDREN = "children"
LIST_START = "list_start"
LIST_END = "list_end"


def child_headings(meta: Mapping[str, Any]) -> list[str]:
    """The headings directly under a chunk's section ([] when it has none or was ingested without them)."""
    try:
        children = json.loads(meta.get(CHILDREN) or "[]")
    except (TypeError, ValueError):
        return []
    return [str(child) for child in children] if isinstance(children, list) else []


def whole_list(store: Store, meta: Mapping[str, Any]) -> str | None:
    """The complete list a chunk holds part of, lead-in and every item, or None when its list fits in it."""
    start, end = meta.get(LIST_START), meta.get(LIST_END)
    if not isinstance(start, int) or not isinstance(end, int) or not meta.get("doc_id"):
        return None
    where = {"$and": [{"doc_id": meta["doc_id"]}, {"start": {"$lt": end}}, {"end": {"$gt": start}}]}
    got = store.get(where=where, include=["documents", "metadatas"])
    parts = sorted(zip(got.metadatas, got.documents, strict=True), key=lambda pair: pair[0]["start"])
    pieces = []
    for chunk_meta, text in parts:
        offset = chunk_meta["start"]
        pieces.append((text or "")[max(start - offset, 0) : max(end - offset, 0)].strip())
    return "\n".join(piece for piece in pieces if piece) or None


FRONT_MATTER_CHUNKS = 6
"""How many chunks open a document as its front matter (title page, byline, date, notices) at most."""


def front_matter(store: Store, doc_id: str, limit: int = FRONT_MATTER_CHUNKS) -> list[tuple[str, str, dict[str, Any]]]:
    """The first ``limit`` chunks of a document as ``(id, text, metadata)``, in document order.

    What a document says about itself (author, date, version) sits at its start, before its first section.
    """
    got = store.get(where={"$and": [{"doc_id": doc_id}, {"position": {"$lt": limit}}]})
    rows = sorted(zip(got.ids, got.documents, got.metadatas, strict=True), key=lambda row: row[2].get("position", 0))
    return [(chunk_id, text or "", dict(meta or {})) for chunk_id, text, meta in rows]
