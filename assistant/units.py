"""Answer units: what an extractive answer may quote, each whole.

A unit is a complete sentence, a list item, a complete list with its lead-in (its items fetched from the next
chunk of the document when the lead-in ends a chunk), or a section's outline (its heading and child headings,
each cited to the chunk that holds it). A lead-in ending in ":" is never a unit on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from assistant.index.store import Store
from assistant.retrieval import to_chunk
from assistant.text import HEADING_MARKER, LIST_MARKER, SECTION_SEPARATOR, split_sentences, strip_list_marker
from assistant.types import RetrievedChunk

"""How a chunk's ``section`` joins its heading path (as the ingest writes it)."""
MAX_ITEMS = 16
CONTINUED_CHUNKS = 3
_BACK_REFERENCE = re.compile(r"\s*(?:it|its|they|their|this|these|such|he|she|his|her)\b", re.IGNORECASE)
SHORT_ENTRY = 8
"""After a lead-in, a paragraph whose sentences all have at most this many words is read as a list."""
"""A list whose lead-in ends a chunk is read on from at most this many following chunks."""


@dataclass(frozen=True)
class Entry:
    """One line of a list: its text and the number of the chunk that holds it."""

    text: str
    source: int


@dataclass(frozen=True)
class AnswerUnit:
    """A whole piece of a source an answer may quote."""

    kind: str
    """``sentence``, ``pair`` (a sentence and the one before it, which it refers back to), ``item``, ``list``
    (lead-in and items), ``outline`` (lead-in and child headings) or ``heading`` (a section's heading, with its
    child headings when it has some)."""
    source: int
    """The number (from 1) of the chunk that holds the lead, in the :class:`Library`'s order."""
    order: int
    """Reading order in its document (the chunk's position, then the place in the chunk)."""
    lead: str = ""
    items: tuple[Entry, ...] = ()
    context: str = ""
    """The heading path and sub-heading the unit sits under: read with it, not quoted."""

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.lead, *(e.text for e in self.items)) if part)

    @property
    def is_list(self) -> bool:
        return self.kind in ("list", "outline", "heading") and bool(self.items)


@dataclass
class Library:
    """The chunks an answer may cite: the retrieved ones, then neighbours read from the store as needed."""

    chunks: list[RetrievedChunk]
    store: Store | None = None
    _rows: dict[tuple, RetrievedChunk | None] = field(default_factory=dict)

    def number(self, chunk: RetrievedChunk) -> int:
        """The citation number of ``chunk``, adding it when it was not retrieved."""
        for n, known in enumerate(self.chunks, start=1):
            if known.id == chunk.id:
                return n
        self.chunks.append(chunk)
        return len(self.chunks)

    def _first(self, where: dict[str, Any]) -> RetrievedChunk | None:
        key = tuple(sorted((k, str(v)) for k, v in where.items()))
        if key in self._rows:
            return self._rows[key]
        found = None
        if self.store is not None:
            clauses = [{name: value} for name, value in where.items()]
            got = self.store.get(where={"$and": clauses} if len(clauses) > 1 else clauses[0])
            rows = sorted(zip(got.ids, got.documents, got.metadatas, strict=True), key=lambda r: _position(r[2]))
            if rows:
                found = to_chunk(rows[0][0], rows[0][1] or "", dict(rows[0][2] or {}))
        self._rows[key] = found
        return found

    def next_chunk(self, chunk: RetrievedChunk) -> RetrievedChunk | None:
        """The chunk after ``chunk`` in its document, if any."""
        return self._first({"doc_id": chunk.doc_id, "position": chunk.position + 1})

    def section_start(self, doc_id: str, section: str) -> RetrievedChunk | None:
        """The first chunk of a section of a document, if any."""
        return self._first({"doc_id": doc_id, "section": section})

    def showing_heading(self, chunk: RetrievedChunk, heading: str) -> RetrievedChunk | None:
        """The first chunk of ``chunk``'s section with ``heading`` as a heading line: small sub-sections are
        packed into one chunk under their parent's path, so they have no section of their own."""
        if self.store is None:
            return None
        got = self.store.get(where={"$and": [{"doc_id": chunk.doc_id}, {"section": chunk.section}]})
        rows = sorted(zip(got.ids, got.documents, got.metadatas, strict=True), key=lambda r: _position(r[2]))
        for chunk_id, text, meta in rows:
            if any(kind == "heading" and body == heading for kind, body in blocks(text or "")):
                return to_chunk(chunk_id, text or "", dict(meta or {}))
        return None


def _position(meta: Any) -> int:
    try:
        return int((meta or {}).get("position") or 0)
    except (TypeError, ValueError):
        return 0


