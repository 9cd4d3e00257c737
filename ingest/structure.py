"""Find a laid-out document's headings, lists and paragraphs, and write them as Markdown.

The readers (plain text, PDF) hand over :class:`~ingest.layout.Line`\\ s; some come with a heading style the
reader saw (an underline, a bigger or bolder font) or a level it knows (a PDF outline). On top of those, text
alone marks a heading when a line stands by itself and reads like a title: numbered ("2.1. General rules",
"3 Scope"), a division ("Chapter 4", "Annex B: Forms"), in capitals, centred, or the document's opening line.
A numbered heading's level is its number's depth; a style's level is the depth its numbered headings share,
else its rank (first seen, or the reader's order of prominence); divisions nest part › chapter › section.

List items are recognised by their markers ("-", "•", "1.", "(a)", "iv)") with their nesting (by indent, and
by a change of marker style at the same indent) and keep their lead-in: the paragraph before a list is written
directly above it, with no blank line, when it ends with a colon or mid-sentence, so the splitter keeps the two
together. A short line with indented text under it is a definition list's term, written as "term: definition".
A list written inside a sentence ("the following: (a) x; (b) y") is unfolded into items. A list that only
repeats the document's headings (a table of contents) is dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ingest.layout import PERMALINK, TERMINAL, Line, join_lines, runs_on, word_counts, wrap_width

_BULLETS = "-*+•‣▪◦●○■□–—»·\uf0b7\uf0a7\uf0d8\uf0fc\uf076"
_ITEM = re.compile(
    rf"^(?:(?P<bullet>[{re.escape(_BULLETS)}])"
    r"|(?P<open>\()?(?P<label>\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{2,6})(?P<close>(?(open)\)|[.)])))\s+(?=\S)"
)
_ROMAN = re.compile(r"^[ivxlc]+$", re.I)
_NUMBERED = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,3})*)\.?\s+(?P<title>\S.*)$")
_DIVISION = re.compile(
    r"^(?P<kind>chapter|part|section|article|annex|appendix|schedule)\s+(?P<n>\d{1,3}|[IVXLC]{1,6}|[A-Z])\b"
    r"[.:]?(?:\s*[-–—:.]?\s+(?P<title>\S.*))?$",
    re.I,
)
_DIVISION_WORD = r"^(?:(?:chapter|part|section|article|annex|appendix|schedule)\s+)?"
_INLINE_ITEM = re.compile(r"(?:(?<=\s)|^)\((?P<label>[a-z]|[ivx]{1,4}|\d{1,2})\)\s+(?=\S)")
_MAX_HEADING_WORDS = 14
_ANNOUNCES = re.compile(r"\b(?:the following|as follows)\b", re.I)
_CRUMB_END = re.compile(r"\s*[»›→>]$")


@dataclass
class Block:
    """One piece of the document: a heading, a paragraph, a list item or preformatted text."""

    kind: str
    """``heading``, ``para``, ``item`` or ``pre``."""
    text: str
    level: int = 0
    """A heading's level (1 = top), or a list item's depth (0 = top)."""
    label: str = ""
    """A list item's label as written ("1.", "(a)"); "" for a bullet."""


@dataclass
class _Piece:
    kind: str
    lines: list[Line] = field(default_factory=list)
    level: int = 0
    label: str = ""
    term: str = ""
    """A definition list's term: the short line above the indented definition that makes this item."""
    indent: float = 0.0
    """Where an item's marker (or term) stands: lines indented further belong to it."""


def item_marker(text: str) -> re.Match[str] | None:
    """The list-item marker at the start of ``text``, if it has one."""
    return _ITEM.match(text)


def _title_like(title: str) -> bool:
    words = title.split()
    return (
        0 < len(words) <= _MAX_HEADING_WORDS
        and len(title) <= 120
        and not title.endswith((".", ",", ";", ":"))
        and not title[:1].islower()
        and ". " not in title
    )


def heading_kind(text: str) -> tuple[str, int | None] | None:
    """``(style, depth)`` when ``text`` reads as a heading on its own: numbered, a division, or in capitals."""
    if division := _DIVISION.match(text):
        title = division.group("title")
        return (f"division:{division.group('kind').lower()}", None) if not title or _title_like(title) else None
    if numbered := _NUMBERED.match(text):
        if _title_like(numbered.group("title")):
            return "numbered", numbered.group("num").count(".") + 1
        return None
    letters = [c for c in text if c.isalpha()]
    capitals = sum(c.isupper() for c in letters)
    if len(letters) >= 4 and capitals >= 0.9 * len(letters) and len(text.split()) <= _MAX_HEADING_WORDS:
        return ("caps", None) if not text.endswith((",", ";")) else None
    return None


