"""A PDF's printed lines with their fonts and positions, its outline and its title, as Markdown blocks.

pdfplumber (MIT, on pdfminer.six) gives every character with its font name, size and position, so words are
spaced by the gaps between letters and a heading is known by its bigger or bolder type. pypdf's text
extraction runs together the words of justified text ("thepackage'scontrolfiles") and its per-run font sizes
are nominal (before the text matrix scales them), so it is used only for what it does well: the outline
(bookmarks), the /Title and encryption. Headings come from the outline when it names most of its entries'
lines, else from type size and weight, with the plain-text rules (numbered, capitals) as well.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any

import pdfplumber
from pdfplumber.utils.text import extract_text

from ingest.layout import Line, drop_furniture, mend_page_breaks
from ingest.structure import Block, blocks_from_lines, heading_key, item_marker, number_depth

if TYPE_CHECKING:
    from pypdf import PdfReader

_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.I)
_MONO = re.compile(r"mono|courier|consol|code|typewriter", re.I)
_TEXT = {"x_tolerance_ratio": 0.15}
"""Letters closer than this fraction of the font size belong to one word: justified text has narrow spaces."""
_SUPERSCRIPT = 0.8
_BIGGER = 1.15
_SMALLER = 0.9
_HEADING_LEADING = 1.6
"""A heading's lines are at most this many times its type size apart."""


@dataclass
class _Printed:
    """One line as pdfplumber sees it, with the font it is set in."""

    text: str
    x0: float
    x1: float
    top: float
    size: float
    bold: bool
    mono: bool
    page: int


def _printed(page: Any, number: int) -> list[_Printed]:
    found = []
    for line in page.extract_text_lines(return_chars=True, strip=True, **_TEXT):
        unique = list({id(c): c for c in line["chars"]}.values())  # a ligature is listed once per letter
        chars = [c for c in unique if c["text"].strip()]
        if not chars or not line["text"].strip():
            continue
        sizes = Counter(round(c["size"], 1) for c in chars)
        size = sizes.most_common(1)[0][0]
        text = line["text"]
        if any(c["size"] < size * _SUPERSCRIPT for c in chars):  # footnote marks ("areas¹"): not words
            chars = [c for c in chars if c["size"] >= size * _SUPERSCRIPT]
            text = extract_text([c for c in unique if c["size"] >= size * _SUPERSCRIPT], **_TEXT)
        fonts = [c.get("fontname", "") for c in chars]
        found.append(
            _Printed(
                " ".join(text.split()),
                line["x0"],
                line["x1"],
                line["top"],
                size,
                all(_BOLD.search(f) for f in fonts),
                all(_MONO.search(f) for f in fonts),
                number,
            )
        )
    return found


