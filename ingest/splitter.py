"""Split Markdown into chunks that keep their heading path and fit the embedding model's window.

The document is first cut at its headings (outside code fences), so every chunk belongs to exactly one
section and carries that section's path, e.g. ``UK Public Value Framework › Pillar two: managing inputs ›
Benchmarking & cost control``. A section's body is split only when it is too long: into its paragraphs, a
list kept with the paragraph that leads into it ("… as follows:"), packed while they fit; a paragraph or list
too long alone goes to LangChain's ``RecursiveCharacterTextSplitter``, which cuts between list items, then
lines and sentences, so a list item or a question is never cut in half unless it alone exceeds the window.
Lengths are counted with the embedding model's own tokenizer: text beyond its window would be silently
ignored when embedding.

Each chunk also keeps what an answer needs of the document's outline: ``children``, the headings directly
under its section (a heading with only sub-headings under it gets a chunk of its heading line, so its outline
is stored too), and, when a list did not fit in one chunk, ``list_span``, the list's characters in the
document (lead-in included); the chunks overlapping that span, in order, give the whole list back.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.text import LIST_MARKER, SECTION_SEPARATOR, passage_text

# Room for the [CLS]/[SEP] tokens and the splitter's approximate accounting of joined separators.
_TOKEN_MARGIN = 4
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SEPARATORS = ["\n\n", "\n- ", "\n* ", "\n", ". ", "? ", "; ", ", ", " ", ""]


@dataclass(frozen=True)
class Chunk:
    """One piece of a document as stored in Chroma."""

    text: str
    section: str
    position: int
    start: int
    end: int
    children: tuple[str, ...] = ()
    """The headings directly under this chunk's section, in order."""
    list_span: tuple[int, int] | None = None
    """(start, end) in the document of the list this chunk holds part of, when the list spans chunks."""

    @property
    def embed_text(self) -> str:
        """What is embedded and keyword-indexed: the heading path gives the body its context."""
        return passage_text(self.section, self.text)

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
    splitter = _Splitter(text, count_tokens, max_tokens)
    root = _tree(text, title)
    if not root.children:
        section, room = splitter.budget(root.path)
        splitter.emit_split(root, section, room, root.body_start, len(text))
    else:
        splitter.walk(root)
    return splitter.finish()


class _Splitter:
    """The chunks of one document, cut along its heading tree."""

    def __init__(self, text: str, count_tokens: Callable[[str], int], max_tokens: int) -> None:
        self.text, self.count_tokens, self.max_tokens = text, count_tokens, max_tokens
        self.lists = list_spans(text)
        self.chunks: list[Chunk] = []

    def budget(self, path: tuple[str, ...]) -> tuple[str, int]:
        name = SECTION_SEPARATOR.join(path)
        room = self.max_tokens - _TOKEN_MARGIN - self.count_tokens(name + "\n\n")
        if room < 32:  # a pathological heading path would leave no room for text: keep only its last part
            name = path[-1]
            room = self.max_tokens - _TOKEN_MARGIN - self.count_tokens(name + "\n\n")
        return name, room

    def emit(self, node: _Node, section: str, start: int, end: int) -> None:
        piece = self.text[start:end]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if piece:
            children = tuple(child.path[-1] for child in node.children)
            begin = start + lead
            self.chunks.append(Chunk(piece, section, len(self.chunks), begin, begin + len(piece), children))

    def fits_span(self, start: int, end: int, room: int) -> bool:
        return self.count_tokens(self.text[start:end].strip()) <= room

    def fits(self, node: _Node, room: int) -> bool:
        return self.fits_span(node.start, node.end, room)

    def emit_split(self, node: _Node, section: str, room: int, start: int, end: int) -> None:
        """Emit ``text[start:end]`` as chunks: its paragraphs (a list with its lead-in) packed while they fit."""
        group: list[int] | None = None
        for a, b in _units(self.text, start, end, self.lists):
            if group is not None and self.fits_span(group[0], b, room):
                group[1] = b
                continue
            if group is not None:
                self.emit(node, section, *group)
            group = [a, b] if self.fits_span(a, b, room) else None
            if group is None:
                self.emit_pieces(node, section, room, a, b)
        if group is not None:
            self.emit(node, section, *group)

    def emit_pieces(self, node: _Node, section: str, room: int, start: int, end: int) -> None:
        """A paragraph or list too long for one chunk: cut between items, then lines, then sentences."""
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=room,
            chunk_overlap=0,
            length_function=self.count_tokens,
            separators=_SEPARATORS,
            keep_separator="start",
            strip_whitespace=True,
        )
        body = self.text[start:end]
        cursor = 0
        for piece in splitter.split_text(body):
            piece = piece.strip()
            if not piece:
                continue
            local = body.find(piece, cursor)
            if local < 0:  # the splitter re-joined whitespace differently; fall back to a fresh search
                local = max(body.find(piece), 0)
            cursor = local + len(piece)
            self.emit(node, section, start + local, start + local + len(piece))

    def pack(self, children: list[_Node], room: int) -> list[list[_Node]]:
        """Consecutive sibling subtrees that fit the window together; a subtree too big alone stands alone."""
        groups: list[list[_Node]] = []
        for child in children:
            if (
                groups
                and self.fits(child, room)
                and self.fits(groups[-1][0], room)
                and self.fits_span(groups[-1][0].start, child.end, room)
            ):
                groups[-1].append(child)
                continue
            groups.append([child])
        return groups

    def walk(self, node: _Node) -> None:
        section, room = self.budget(node.path)
        if node.children and self.fits_span(node.body_start, node.end, room):
            self.emit(node, section, node.body_start, node.end)
            return
        groups = self.pack(node.children, room)
        body_end = node.body_end
        # A closing paragraph that ends with a colon ("… as follows:") introduces the sections after it:
        # keep it with them when they are packed together, so a list never loses its lead-in.
        lead = _lead_in(self.text, node.body_start, node.body_end)
        join = (
            lead is not None and bool(groups) and len(groups[0]) > 1 and self.fits_span(lead, groups[0][-1].end, room)
        )
        if join:
            body_end = lead
        if self.text[node.body_start : body_end].strip():
            self.emit_split(node, section, room, node.body_start, body_end)
        elif len(node.children) > 1 and not join:
            # A heading with nothing but sub-headings under it: its heading line alone is the chunk that
            # carries its outline (``children``), so "what does chapter 3 cover?" can be answered.
            self.emit(node, section, node.start, node.body_start)
        for i, group in enumerate(groups):
            if i == 0 and join:
                self.emit(node, section, lead, group[-1].end)
            elif len(group) == 1:
                self.walk(group[0])
            else:
                self.emit(node, section, group[0].start, group[-1].end)

    def finish(self) -> list[Chunk]:
        """The chunks, each part of a list that spans several chunks marked with that list's span."""
        marked = []
        for chunk in self.chunks:
            split = [
                (lo, hi)
                for lo, hi in self.lists
                if chunk.start < hi and lo < chunk.end and not (chunk.start <= lo and hi <= chunk.end)
            ]
            marked.append(replace(chunk, list_span=split[0]) if split else chunk)
        return marked