def number_depth(text: str) -> int | None:
    """The depth of a heading's leading section number: 1 for "3 Scope", 2 for "2.1. General rules"."""
    numbered = _NUMBERED.match(text)
    return numbered.group("num").count(".") + 1 if numbered else None


def _group_start(lines: list[Line], i: int, step: int) -> Line | None:
    """The first line of the group before (``step=-1``) or after (``step=1``) the one line ``i`` stands in."""
    j = i + step
    if step < 0:
        while j > 0 and not lines[j].gap:
            j -= 1
    return lines[j] if 0 <= j < len(lines) else None


def _in_numbered_list(lines: list[Line], i: int) -> bool:
    """Whether a standalone "1. Apples" belongs to a numbered list: a neighbour is the item before or after it."""
    number = int(_NUMBERED.match(lines[i].text).group("num"))
    if i and lines[i - 1].text.endswith(":"):
        return True
    for step in (-1, 1):
        other = _group_start(lines, i, step)
        match = _NUMBERED.match(other.text) if other is not None else None
        if match and "." not in match.group("num") and abs(int(match.group("num")) - number) == 1:
            return True
    return False


def _centred(lines: list[Line], i: int, width: float) -> bool:
    """A title-like line centred between the margins, unlike the lines beside it (not an indented block)."""
    line = lines[i]
    neighbours = [lines[j].indent for j in (i - 1, i + 1) if 0 <= j < len(lines)]
    return (
        line.indent > width * 0.2
        and abs(line.indent - (width - line.end)) <= max(3.0, width * 0.07)
        and all(abs(indent - line.indent) > 2 for indent in neighbours)
        and _title_like(line.text)
    )


def _headings(lines: list[Line], width: float, text_rules: bool) -> dict[int, tuple[str, int | None, int]]:
    """Index of each heading line → (style, number depth, level the reader knows)."""
    found: dict[int, tuple[str, int | None, int]] = {}
    for i, line in enumerate(lines):
        if line.style == PERMALINK:  # a sure heading, but not its level: that comes from its number or kind
            found[i] = (*(heading_kind(line.text) or (PERMALINK, None)), line.level)
            continue
        if line.level or line.style:
            found[i] = (line.style or "outline", number_depth(line.text), line.level)
            continue
        if not text_rules or line.mono or not (line.gap or i == 0):
            continue
        following = lines[i + 1] if i + 1 < len(lines) else None
        if (
            following is not None
            and not following.gap
            and (runs_on(line, following, width) or following.indent > line.indent + 1)
        ):
            continue  # the line runs on, or is a term with its definition indented under it
        kind = heading_kind(line.text)
        if kind is None and _centred(lines, i, width):
            kind = ("centred", number_depth(line.text))
        if kind is None and i == 0 and _title_like(line.text) and not (following and item_marker(following.text)):
            found[i] = ("first-line", None, 1)  # a document opening with a line on its own (not a list's lead-in)
            continue
        if kind is None:
            continue
        if kind[0] == "numbered" and kind[1] == 1 and item_marker(line.text) and _in_numbered_list(lines, i):
            continue
        found[i] = (*kind, 0)
    return found


def _levels(found: dict[int, tuple[str, int | None, int]], order: list[str] | None) -> dict[int, int]:
    """A level per heading: known, else its number's depth, else its style's depth, else its style's rank."""
    evidence: dict[str, Counter[int]] = {}
    for style, depth, _ in found.values():
        if depth:
            evidence.setdefault(style, Counter())[depth] += 1
    seen = order or list(dict.fromkeys(style for style, _, _ in found.values()))
    # Divisions nest in their usual order: a part holds chapters (or annexes), a chapter holds sections.
    tiers = [{"part"}, {"chapter", "annex", "appendix", "schedule"}, {"section", "article"}]
    kinds = {style.split(":")[1] for style in seen if style.startswith("division:")}
    present = [tier for tier in tiers if tier & kinds]
    for tier_depth, tier in enumerate(present, start=1):
        for kind in tier:
            evidence.setdefault(f"division:{kind}", Counter())[tier_depth] += 1
    ranked = [s for s in seen if s not in evidence]
    levels = {}
    for i, (style, depth, known) in found.items():
        if known:
            levels[i] = known
        elif depth:
            levels[i] = depth
        elif style in evidence:
            levels[i] = evidence[style].most_common(1)[0][0]
        else:
            levels[i] = ranked.index(style) + 1 if style in ranked else 1
    return {i: min(level, 6) for i, level in levels.items()}


