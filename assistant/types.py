"""The data types other parts rely on: retrieved chunks, citations, grounding, answers.

``Answer`` is a public contract: ``pva ask --json`` prints it, the evals read it and outside tools parse
it. Add fields freely; never rename or remove one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RetrievedChunk(BaseModel):
    """A chunk found by retrieval, with the scores that ranked it."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    doc_id: str
    title: str
    source: str
    section: str
    position: int = 0
    start: int = 0
    end: int = 0
    children: tuple[str, ...] = ()
    """The headings directly under this chunk's section (its outline), when the index keeps them."""
    score: float = 0.0
    """Fused rank score (reciprocal rank fusion); only comparable within one result list."""
    dense: float | None = None
    """Cosine similarity of the question and the chunk (0..1), when the dense side found it."""
    bm25: float | None = None
    """BM25 score, when the keyword side found it."""


class Citation(BaseModel):
    """A numbered footnote: which framework, which section, the quoted passage."""

    n: int
    doc_id: str
    title: str
    section: str
    quote: str
    source: str
    chunk_id: str = ""

    @classmethod
    def from_chunk(cls, n: int, chunk: RetrievedChunk, quotes: list[str]) -> Citation:
        """Footnote ``n`` for ``chunk``, quoting ``quotes`` (or the chunk's opening when none was found)."""
        return cls(
            n=n,
            doc_id=chunk.doc_id,
            title=chunk.title,
            section=chunk.section,
            quote=" … ".join(quotes) or chunk.text[:300],
            source=chunk.source,
            chunk_id=chunk.id,
        )


class SentenceCheck(BaseModel):
    """One answer sentence with the sources it cites and whether they support it."""

    text: str
    citations: list[int] = Field(default_factory=list)
    supported: bool = False
    score: float = 0.0
    continues: bool = False
    """A later sentence of the list item before it: shown on that item's line, not as an item of its own."""


class Grounding(BaseModel):
    """How much of the answer its cited passages support."""

    supported: int = 0
    total: int = 0
    unsupported: list[str] = Field(default_factory=list)


class Answer(BaseModel):
    """The result of asking a question; also one line of ``pva ask --json`` / ``--jsonl``."""

    id: str | int | None = None
    question: str
    standalone_question: str | None = None
    answer: str
    refused: bool = False
    citations: list[Citation] = Field(default_factory=list)
    backend: str
    grounding: Grounding = Field(default_factory=Grounding)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    sentences: list[SentenceCheck] = Field(default_factory=list)
    retrieved: list[RetrievedChunk] = Field(default_factory=list, exclude=True)
    """The chunks the answer was built from (kept in memory for the evals and the UI; not serialised)."""


def message_text(content: Any) -> str:
    """The text of a chat message's content (Gradio's, or a history passed to ``ask``).

    The content is a string, a ``{"type": "text", "text"}`` part, or a list of parts; files are left out.
    """
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        return str(content.get("text") or "")
    if isinstance(content, list | tuple):
        return "\n".join(t for t in (message_text(part) for part in content) if t)
    return ""
