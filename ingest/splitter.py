"""Split Markdown into chunks that keep their heading path and fit the embedding model's window.

The document is first cut at its headings (outside code fences), so every chunk belongs to exactly one
section and carries that section's path, e.g. ``UK Public Value Framework › Pillar two: managing inputs ›
Benchmarking & cost control``. A section's body is then split with LangChain's
``RecursiveCharacterTextSplitter`` only when it is too long: it cuts at blank lines first, then between
list items, then between lines and sentences, so a list item or a question is never cut in half unless it
alone exceeds the window. Lengths are counted with the embedding model's own tokenizer: text beyond its
window would be silently ignored when embedding.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

SECTION_SEPARATOR = " › "
# Room for the [CLS]/[SEP] tokens and the splitter's approximate accounting of joined separators.
_TOKEN_MARGIN = 4
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Chunk:
    """One piece of a document as stored in Chroma."""

    text: str
    section: str
    position: int
    start: int
    end: int

    @property
    def embed_text(self) -> str:
        """What is embedded and keyword-indexed: the heading path gives the body its context."""
        return f"{self.section}\n\n{self.text}"

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.embed_text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Section:
    path: tuple[str, ...]
    start: int
    body: str


def _sections(text: str, title: str) -> list[_Section]:
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    body_start = 0
    in_fence = False
    offset = 0
    lines = text.splitlines(keepends=True)

    def close(end: int) -> None:
        body = text[body_start:end]
        if body.strip():
            path = [name for _, name in stack]
            if not stack or stack[0][0] != 1:  # the H1 is the document's title; otherwise prefix it
                path.insert(0, title)
            sections.append(_Section(tuple(path), body_start, body))

    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line.rstrip("\n"))
        if match:
            close(offset)
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, match.group(2).strip()))
            body_start = offset + len(line)
        offset += len(line)
    close(len(text))
    return sections


def split_markdown(
    text: str,
    title: str,
    count_tokens: Callable[[str], int],
    max_tokens: int = 256,
) -> list[Chunk]:
    """Split ``text`` into heading-scoped chunks whose ``embed_text`` fits in ``max_tokens`` tokens.

    ``count_tokens`` counts tokens without special tokens (the model adds two). Character spans
    (``start``, ``end``) index into ``text``; ``position`` numbers the chunks in reading order.
    """
    chunks: list[Chunk] = []
    for section in _sections(text, title):
        section_name = SECTION_SEPARATOR.join(section.path)
        budget = max_tokens - _TOKEN_MARGIN - count_tokens(section_name + "\n\n")
        if budget < 32:
            # A pathological heading path would leave no room for text: keep only its last part.
            section_name = section.path[-1]
            budget = max_tokens - _TOKEN_MARGIN - count_tokens(section_name + "\n\n")
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=budget,
            chunk_overlap=0,
            length_function=count_tokens,
            separators=["\n\n", "\n- ", "\n* ", "\n", ". ", "? ", "; ", ", ", " ", ""],
            keep_separator="start",
            strip_whitespace=True,
        )
        cursor = 0
        for piece in splitter.split_text(section.body):
            piece = piece.strip()
            if not piece:
                continue
            local = section.body.find(piece, cursor)
            if local < 0:  # the splitter re-joined whitespace differently; fall back to a fresh search
                local = max(section.body.find(piece), 0)
            cursor = local + len(piece)
            start = section.start + local
            chunks.append(Chunk(piece, section_name, len(chunks), start, start + len(piece)))
    return chunks