def _mark_preformatted(lines: list[Line]) -> None:
    """Indented groups laid out with inner alignment or varying indents are code or tables: keep their lines."""
    base = Counter(round(line.indent) for line in lines).most_common(1)[0][0] if lines else 0
    start = 0
    for end in range(1, len(lines) + 1):
        if end < len(lines) and not lines[end].gap:
            continue
        group = lines[start:end]
        indents = {round(line.indent) for line in group[1:]}
        indented = min(line.indent for line in group) > base + 1 and not item_marker(group[0].text)
        if indented and (any(line.mono for line in group) or len(indents) > 1):
            for line in group:
                line.mono = True
        start = end


class _Nesting:
    """Which depth a list item sits at, from its indent and its marker's style."""

    def __init__(self) -> None:
        self.stack: list[tuple[float, str, str]] = []

    def reset(self) -> None:
        self.stack.clear()

    def depth(self, indent: float, marker: re.Match[str]) -> int:
        while self.stack and self.stack[-1][0] > indent + 0.5:
            self.stack.pop()
        style, label = self._style(marker)
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][1] == style and abs(self.stack[k][0] - indent) <= 0.5:
                del self.stack[k + 1 :]
                self.stack[k] = (indent, style, label)
                return k
        self.stack.append((indent, style, label))
        return len(self.stack) - 1

    def _style(self, marker: re.Match[str]) -> tuple[str, str]:
        if marker.group("bullet"):
            return "bullet", ""
        label, form = marker.group("label"), ("(" if marker.group("open") else "") + marker.group("close")
        if label.isdigit():
            return f"number{form}", label
        case = "upper" if label.isupper() else "lower"
        alpha, roman = f"alpha-{case}{form}", f"roman-{case}{form}"
        if len(label) > 1:
            return roman, label
        if any(s == alpha and len(last) == 1 and ord(label) == ord(last) + 1 for _, s, last in self.stack):
            return alpha, label
        if label in "iI" or (_ROMAN.match(label) and any(s == roman for _, s, _ in self.stack)):
            return roman, label
        return alpha, label


def _pieces(lines: list[Line], heads: dict[int, int], width: float) -> list[_Piece]:
    """Group lines into headings, paragraphs, list items and preformatted runs."""
    pieces: list[_Piece] = []
    nesting = _Nesting()
    current: _Piece | None = None
    for i, line in enumerate(lines):
        previous = lines[i - 1] if i else None
        marker = None if line.mono else item_marker(line.text)
        if i in heads:
            pieces.append(current := _Piece("heading", [line], heads[i]))
            nesting.reset()
            current = None
        elif line.mono:
            if current is None or current.kind != "pre":
                pieces.append(current := _Piece("pre"))
            current.lines.append(line)
        elif marker:
            depth = nesting.depth(line.indent, marker)
            label = "" if marker.group("bullet") else marker.group(0).strip()
            stripped = Line(line.text[marker.end() :], line.indent, line.end, line.gap, line.page)
            pieces.append(current := _Piece("item", [stripped], depth, label, indent=line.indent))
        elif current is not None and _defines(current, line, previous, width):
            nesting.reset()
            current.kind, current.term, current.indent = "item", current.lines[0].text, current.lines[0].indent
            current.lines = [line]
        elif current is not None and _continues(current, line, previous, width):
            current.lines.append(line)
        else:
            nesting.reset()
            pieces.append(current := _Piece("para", [line]))
    return pieces


def _defines(piece: _Piece, line: Line, previous: Line | None, width: float) -> bool:
    """Whether ``line`` starts the definition of a term: a short line, then indented text under it."""
    if piece.kind != "para" or len(piece.lines) != 1 or line.gap or previous is None:
        return False
    term = piece.lines[0]
    words = term.text.split()
    return (
        line.indent > term.indent + 1
        and len(words) <= _MAX_HEADING_WORDS
        and not term.text.endswith((".", ",", ";"))
        and not runs_on(previous, line, width)
    )


def _continues(piece: _Piece, line: Line, previous: Line | None, width: float) -> bool:
    if piece.kind not in ("para", "item") or previous is None:
        return False
    if piece.kind == "item":
        if line.gap:  # a further paragraph of the item, indented under its text
            return line.indent > piece.indent + 0.5
        return line.indent > piece.indent + 0.5 or runs_on(previous, line, width)
    first = piece.lines[0]
    if line.gap:
        return False
    # A short line followed by an indented one is a term and its definition: two paragraphs.
    return not (line.indent > first.indent + 1 and not runs_on(previous, line, width))


