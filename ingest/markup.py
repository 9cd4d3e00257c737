"""Blocks from documents that mark up their own structure: Word (styles, list numbering) and HTML (elements).

Word: "Title" and "Heading n" styles are headings; a paragraph in a list style or with list numbering is an
item at its numbering level, numbered when its style is a numbered one; tables are read row by row, in body
order. HTML: ``h1``–``h6`` are headings (a first heading that repeats the ``<title>`` is the title, level 1),
``ul``/``ol`` items keep their nesting, ``dl`` terms carry their definitions (nested lists nest), ``pre`` stays
as written, and the page's furniture (``nav``, ``header``, ``footer``, ``aside``, scripts) and permalink
anchors ("¶") are dropped. A table's rows, in both, become items that read as definitions ("term: meaning").
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag

from ingest.structure import Block, finish


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SKIP = _names("script style noscript template iframe object svg nav header footer aside form button head")
_BLOCK = _names(
    "p ul ol dl pre table blockquote div section article main body figure figcaption address details summary "
    "h1 h2 h3 h4 h5 h6 li hr"
)
_LISTS = _names("ul ol")
_FURNITURE_ROLES = _names("navigation banner contentinfo search complementary")
"""ARIA landmarks of a page's furniture, for sites that mark them on a ``div`` rather than ``nav``/``footer``."""
_ANCHOR_MARKS = {"¶", "#", "§", "🔗", "link"}


def _words(text: str) -> str:
    return " ".join(text.split())


def docx_blocks(document: Any) -> list[Block]:
    """The blocks of a python-docx ``Document``, in body order."""
    blocks: list[Block] = []
    counters: dict[int, int] = {}
    for part in document.iter_inner_content():
        if not hasattr(part, "style") or not hasattr(part, "runs"):  # a table
            counters.clear()
            rows = [list(dict.fromkeys(_words(cell.text) for cell in row.cells)) for row in part.rows]
            blocks.extend(table_rows(rows))
            continue
        text = _words(part.text)
        if not text:
            continue
        style = (part.style.name if part.style is not None else "") or ""
        level = 1 if style == "Title" else int(m.group(1)) if (m := re.fullmatch(r"Heading (\d)", style)) else 0
        depth = _list_depth(part, style)
        if level:
            blocks.append(Block("heading", text, min(level, 6)))
            counters.clear()
        elif depth is not None:
            label = ""
            if "Number" in style:
                for deeper in [k for k in counters if k > depth]:
                    del counters[deeper]
                counters[depth] = counters.get(depth, 0) + 1
                label = f"{counters[depth]}."
            blocks.append(Block("item", text, depth, label))
        else:
            counters.clear()
            blocks.append(Block("para", text))
    return finish(blocks)


def _list_depth(paragraph: Any, style: str) -> int | None:
    """A list paragraph's nesting depth (0 = top), from its numbering level or its style ("List Bullet 2")."""
    props = paragraph._p.pPr
    numbering = props.numPr if props is not None else None
    if numbering is not None and numbering.ilvl is not None and numbering.ilvl.val is not None:
        return int(numbering.ilvl.val)
    if "List" in style:
        number = re.search(r"(\d)$", style)
        return int(number.group(1)) - 1 if number else 0
    return 0 if numbering is not None else None


def html_blocks(html: str) -> tuple[list[Block], str | None]:
    """The blocks of an HTML page, and its ``<title>``."""
    soup = BeautifulSoup(html, "html.parser")
    title = _words(soup.title.get_text()) if soup.title else None
    for tag in soup(list(_SKIP)):
        tag.decompose()
    for tag in soup.find_all(attrs={"role": list(_FURNITURE_ROLES)}):
        tag.decompose()
    for anchor in soup.find_all("a"):
        if _words(anchor.get_text()) in _ANCHOR_MARKS:
            anchor.decompose()
    blocks: list[Block] = []
    _walk(soup.body or soup, blocks)
    heads = [b for b in blocks if b.kind == "heading"]
    if heads and title and heads[0].text == title and all(b.level > 1 for b in heads):
        heads[0].level = 1  # the page's title set as an h2 (DocBook), at the level of its own sections
    return finish(blocks), title or None


