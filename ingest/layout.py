"""Lines of a laid-out document (a hard-wrapped text file, a PDF's pages) and the rules that clean them.

Page furniture is dropped: running headers and footers (a line at the top or bottom of a page whose text, digits
aside, recurs there on other pages, or that carries the page number), bare page numbers ("7", "iv", "Page 3 of
10") and table-of-contents entries ("2.1 Scope . . . . 7"). The lines of a paragraph are joined back into one:
a line break is kept only where the line stopped short of the margin and the text does not run on mid-sentence.
A hyphen at a line end is kept or dropped by how the document itself spells the word elsewhere; with no
evidence, see :func:`join_hyphenated`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

TERMINAL = (".", "!", "?", ":", ";", "…", ".)", '."', ".”", "?”", "!”")
"""Line endings that can close a paragraph."""

_PAGE_NUMBER = re.compile(r"^[\s\-–—|]*(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?[\s\-–—|]*$", re.I)
_PAGE_OF = re.compile(r"^\s*page\s+\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\s*$", re.I)
_LEADER = re.compile(r"(?:\.\s?){4,}\s*(?:\d{1,4}|[ivxlc]{1,7})\s*$", re.I)
_EDGE_NUMBER = re.compile(r"^\s*(\d{1,4})\s+\S|\S\s+(\d{1,4})\s*$")
_CONTENTS_TITLE = re.compile(r"^\s*(?:table of )?contents\s*$", re.I)
_UNDERLINE = re.compile(r"^\s*([=\-*~^#+_\"'`.:])\1{2,}\s*$")
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")
PERMALINK = "permalink"
"""The style of a line that ends with a permalink mark ("3.1. Versions¶", as Sphinx writes headings in text)."""
_PERMALINK_MARK = re.compile(r"\s*¶\s*$")
_EDGE_LINES = 2
"""How many lines at the top and at the bottom of a page may be a running header or footer."""


@dataclass
class Line:
    """One printed line with where it sits: a plain-text line, or a line of a PDF page."""

    text: str
    indent: float = 0.0
    """Left edge, in character widths from the page's text margin."""
    end: float = 0.0
    """Right edge, in character widths from the same margin."""
    gap: bool = False
    """A blank line, or a paragraph's worth of space, comes before it."""
    page: int = 0
    style: str = ""
    """A heading style the reader saw (an underline character, a font size and weight); "" for body text."""
    level: int = 0
    """A heading level the reader knows for sure (a PDF's outline); 0 when it does not."""
    mono: bool = False
    """Preformatted: set in a fixed-width font, or laid out with inner alignment."""