def _text_of(lines: list[Line], width: float, counts: Counter[str], hyphenate: bool) -> str:
    """A paragraph's lines reflowed, keeping a line break only where the text does not run on."""
    runs: list[list[Line]] = [[lines[0]]]
    for previous, line in zip(lines, lines[1:], strict=False):
        if line.gap or not runs_on(previous, line, width):
            runs.append([line])
        else:
            runs[-1].append(line)
    return "\n".join(join_lines(run, counts, hyphenate) for run in runs)


def _pre_text(lines: list[Line]) -> str:
    """Preformatted lines as they were laid out: relative indents and blank lines kept."""
    left = min(line.indent for line in lines)
    return "\n".join(
        ("\n" if line.gap and n else "") + " " * round(line.indent - left) + line.text for n, line in enumerate(lines)
    )


def blocks_from_lines(
    lines: list[Line],
    hyphenate: bool,
    text_rules: bool = True,
    style_order: list[str] | None = None,
    width: float | None = None,
) -> list[Block]:
    """The document's blocks from its cleaned lines (see :func:`ingest.layout.drop_furniture`).

    ``hyphenate``: the text may have been hyphenated at line ends by a typesetter (PDF). ``text_rules``: also
    find headings by their text, not only those the reader marked. ``style_order``: the reader's heading
    styles, most prominent first; by default the order they first appear in. ``width``: where lines wrap, in
    character widths (a PDF knows its margins); by default estimated from the lines.
    """
    width = width or wrap_width(lines)
    counts = word_counts(lines)
    _mark_preformatted(lines)
    for line, following in zip(lines, lines[1:], strict=False):
        if line.mono and not following.mono and not following.gap and following.indent > line.indent + 1:
            line.mono = False  # a term in code type ("required") with its definition indented under it
    found = _headings(lines, width, text_rules)
    heads = _levels(found, style_order)
    blocks: list[Block] = []
    for piece in _pieces(lines, heads, width):
        if piece.kind == "pre":
            blocks.append(Block("pre", _pre_text(piece.lines)))
        elif piece.kind == "heading":
            blocks.append(Block("heading", " ".join(piece.lines[0].text.split()), piece.level))
        else:
            text = _text_of(piece.lines, width, counts, hyphenate)
            if piece.term:
                text = f"{piece.term.rstrip(':')}: {text}"
            blocks.append(Block(piece.kind, text, piece.level, piece.label))
    return finish(blocks)


def finish(blocks: list[Block]) -> list[Block]:
    """Unfold lists written inside a sentence; drop breadcrumb trails and lists that only repeat the headings."""
    return _drop_contents(_unfold_inline_lists(_drop_breadcrumbs(blocks)))


def _is_trail(run: list[Block]) -> bool:
    """A breadcrumb trail: short links, each but the last ending with a separator ("Home »", "Guides ›")."""
    return (
        len(run) >= 2
        and all(_CRUMB_END.search(b.text) for b in run[:-1])
        and all(len(b.text.split()) <= _MAX_HEADING_WORDS for b in run)
    )


def _drop_breadcrumbs(blocks: list[Block]) -> list[Block]:
    """Breadcrumb trails (a web page's navigation, kept by text converters) go, with a short label over them.

    A trail's last entry names the page it leads to: when no heading comes before the first trail, that name
    becomes the document's title heading, at the top.
    """
    out: list[Block] = []
    title: str | None = None
    i = 0
    while i < len(blocks):
        j = i
        while j < len(blocks) and blocks[j].kind == "item" and blocks[j].level == 0:
            j += 1
        if j > i and _is_trail(blocks[i:j]):
            label = out[-1] if out else None
            if label is not None and label.kind in ("para", "heading") and _is_label(label.text):
                out.pop()  # "Navigation", "You are here:" over the trail
            if title is None and not any(b.kind == "heading" for b in out):
                title = _CRUMB_END.sub("", blocks[j - 1].text).strip()
            i = j
            continue
        out.append(blocks[i])
        i += 1
    if title and not any(b.kind == "heading" and b.level == 1 and b.text == title for b in out):
        out.insert(0, Block("heading", title, 1))
    return out


def _is_label(text: str) -> bool:
    return len(text.split()) <= 3 and not text.rstrip().endswith((".", "!", "?", ";", ","))


