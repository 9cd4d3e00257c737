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
from dataclasses import dataclass, field

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


@dataclass
class _Node:
    """A heading and everything under it: ``start``..``end`` spans the heading line and its subtree."""

    path: tuple[str, ...]
    level: int
    start: int
    body_start: int
    body_end: int
    end: int = 0
    children: list[_Node] = field(default_factory=list)


def _tree(text: str, title: str) -> _Node:
    root = _Node((title,), 0, 0, 0, len(text), len(text))
    stack = [root]
    in_fence = False
    offset = 0
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line.rstrip("\n"))
        if match:
            level = len(match.group(1))
            while len(stack) > 1 and stack[-1].level >= level:
                closed = stack.pop()
                closed.end = offset
            parent = stack[-1]
            name = match.group(2).strip()
            if level == 1 and parent is root and not root.children and not text[:offset].strip():
                # The document's H1 is its title: it names the root rather than a child.
                root.path = (name,)
                root.body_start = offset + len(line)
            else:
                node = _Node((*parent.path, name), level, offset, offset + len(line), len(text))
                parent.children.append(node)
                stack.append(node)
        offset += len(line)
    for node in stack[1:]:
        node.end = len(text)
    _fix_body_ends(root, len(text))
    return root


def _fix_body_ends(node: _Node, end: int) -> None:
    node.body_end = node.children[0].start if node.children else (node.end or end)
    for child in node.children:
        _fix_body_ends(child, end)


def _lead_in(text: str, start: int, end: int) -> int | None:
    """Where the body's last paragraph starts, if it ends with a colon and is not the whole body."""
    body = text[start:end].rstrip()
    if not body.endswith(":"):
        return None
    cut = body.rfind("\n\n")
    return start + cut + 2 if cut >= 0 else None


def split_markdown(
    text: str,
    title: str,
    count_tokens: Callable[[str], int],
    max_tokens: int = 256,
) -> list[Chunk]:
    """Split ``text`` into heading-scoped chunks whose ``embed_text`` fits in ``max_tokens`` tokens.

    A section whose whole subtree fits the window becomes one chunk, its sub-headings kept as lines of
    text (a pillar with its question groups, a theme list with its outcomes); consecutive small
    sibling sections are packed together under their parent's path; anything larger is split further.
    ``count_tokens`` counts tokens without special tokens (the model adds two). Character spans
    (``start``, ``end``) index into ``text``; ``position`` numbers the chunks in reading order.
    """
    chunks: list[Chunk] = []

    def budget(path: tuple[str, ...]) -> tuple[str, int]:
        name = SECTION_SEPARATOR.join(path)
        room = max_tokens - _TOKEN_MARGIN - count_tokens(name + "\n\n")
        if room < 32:  # a pathological heading path would leave no room for text: keep only its last part
            name = path[-1]
            room = max_tokens - _TOKEN_MARGIN - count_tokens(name + "\n\n")
        return name, room

    def emit(section: str, start: int, end: int) -> None:
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if piece:
            chunks.append(Chunk(piece, section, len(chunks), start + lead, start + lead + len(piece)))

    def fits(node: _Node, room: int) -> bool:
        return count_tokens(text[node.start : node.end].strip()) <= room

    def emit_split(section: str, room: int, start: int, end: int) -> None:
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=room,
            chunk_overlap=0,
            length_function=count_tokens,
            separators=["\n\n", "\n- ", "\n* ", "\n", ". ", "? ", "; ", ", ", " ", ""],
            keep_separator="start",
            strip_whitespace=True,
        )
        body = text[start:end]
        cursor = 0
        for piece in splitter.split_text(body):
            piece = piece.strip()
            if not piece:
                continue
            local = body.find(piece, cursor)
            if local < 0:  # the splitter re-joined whitespace differently; fall back to a fresh search
                local = max(body.find(piece), 0)
            cursor = local + len(piece)
            emit(section, start + local, start + local + len(piece))

    def fits_span(start: int, end: int, room: int) -> bool:
        return count_tokens(text[start:end].strip()) <= room

    def pack(children: list[_Node], room: int) -> list[list[_Node]]:
        """Consecutive sibling subtrees that fit the window together; a subtree too big alone stands alone."""
        groups: list[list[_Node]] = []
        for child in children:
            if (
                groups
                and fits(child, room)
                and fits(groups[-1][0], room)
                and fits_span(groups[-1][0].start, child.end, room)
            ):
                groups[-1].append(child)
                continue
            groups.append([child])
        return groups

    def walk(node: _Node) -> None:
        section, room = budget(node.path)
        if node.children and fits_span(node.body_start, node.end, room):
            emit(section, node.body_start, node.end)
            return
        groups = pack(node.children, room)
        body_end = node.body_end
        # A closing paragraph that ends with a colon ("… as follows:") introduces the sections after it:
        # keep it with them when they are packed together, so a list never loses its lead-in.
        lead = _lead_in(text, node.body_start, node.body_end)
        join = lead is not None and bool(groups) and len(groups[0]) > 1 and fits_span(lead, groups[0][-1].end, room)
        if join:
            body_end = lead
        if text[node.body_start : body_end].strip():
            emit_split(section, room, node.body_start, body_end)
        for i, group in enumerate(groups):
            if i == 0 and join:
                emit(section, lead, group[-1].end)
            elif len(group) == 1:
                walk(group[0])
            else:
                emit(section, group[0].start, group[-1].end)

    root = _tree(text, title)
    if not root.children:
        section, room = budget(root.path)
        emit_split(section, room, root.body_start, len(text))
    else:
        walk(root)
    return chunks