def blocks(text: str) -> list[tuple[str, str]]:
    """A chunk's blocks in order: ``(kind, text)``, kind ``heading``, ``para`` or ``item``."""
    out: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if out and out[-1][0] in ("para", "item"):
                out.append(["gap", ""])
            continue
        if HEADING_MARKER.match(raw):
            out.append(["heading", line.lstrip("#").strip()])
        elif LIST_MARKER.match(raw):
            out.append(["item", strip_list_marker(line).strip()])
        elif out and out[-1][0] in ("para", "item"):
            out[-1][1] = f"{out[-1][1]} {line}"
        else:
            out.append(["para", line])
    return [(kind, body) for kind, body in out if kind != "gap" and body]


def _entries(parts: list[tuple[str, str]], start: int, source: int, groups: bool = True) -> tuple[list[Entry], int]:
    """The list that starts at ``parts[start]``: items and, with ``groups``, sub-headings with what sits under them."""
    entries: list[Entry] = []
    i = start
    while i < len(parts) and len(entries) < MAX_ITEMS:
        kind, body = parts[i]
        if kind == "item":
            entries.append(Entry(body, source))
            i += 1
        elif groups and kind == "heading" and i + 1 < len(parts) and parts[i + 1][0] != "heading":
            j = i + 1
            under = []
            while j < len(parts) and parts[j][0] == "item":
                under.append(parts[j][1])
                j += 1
            if not under and parts[j][0] == "para":
                under, j = [parts[j][1]], j + 1
            separator = " " if body.endswith(":") else ": "
            entries.append(Entry(f"{body}{separator}{'; '.join(under)}", source))
            i = j
        else:
            break
    return entries, i


def chunk_units(library: Library, source: int) -> list[AnswerUnit]:
    """The units of chunk ``source`` (a number of ``library``)."""
    chunk = library.chunks[source - 1]
    parts = blocks(chunk.text)
    section_heading = chunk.section.split(SECTION_SEPARATOR)[-1]
    out: list[AnswerUnit] = []
    sub = ""
    i = 0
    if parts and parts[0][0] != "para":
        # A chunk that opens with its section's lists: the section heading leads them.
        entries, _ = _entries(parts, 0, source)
        if len(entries) > 1 and parts[0][0] == "heading" and len(parts) > 1 and parts[1][0] == "item":
            out.append(AnswerUnit("list", source, -1, section_heading, tuple(entries), chunk.section))
    out.extend(_outline(library, chunk, source))
    out.extend(_inline_outlines(chunk, source))
    while i < len(parts):
        kind, body = parts[i]
        context = f"{chunk.section} {sub}".strip()
        if kind == "heading":
            sub = body
            under = []
            while i + 1 + len(under) < len(parts) and parts[i + 1 + len(under)][0] == "item":
                under.append(Entry(parts[i + 1 + len(under)][1], source))
            if under:  # a sub-heading and the items under it
                out.append(AnswerUnit("list", source, i, body, tuple(under[:MAX_ITEMS]), chunk.section))
            i += 1
            continue
        if kind == "item":
            entries, end = _entries(parts, i, source, groups=not sub)
            lead = split_sentences(parts[i - 1][1])[-1] if i and parts[i - 1][0] == "para" else ""
            out.append(AnswerUnit("list", source, i, lead, tuple(entries), context))
            out.extend(AnswerUnit("item", source, i, e.text, (), context) for e in entries)
            i = end
            continue
        sentences = split_sentences(body)
        for j, sentence in enumerate(sentences):
            if j == len(sentences) - 1 and sentence.rstrip().endswith(":"):
                unit = _led_list(library, chunk, source, parts, i, sentence, context)
                if unit is not None:
                    out.append(unit)
                    out.extend(AnswerUnit("item", e.source, i, e.text, (), sentence) for e in unit.items)
                continue  # a lead-in never stands alone
            out.append(AnswerUnit("sentence", source, i * 100 + j, sentence, (), context))
            if j and refers_back(sentence):  # "… developed a plug-in." + "It adds …": the pair answers together
                out.append(AnswerUnit("pair", source, i * 100 + j, f"{sentences[j - 1]} {sentence}", (), context))
            if j == len(sentences) - 1 and i + 1 == len(parts):
                # A closing sentence whose list fills the next chunk ("… via the links below") leads into it.
                entries = _continued(library, chunk)
                if entries:
                    out.append(AnswerUnit("list", source, i, sentence, tuple(entries), context))
        i += 1
    return [replace(unit, order=chunk.position * 100_000 + unit.order) for unit in out]