def _raw(element: Tag, skip: frozenset[str] = frozenset()) -> str:
    """``element``'s text as written: inline pieces joined as they stand, blocks apart; ``skip`` subtrees left out.

    A definition term is followed by a colon, so "<dt>Term</dt><dd>meaning</dd>" reads "Term: meaning".
    """
    parts: list[str] = []

    def visit(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Tag):
                if child.name in skip:
                    continue
                block = child.name in _BLOCK or child.name in ("br", "dt", "dd")
                parts.append(" " if block else "")
                visit(child)
                parts.append(": " if child.name == "dt" else " " if block else "")
            elif type(child) is NavigableString:
                parts.append(str(child))

    visit(element)
    return "".join(parts)


def _flat(element: Tag, skip: frozenset[str] = frozenset()) -> str:
    return _words(_raw(element, skip))


def _list(element: Tag, blocks: list[Block], depth: int) -> None:
    start = int(element.get("start", 1)) if str(element.get("start", "1")).isdigit() else 1
    for n, item in enumerate(element.find_all("li", recursive=False), start=start):
        text = _flat(item, _LISTS)
        if text:
            blocks.append(Block("item", text, depth, f"{n}." if element.name == "ol" else ""))
        for nested in item.find_all(["ul", "ol"], recursive=False):
            _list(nested, blocks, depth + 1)


def table_rows(rows: list[list[str]], headed: bool = False) -> list[Block]:
    """A table's rows as list items that read as definitions: "CC0: Creative Commons Zero 1.0 Universal."

    The first cell names the row and the rest say what it is; with a header row and more than two columns,
    each further value is labelled with its column's header ("Waste: Collected: weekly; Bin: grey").
    """
    header = rows[0] if headed and rows else []
    blocks = []
    for row in rows[1:] if headed else rows:
        cells = [(header[k] if k < len(header) else "", cell) for k, cell in enumerate(row)]
        cells = [(label, cell) for label, cell in cells if cell]
        if not cells:
            continue
        if len(cells) == 1:
            blocks.append(Block("item", cells[0][1]))
            continue
        labelled = len(row) > 2 and any(label for label, _ in cells[1:])
        rest = [f"{label}: {cell}" if labelled and label else cell for label, cell in cells[1:]]
        term = cells[0][1].rstrip(":")
        blocks.append(Block("item", f"{term}: {'; '.join(rest)}"))
    return blocks


def _definitions(element: Tag, blocks: list[Block], depth: int) -> None:
    """A ``dl``: each term with its definition as one item; lists and definition lists inside a definition nest."""
    nested = _LISTS | {"dl"}
    term = ""
    for child in element.find_all(["dt", "dd"], recursive=False):
        if child.name == "dt":
            if term:
                blocks.append(Block("item", term, depth))
            term = _flat(child)
            continue
        text = _flat(child, nested)
        blocks.append(Block("item", f"{term.rstrip(':')}: {text}" if term and text else term or text, depth))
        term = ""
        for inner in child.find_all(list(nested)):
            if inner.find_parent([*nested, "dd", "li"]) is not child:
                continue  # inside a deeper list: that list's own walk reaches it
            if inner.name == "dl":
                _definitions(inner, blocks, depth + 1)
            else:
                _list(inner, blocks, depth + 1)
    if term:
        blocks.append(Block("item", term, depth))


def _walk(element: Tag, blocks: list[Block]) -> None:
    """Blocks for ``element``'s children; runs of inline content between blocks become paragraphs."""
    inline: list[str] = []

    def flush() -> None:
        text = _words("".join(inline))
        inline.clear()
        if text:
            blocks.append(Block("para", text))

    for child in element.children:
        if type(child) is NavigableString:
            inline.append(str(child))
            continue
        if not isinstance(child, Tag) or child.name in _SKIP:
            continue
        if child.name not in _BLOCK and not child.find(list(_BLOCK)):
            inline.append(" " if child.name == "br" else _raw(child))
            continue
        flush()
        name = child.name
        if re.fullmatch(r"h[1-6]", name):
            if text := _flat(child):
                blocks.append(Block("heading", text, int(name[1])))
        elif name in ("ul", "ol"):
            _list(child, blocks, 0)
        elif name == "dl":
            _definitions(child, blocks, 0)
        elif name == "pre":
            blocks.append(Block("pre", child.get_text().strip("\n")))
        elif name == "table":
            rows = [[_flat(cell) for cell in row.find_all(["td", "th"])] for row in child.find_all("tr")]
            header = child.find("tr")
            headed = header is not None and not header.find("td") and header.find("th") is not None
            blocks.extend(table_rows(rows, headed))
        elif name == "p" and not child.find(list(_BLOCK)):
            if text := _flat(child):
                blocks.append(Block("para", text))
        else:
            _walk(child, blocks)
    flush()