def _sequence(labels: list[str]) -> bool:
    if labels[0] in ("a", "1"):
        return all(label == (chr(ord("a") + k) if labels[0] == "a" else str(k + 1)) for k, label in enumerate(labels))
    romans = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"]
    return labels == romans[: len(labels)]


def _unfold_inline_lists(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        colon = block.text.find(":") if block.kind == "para" else -1
        marks = list(_INLINE_ITEM.finditer(block.text, colon + 1)) if colon >= 0 else []
        labels = [m.group("label") for m in marks]
        if len(marks) < 2 or not _sequence(labels) or block.text[colon + 1 : marks[0].start()].strip():
            out.append(block)
            continue
        out.append(Block("para", block.text[: marks[0].start()].strip()))
        for mark, following in zip(marks, [*marks[1:], None], strict=True):
            end = following.start() if following else len(block.text)
            out.append(Block("item", block.text[mark.end() : end].strip(), 0, f"({mark.group('label')})"))
    return out


def heading_key(text: str) -> str:
    """A heading's words for matching it in a table of contents: no division word, number or punctuation."""
    label = _DIVISION_WORD + r"(?:[\d.]+|[ivxlc]+\.|[a-z]\.)?\s*"
    return re.sub(r"[^\w]+", "", re.sub(label, "", text.lower()))


def _drop_contents(blocks: list[Block]) -> list[Block]:
    headings = {heading_key(b.text) for b in blocks if b.kind == "heading"}
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        j = i
        while j < len(blocks) and blocks[j].kind == "item":
            j += 1
        run = blocks[i:j]
        if len(run) >= 3 and sum(heading_key(b.text) in headings for b in run) >= 0.7 * len(run):
            i = j
            if out and out[-1].kind == "heading" and (j == len(blocks) or blocks[j].kind == "heading"):
                out.pop()  # a heading over nothing but contents ("Appendices" in the contents pages)
            continue
        out.extend(run or [blocks[i]])
        i = max(j, i + 1)
    return _drop_contents_headings(out)


def _numbered_key(text: str) -> str:
    """A heading's number and words, without a division word: "Chapter 3. Scope" and "3. Scope" are one."""
    return re.sub(r"[^\w]+", "", re.sub(_DIVISION_WORD, "", text.lower()))


def _drop_contents_headings(blocks: list[Block]) -> list[Block]:
    """Contents set out as bare headings: a heading with nothing under it, repeated later, number and words."""
    later: Counter[str] = Counter(_numbered_key(b.text) for b in blocks if b.kind == "heading")
    out: list[Block] = []
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            later[_numbered_key(block.text)] -= 1
            empty = i + 1 == len(blocks) or blocks[i + 1].kind == "heading"
            if empty and later[_numbered_key(block.text)] > 0:
                continue
        out.append(block)
    return out


def is_lead_in(text: str) -> bool:
    """A paragraph that introduces the list after it: it ends with a colon, stops mid-sentence, or its last
    sentence announces what follows ("The following fields may be present.")."""
    text = text.rstrip()
    last = re.split(r"(?<=[.!?])\s+", text)[-1]
    return text.endswith(":") or not text.endswith(TERMINAL + (")", '"', "”", "'")) or bool(_ANNOUNCES.search(last))


def to_markdown(blocks: list[Block]) -> str:
    """Markdown for the blocks: ``#`` headings, ``-``/``1.`` lists nested by four spaces, fenced code."""
    out: list[str] = []
    for i, block in enumerate(blocks):
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        next_item = following is not None and following.kind == "item"
        if block.kind == "heading":
            out.append(f"{'#' * max(block.level, 1)} {block.text}\n\n")
        elif block.kind == "pre":
            out.append(f"```\n{block.text}\n```\n\n")
        elif block.kind == "item":
            marker = f"{block.label[:-1]}. " if re.fullmatch(r"\d+[.)]", block.label) else "- "
            if block.label and marker == "- ":
                marker += block.label + " "
            pad = "    " * block.level
            body = block.text.replace("\n", "\n" + pad + " " * len(marker))
            out.append(f"{pad}{marker}{body}" + ("\n" if next_item else "\n\n"))
        else:
            text = re.sub(r"^(\s*)#", r"\1\\#", block.text, flags=re.M)
            glued = (next_item and following.level == 0 and is_lead_in(text)) or (
                following is not None and following.kind == "pre" and text.endswith(":")
            )
            out.append(text + ("\n" if glued else "\n\n"))
    return "".join(out).strip() + "\n"