def _led_list(
    library: Library, chunk: RetrievedChunk, source: int, parts: list[tuple[str, str]], i: int, lead: str, context: str
) -> AnswerUnit | None:
    """The list a lead-in sentence introduces: in this chunk, continued in the next ones, or the section outline."""
    entries, end = _entries(parts, i + 1, source)
    if entries:
        if end == len(parts):  # the list runs to the end of the chunk: it may go on in the next one
            entries += _continued(library, chunk)
        return AnswerUnit("list", source, i, lead, tuple(entries[:MAX_ITEMS]), context)
    if i + 1 == len(parts):
        entries = _continued(library, chunk)
    elif i + 1 < len(parts):
        # Two lead-ins in a row ("… four pillars:" then "… as follows:"): the first leads what the second does.
        following = split_sentences(parts[i + 1][1]) if parts[i + 1][0] == "para" else []
        if len(following) == 1 and following[0].rstrip().endswith(":"):
            then = _led_list(library, chunk, source, parts, i + 1, following[0], context)
            return AnswerUnit(then.kind, source, i, lead, then.items, context) if then else None
        if _unmarked_list(following):  # a list set as short lines without bullets (common in PDFs)
            return AnswerUnit("list", source, i, lead, tuple(Entry(s, source) for s in following), context)
        return None
    if entries:
        return AnswerUnit("list", source, i, lead, tuple(entries[:MAX_ITEMS]), context)
    children = _children(library, chunk)
    if children:
        return AnswerUnit("outline", source, i, lead, tuple(children), context)
    return None


def refers_back(sentence: str) -> bool:
    """Whether ``sentence``'s subject points back to the sentence before: "It adds…", "While …, this plan sets…"."""
    return bool(_BACK_REFERENCE.match(sentence) or _BACK_REFERENCE.match(sentence.partition(", ")[2]))


def _unmarked_list(sentences: list[str]) -> bool:
    """Whether a paragraph after a lead-in is a list without markers: several short entries, none a full clause."""
    return 2 <= len(sentences) <= MAX_ITEMS and all(len(s.split()) <= SHORT_ENTRY for s in sentences)


def _continued(library: Library, chunk: RetrievedChunk) -> list[Entry]:
    """The list that opens the chunks after ``chunk`` in its section (a list too long for the chunk of its lead-in)."""
    entries: list[Entry] = []
    current = chunk
    for _ in range(CONTINUED_CHUNKS):
        following = library.next_chunk(current)
        if following is None or following.section != chunk.section:
            break
        following_parts = blocks(following.text)
        if not following_parts or following_parts[0][0] != "item":
            break
        more, end = _entries(following_parts, 0, library.number(following))
        entries.extend(more)
        if end < len(following_parts) or not more:
            break
        current = following
    return entries[:MAX_ITEMS]


def _children(library: Library, chunk: RetrievedChunk) -> list[Entry]:
    """The child headings of ``chunk``'s section, each cited to a chunk that shows it."""
    entries = []
    headings = {body for kind, body in blocks(chunk.text) if kind == "heading"}
    for child in chunk.children[:MAX_ITEMS]:
        if child in headings:
            entries.append(Entry(child, library.number(chunk)))
            continue
        holder = library.section_start(chunk.doc_id, f"{chunk.section}{SECTION_SEPARATOR}{child}")
        holder = holder or library.showing_heading(chunk, child)
        if holder is not None:
            entries.append(Entry(child, library.number(holder)))
    return entries


def _outline(library: Library, chunk: RetrievedChunk, source: int) -> list[AnswerUnit]:
    """The section heading as a unit, with its child headings when it has some."""
    heading = chunk.section.split(SECTION_SEPARATOR)[-1]
    if not heading:
        return []
    children = _children(library, chunk)
    items = tuple(children) if len(children) > 1 else ()  # a single child heading is no outline
    return [AnswerUnit("heading", source, -2, heading, items, chunk.section)]


def _inline_outlines(chunk: RetrievedChunk, source: int) -> list[AnswerUnit]:
    """Headings of the chunk's text with their sub-headings, for a section packed whole into one chunk."""
    headings = []
    for raw in chunk.text.splitlines():
        if HEADING_MARKER.match(raw):
            marks = raw.strip()
            headings.append((len(marks) - len(marks.lstrip("#")), marks.lstrip("#").strip()))
    out = []
    for i, (level, heading) in enumerate(headings):
        children = []
        for child_level, child in headings[i + 1 :]:
            if child_level <= level:
                break
            if child_level == level + 1:
                children.append(Entry(child, source))
        if len(children) > 1:
            context = f"{chunk.section}{SECTION_SEPARATOR}{heading}"
            out.append(AnswerUnit("heading", source, -2, heading, tuple(children[:MAX_ITEMS]), context))
    return out


def all_units(library: Library, sources: Sequence[int]) -> list[AnswerUnit]:
    """The units of the chunks numbered ``sources``, without repeats (a list read from two chunks counts once)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for source in sources:
        for unit in chunk_units(library, source):
            key = (unit.kind, unit.text)
            if key not in seen and len(unit.text) > 3:
                seen.add(key)
                out.append(unit)
    return out