def lines_from_text(text: str) -> list[list[Line]]:
    """A plain-text document as pages (split at form feeds) of lines.

    Underlined headings get a ``style``, and so does a line ending with a permalink mark (¶): documentation
    generators (Sphinx, MkDocs) put one after every heading, and text converted from their HTML keeps it.
    """
    pages: list[list[Line]] = []
    for number, page in enumerate(text.split("\f")):
        raw = [line.rstrip() for line in page.expandtabs(8).splitlines()]
        lines: list[Line] = []
        gap = False
        i = 0
        while i < len(raw):
            line = raw[i]
            if not line.strip():
                gap, i = True, i + 1
                continue
            under = _UNDERLINE.match(raw[i + 1]) if i + 1 < len(raw) else None
            if _UNDERLINE.match(line):
                # An overline (the line below is the title, then the same rule) or a bare rule: not text.
                over = i + 2 < len(raw) and raw[i + 2].strip() == line.strip() and raw[i + 1].strip()
                if over:
                    lines.append(_text_line(raw[i + 1], number, True, style=f"over{line.strip()[0]}"))
                    i += 3
                else:
                    i += 1
                gap = True
                continue
            if under and len(raw[i + 1].strip()) >= max(3, len(line.strip()) // 2):
                lines.append(_text_line(line, number, True, style=f"under{under.group(1)}"))
                gap, i = True, i + 2
                continue
            if _PERMALINK_MARK.search(line) and line.strip() != "¶":
                lines.append(_text_line(_PERMALINK_MARK.sub("", line), number, True, style=PERMALINK))
                gap, i = True, i + 1
                continue
            lines.append(_text_line(line, number, gap or not lines))
            gap, i = False, i + 1
        pages.append(lines)
    return pages


def _text_line(raw: str, page: int, gap: bool, style: str = "") -> Line:
    text = raw.strip()
    indent = len(raw) - len(raw.lstrip())
    return Line(text, indent, indent + len(text), gap, page, style, mono=bool(re.search(r"\S {3,}\S", text)))


def _fingerprint(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _edges(page: list[Line]) -> list[Line]:
    return page[:_EDGE_LINES] + page[max(_EDGE_LINES, len(page) - _EDGE_LINES) :]


def _running_lines(pages: list[list[Line]]) -> set[int]:
    """Ids of lines at a page's edge that recur on other pages: by their text, or by the page number they carry."""
    if len(pages) < 2:
        return set()
    need = max(2, min(3, len(pages) // 2))
    texts: Counter[str] = Counter()
    offsets: Counter[int] = Counter()
    for index, page in enumerate(pages):
        texts.update({_fingerprint(line.text) for line in _edges(page)})
        offsets.update({n - index for line in _edges(page) if (n := _edge_number(line.text)) is not None})
    found = set()
    for index, page in enumerate(pages):
        for line in _edges(page):
            number = _edge_number(line.text)
            if texts[_fingerprint(line.text)] >= need or (number is not None and offsets[number - index] >= need):
                found.add(id(line))
    return found


def _edge_number(text: str) -> int | None:
    match = _EDGE_NUMBER.search(text)
    return int(match.group(1) or match.group(2)) if match else None


def drop_furniture(pages: list[list[Line]]) -> list[Line]:
    """The document's lines in reading order, without running headers/footers, page numbers or contents pages."""
    running = _running_lines(pages)
    kept: list[Line] = []
    for page in pages:
        if page and sum(bool(_LEADER.search(line.text)) for line in page) >= max(3, len(page) * 0.7):
            continue  # a table-of-contents page: the headings it lists are read from the body
        edges = {id(line) for line in _edges(page)} if len(pages) > 1 else set()
        for line in page:
            if id(line) in running or (id(line) in edges and _PAGE_NUMBER.match(line.text)):
                continue
            if _PAGE_OF.match(line.text) or _LEADER.search(line.text) or _CONTENTS_TITLE.match(line.text):
                continue  # a contents entry, or the title of a contents list that shares its page with the body
            kept.append(line)
    return kept


def wrap_width(lines: list[Line]) -> float:
    """The column plain text was wrapped at: near its longest ordinary lines, and no less than 50 columns.

    The floor keeps a few short lines (an address, a signature) from being read as a narrow wrapped paragraph.
    """
    ends = sorted(line.end for line in lines if not line.style and not line.mono)
    return max(ends[int(len(ends) * 0.95)] if ends else 80.0, 50.0)


def runs_on(line: Line, following: Line, width: float) -> bool:
    """Whether ``following`` carries on ``line``'s paragraph: ``line`` was wrapped, or stops mid-sentence."""
    first = following.text.split(" ", 1)[0]
    # Wrapped: the next word would not have fitted, on a line that starts where the paragraph does (not a
    # right-aligned or centred line that only happens to end near the margin).
    wrapped = line.end + 1 + len(first) >= width * 0.85 and line.indent <= following.indent + 4
    mid_sentence = not line.text.endswith(TERMINAL) and following.text[:1].islower()
    return wrapped or mid_sentence


def mend_page_breaks(lines: list[Line], width: float) -> None:
    """A page break is a paragraph break only where the text before it does not run on (see :func:`runs_on`)."""
    for previous, line in zip(lines, lines[1:], strict=False):
        if line.page != previous.page and not (line.level or line.style):
            line.gap = not runs_on(previous, line, width)


def word_counts(lines: list[Line]) -> Counter[str]:
    """How often each word (hyphenated compounds as one word) is spelt in the document, lower-cased."""
    counts: Counter[str] = Counter()
    for line in lines:
        counts.update(word.lower() for word in _WORD.findall(line.text))
    return counts


def join_hyphenated(left: str, right: str, counts: Counter[str], hyphenate: bool) -> str:
    """Join a line ending in a hyphen to the next: ``gover-`` + ``nance`` → ``governance``.

    The document decides when it spells the word elsewhere, joined or hyphenated. Otherwise the hyphen is
    dropped only when ``hyphenate`` says the text was hyphenated by a typesetter (a PDF) and both halves are
    lower-case letters; plain-text wrappers never add hyphens, so there ``well-`` + ``being`` stays
    ``well-being``, and so does ``Pre-`` + ``Depends`` everywhere.
    """
    if left.endswith("\u00ad"):  # a soft hyphen only ever marks a break
        return left[:-1] + right
    head = _WORD.findall(left)[-1] if _WORD.findall(left) else ""
    tail = _WORD.match(right)
    tail_word = tail.group(0) if tail else ""
    whole, split = (head + tail_word).lower(), f"{head}-{tail_word}".lower()
    if counts[whole] != counts[split]:
        keep = counts[split] > counts[whole]
    else:
        keep = not (hyphenate and head[-1:].islower() and tail_word[:1].islower())
    return (left if keep else left[:-1]) + right


def join_lines(lines: list[Line], counts: Counter[str], hyphenate: bool) -> str:
    """The lines of one paragraph as one line of text."""
    text = ""
    for line in lines:
        piece = line.text
        if not text:
            text = piece
        elif re.search(r"[^\W\d_]-$|\u00ad$", text) and piece[:1].isalnum():
            text = join_hyphenated(text, piece, counts, hyphenate)
        else:
            text = f"{text} {piece}"
    return text