def _lines(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, str, bool]]:
    """(offset, line, inside a code fence) for each line of ``text[start:end]``; fence lines count as inside."""
    found = []
    offset, in_fence = start, False
    for line in text[start:end].splitlines(keepends=True):
        fence = bool(_FENCE.match(line))
        found.append((offset, line, in_fence or fence))
        in_fence ^= fence
        offset += len(line)
    return found


def list_spans(text: str) -> list[tuple[int, int]]:
    """Each Markdown list in ``text`` (outside code fences) as a span from its lead-in to its last item.

    The lead-in is the paragraph just before the first item when it runs straight into the list or ends with a
    colon. An item runs on over indented lines and over blank lines followed by another item.
    """
    spans: list[list[int]] = []
    current: list[int] | None = None
    para_start: int | None = None
    para_last = ""
    blank = False
    for offset, line, fenced in _lines(text):
        end = offset + len(line.rstrip())
        if fenced or _HEADING.match(line):
            current, para_start, blank = None, None, False
        elif not line.strip():
            blank = True
        elif LIST_MARKER.match(line):
            if current is None:
                lead = para_start is not None and (not blank or para_last.rstrip().endswith(":"))
                current = [para_start if lead else offset, end]
                spans.append(current)
            current[1], blank = end, False
        elif current is not None and (line[:1].isspace() or not blank):
            current[1], blank = end, False
        else:
            current = None
            if para_start is None or blank:
                para_start = offset
            para_last, blank = line, False
    return [(a, b) for a, b in spans]


def _units(text: str, start: int, end: int, lists: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The paragraphs of ``text[start:end]`` as spans; the paragraphs of one list (lead-in included) as one."""
    paragraphs: list[list[int]] = []
    fresh = True
    for offset, line, fenced in _lines(text, start, end):
        if not line.strip() and not fenced:
            fresh = True
            continue
        if fresh:
            paragraphs.append([offset, offset])
            fresh = False
        paragraphs[-1][1] = offset + len(line.rstrip())
    units: list[list[int]] = []
    for a, b in paragraphs:
        same_list = units and any(lo <= units[-1][0] < hi and lo <= a < hi for lo, hi in lists)
        if same_list:
            units[-1][1] = b
        else:
            units.append([a, b])
    return [(a, b) for a, b in units]