def _outline(reader: PdfReader) -> list[tuple[str, int, int]]:
    """(title, depth, page index) of each bookmark, in order; [] when there is none or it is broken."""
    entries: list[tuple[str, int, int]] = []

    def walk(items: list, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            page = reader.get_destination_page_number(item)
            if item.title and page is not None and page >= 0:
                entries.append((str(item.title).strip(), depth, page))

    try:
        walk(reader.outline, 1)
    except Exception:  # noqa: BLE001 - a damaged outline only loses the bookmarks, not the text
        return []
    return entries


class _Page:
    """Geometry shared by the document's pages: body type size, text margin, line spacing."""

    def __init__(self, pages: list[list[_Printed]], widths: list[float]) -> None:
        printed = [p for page in pages for p in page]
        sizes = Counter()
        for p in printed:
            sizes[p.size] += len(p.text)
        self.body = sizes.most_common(1)[0][0] if sizes else 10.0
        body = [p for p in printed if abs(p.size - self.body) < 0.5]
        self.left = Counter(round(p.x0) for p in body).most_common(1)[0][0] if body else 0.0
        self.unit = self.body * 0.5
        steps = sorted(
            b.top - a.top
            for page in pages
            for a, b in zip(page, page[1:], strict=False)
            if b.top > a.top and abs(a.size - self.body) < 0.5 and abs(b.size - self.body) < 0.5
        )
        # The step between lines of a paragraph: the shorter steps, and never more than 1.5 × the type size
        # (a document of one-line paragraphs has almost only the longer steps between paragraphs).
        self.leading = min(steps[len(steps) // 4] if steps else self.body * 1.2, self.body * 1.5)
        page_width = median(widths) if widths else self.left * 2 + 80 * self.unit
        # The right margin mirrors the left one: a short paragraph alone on a page must not look full-width.
        self.width = max(page_width - 2 * self.left, 20 * self.unit) / self.unit

    def line(self, p: _Printed, previous: _Printed | None) -> Line:
        gap = previous is None or p.top - previous.top > self.leading * 1.3 or abs(p.size - previous.size) > 0.5
        return Line(p.text, (p.x0 - self.left) / self.unit, (p.x1 - self.left) / self.unit, gap, p.page, mono=p.mono)

    def heading_style(self, p: _Printed) -> str:
        """A style name for a line set bigger or bolder than the body, else ""; names sort by prominence."""
        marker = item_marker(p.text)
        if p.mono or len(p.text.split()) > 20 or p.text.endswith((".", ",", ";")) or (marker and marker["bullet"]):
            return ""
        bigger = p.size >= self.body * _BIGGER
        if not bigger and not (p.bold and p.size >= self.body * 0.95 and len(p.text.split()) <= 14):
            return ""
        return f"{1000 - p.size:07.2f}{'a' if p.bold else 'b'}"


def _mark_outline(pages: list[list[_Printed]], lines: dict[int, Line], outline: list, geo: _Page) -> bool:
    """Give each bookmark's line its level when most bookmarks are found on their pages; say whether they were."""
    found: list[tuple[Line, int, str, list[Line]]] = []
    taken: set[int] = set()
    for title, depth, index in outline:
        page = pages[index] if index < len(pages) else []
        want = heading_key(title)
        for n, p in enumerate(page):
            following = page[n + 1] if n + 1 < len(page) else None
            joined = f"{p.text} {following.text}" if following else ""
            if id(p) in taken or not want or want not in (heading_key(p.text), heading_key(joined)):
                continue
            text, gone = (p.text, []) if heading_key(p.text) == want else (joined, [lines[id(following)]])
            if text.isupper():  # a title set in capitals: the bookmark spells it as written
                text = re.match(r"^[\d.]*\s*", text).group(0) + title
            for above in reversed(page[:n]):  # "CHAPTER" / "TWO" printed over a chapter's title
                if (
                    id(above) in taken
                    or len(above.text.split()) > 4
                    or not (above.bold or above.size >= geo.body * _BIGGER)
                ):
                    break
                gone.append(lines[id(above)])
            found.append((lines[id(p)], depth, text, gone))
            taken.add(id(p))
            break
    if len(found) < max(1, len(outline) // 2):
        return False
    for line, depth, text, gone in found:
        line.text, line.level, line.gap = text, depth, True
        for other in gone:
            other.text = ""
    return True


def _mark_fonts(pages: list[list[_Printed]], lines: dict[int, Line], geo: _Page) -> list[str]:
    """Style the lines set as headings, joining a heading that wraps; return the styles by prominence."""
    styles = set()
    for page in pages:
        for n, p in enumerate(page):
            style = geo.heading_style(p)
            following = page[n + 1] if n + 1 < len(page) else None
            standalone = following is None or lines[id(following)].gap or geo.heading_style(following) == style
            if not style or (p.size < geo.body * _BIGGER and not standalone):
                continue  # a bold line running into body text is a run-in title or a list item, not a heading
            line = lines[id(p)]
            previous = lines[id(page[n - 1])] if n else None
            if previous is not None and previous.style == style and _wraps(page[n - 1], p):
                previous.text += " " + line.text
                line.text = ""
                continue
            line.style = style
            styles.add(style)
    return sorted(styles)


def _wraps(above: _Printed, p: _Printed) -> bool:
    """Whether ``p`` carries on the heading line above it: the next line of its type, with no number of its own.

    Big type is set with more space between its lines than the body, so the body's paragraph spacing would
    break a wrapped heading in two ("2.6. RECOVERING DATA FROM DAMAGED" / "FILES").
    """
    step = p.top - above.top
    return 0 < step <= max(p.size, above.size) * _HEADING_LEADING and number_depth(p.text) is None


def _flow(lines: list[Line], small: set[int], width: float) -> list[Line]:
    """Join the pages: a paragraph runs on over a page break, and footnotes go after it, not inside it."""
    pages: dict[int, list[Line]] = {}
    for line in lines:
        pages.setdefault(line.page, []).append(line)
    notes = {n: [] for n in pages}
    for n, on_page in pages.items():
        while on_page and id(on_page[-1]) in small:
            notes[n].insert(0, on_page.pop())
        if notes[n]:
            notes[n][0].gap = True
    body = [line for on_page in pages.values() for line in on_page]
    mend_page_breaks(body, width)
    out: list[Line] = []
    pending: list[Line] = []
    previous: Line | None = None
    for line in body:
        if previous is not None and line.page != previous.page:
            pending.extend(notes.pop(previous.page, []))
        # Notes wait for a new paragraph of the body text: not a list's next item or an item's indented text.
        if pending and (line.level or line.style or (line.gap and line.indent <= 1 and not item_marker(line.text))):
            out.extend(pending)
            pending = []
        out.append(line)
        previous = line
    return out + pending + [line for n in sorted(notes) for line in notes[n]]


def pdf_blocks(path: Path, reader: PdfReader) -> list[Block]:
    """The PDF's blocks: headings, paragraphs reflowed across lines and pages, lists with their lead-ins."""
    with pdfplumber.open(path) as pdf:
        pages = [_printed(page, n) for n, page in enumerate(pdf.pages)]
        geo = _Page(pages, [float(page.width) for page in pdf.pages])
    lines: dict[int, Line] = {}
    for page in pages:
        for n, p in enumerate(page):
            lines[id(p)] = geo.line(p, page[n - 1] if n else None)
    outline = _outline(reader)
    use_outline = bool(outline) and _mark_outline(pages, lines, outline, geo)
    order = [] if use_outline else _mark_fonts(pages, lines, geo)
    small = {id(lines[id(p)]) for page in pages for p in page if p.size < geo.body * _SMALLER}
    laid = [[lines[id(p)] for p in page if lines[id(p)].text] for page in pages]
    kept = _flow(drop_furniture(laid), small, geo.width)
    return blocks_from_lines(
        kept, hyphenate=True, text_rules=not use_outline, style_order=order or None, width=geo.width
    )
