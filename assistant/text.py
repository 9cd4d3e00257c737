"""Text rules shared by answers, drafts, the web layer and the evals: one definition of each.

Citation markers (``[1]``, ``[1, 2]``, ``[1–3]``), list-item and heading markers, sentence splitting, content
words (stemmed, stopwords dropped, numbers kept) and the passage format the verifier reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import Stemmer

SECTION_SEPARATOR = " › "
"""Joins a chunk's heading path, outermost first: ``Framework › Pillar two: managing inputs``."""

__all__ = [
    "CITATION",
    "HEADING_MARKER",
    "LIST_ITEM",
    "LIST_MARKER",
    "SECTION_SEPARATOR",
    "Token",
    "Unit",
    "citation_numbers",
    "content_words",
    "passage_text",
    "plain_lines",
    "split_sentences",
    "strip_citations",
    "strip_list_marker",
    "tokens",
    "units",
    "word_set",
]

_CACHE_SIZE = 4096

# ----------------------------------------------------------------------------------------------------------
# Citation, list and heading markers; the passage format
# ----------------------------------------------------------------------------------------------------------

CITATION = re.compile(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")
"""A citation marker: ``[1]``, ``[1, 2]``, ``[1; 3]`` or a range ``[1–3]`` / ``[1-3]``; group 1 is the inside."""

LIST_MARKER = re.compile(r"^\s*(?:[-*+•‣▪]|\d{1,3}[.)])\s+")
"""A Markdown list-item marker at the start of a line: ``-``, ``*``, ``+``, a bullet, or ``1.`` / ``1)``."""

LIST_ITEM = "- "
"""How answers and drafts write a list item: the start of its line (or of its sentence in an ``Answer``)."""

HEADING_MARKER = re.compile(r"^\s{0,3}#{1,6}\s")
"""The ``#`` marks (and the space after them) that open a Markdown heading line."""

_RANGE = re.compile(r"(\d+)\s*[–-]\s*(\d+)")
_CITATION_AND_SPACE = re.compile(rf"\s*{CITATION.pattern}")


def citation_numbers(text: str) -> list[int]:
    """Every source number cited in ``text``, in order and without repeats; ``[1–3]`` (or ``[3–1]``) gives 1, 2, 3."""
    found: list[int] = []
    for inside in CITATION.findall(text):
        for part in re.split(r"\s*[,;]\s*", inside):
            span = _RANGE.fullmatch(part)
            first, last = sorted((int(span[1]), int(span[2]))) if span else (int(part), int(part))
            for number in range(first, min(last, first + 50) + 1):
                if number not in found:
                    found.append(number)
    return found


def strip_citations(sentence: str) -> str:
    """Remove ``[n]``, ``[1, 2]`` and ``[1–3]`` markers and the space before them (they are not numbers to score)."""
    cleaned = _CITATION_AND_SPACE.sub("", sentence)
    # "claim [1]." leaves "claim ."; a word that starts with a dot (".bz2", ".pyc") keeps its space.
    return re.sub(r"\s+([.,;:!?])(?=\s|$)", r"\1", cleaned).strip()


def strip_list_marker(line: str) -> str:
    """``line`` without a leading list-item marker."""
    return LIST_MARKER.sub("", line, count=1)


def plain_lines(text: str) -> str:
    """``text`` with each line's heading marks or else its list-item marker removed (a quote may span items).

    A heading keeps its own numbering: ``## 1. Policy advice`` becomes ``1. Policy advice``.
    """
    lines = text.splitlines()
    return "\n".join(
        HEADING_MARKER.sub("", line) if HEADING_MARKER.match(line) else strip_list_marker(line) for line in lines
    )


def passage_text(section: str, text: str) -> str:
    """A chunk as the verifier reads it: with its heading path, since "Wellbeing: Improve community cohesion" is
    supported by the heading and the item together."""
    return f"{section}\n\n{text}"


# ----------------------------------------------------------------------------------------------------------
# Sentences and list items
# ----------------------------------------------------------------------------------------------------------

_RULE_LINE = re.compile(r"^\s*(?:[-*_]\s*){3,}$|^\s*\|?\s*:?-{3,}")
# A candidate boundary: terminal punctuation, closing quotes/brackets, citation markers, then whitespace or the
# end (so the markers of a last sentence stay with it).
_BOUNDARY = re.compile(rf"[.!?…]+[\"'”’)\]]*(?:\s*{CITATION.pattern})*(?=\s+\S|\s*$)")
_ABBREVIATION_WORDS = (
    "e.g i.e eg ie cf vs viz al approx est mr mrs ms dr prof sir st no nos fig figs vol pp ed eds dept govt "
    "jan feb mar apr jun jul aug sep sept oct nov dec para paras art arts sec ch"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
"""Words after which a full stop does not end a sentence."""


@dataclass(frozen=True)
class Unit:
    """One sentence or list-item sentence of a text, with where it sits (for windows and exact quotes)."""

    text: str
    start: int
    end: int
    group: int
    """Units in the same group (one paragraph, or one run of list items) may be joined into a window."""
    heading: str = ""
    """The sub-heading the unit sits under, in a passage ("Tackling economic inequality"); empty otherwise."""


def _blocks(text: str) -> list[tuple[int, int, str]]:
    """Cut text into blocks: (start, end, kind), kind ``para``, ``item`` (list item) or ``heading``.

    Horizontal rules are dropped. A list item's continuation lines (no marker, no blank line) stay with the
    item, as in Markdown. A heading's span excludes its ``#`` marks.
    """
    blocks: list[tuple[int, int, str]] = []
    current: list[Any] | None = None  # [start, end, kind]
    offset = 0
    for line in text.splitlines(keepends=True):
        line_start, line_end = offset, offset + len(line.rstrip("\r\n"))
        offset += len(line)
        heading = HEADING_MARKER.match(line)
        if not line.strip() or heading or _RULE_LINE.match(line):
            if current:
                blocks.append((current[0], current[1], current[2]))
            current = None
            if heading:
                title = line.rstrip("\r\n").rstrip("# \t")
                if title[heading.end() :].strip():
                    blocks.append((line_start + heading.end(), line_start + len(title), "heading"))
            continue
        marker = LIST_MARKER.match(line)
        if marker:
            if current:
                blocks.append((current[0], current[1], current[2]))
            current = [line_start + marker.end(), line_end, "item"]
        elif current is None:
            current = [line_start + len(line) - len(line.lstrip()), line_end, "para"]
        else:
            current[1] = line_end
    if current:
        blocks.append((current[0], current[1], current[2]))
    return blocks


def _is_boundary(block: str, start: int, dot: int, after: int) -> bool:
    """Whether the punctuation at ``block[dot]`` ends the sentence begun at ``start``; the next starts at ``after``."""
    following = block[after:].lstrip()
    if following and CITATION.search(block[dot:after]):
        return True  # "… blocks. [1] bzip2recover is …": a cited sentence is complete, whatever follows it
    if not following or following[0].islower():
        return False
    if block[dot] != ".":
        return True  # ? ! … always end a sentence before a capital
    words = block[start:dot].split()
    if not words:
        return False
    word = words[-1].strip("(\"'“‘")
    low = word.lower()
    if low in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)+[a-z]", low):
        return False
    enumerator = len(words) == 1 or words[-2].endswith((":", ";"))
    if re.fullmatch(r"[A-Z]", word):
        # "A. Behaving…" (an enumerator) and "Mark H. Moore" (an initial after a capitalised word) go on;
        # "principles A and B. Principles C…" ends.
        return not (enumerator or words[-2][:1].isupper())
    return not (enumerator and re.fullmatch(r"\d{1,3}|[ivxIVX]{1,4}", word))  # "areas: 1. Policy…"


def _split_block(block: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(block):
        if match.start() >= start and _is_boundary(block, start, match.start(), match.end()):
            spans.append((start, match.end()))
            start = match.end()
            while start < len(block) and block[start].isspace():
                start += 1
    spans.append((start, len(block)))
    return [(a, b) for a, b in spans if block[a:b].strip(" \t\n-–—*•:;,.")]


@lru_cache(maxsize=_CACHE_SIZE)
def units(text: str, headings: bool = False) -> tuple[Unit, ...]:
    """The sentences and list items of ``text``; with ``headings``, sub-headings too (for passages).

    A run of list items is one group; so is a heading with the block right after it (and that block's run
    of items), so windows can join "Tackling economic inequality" to "Create new businesses…".
    """
    units: list[Unit] = []
    group = -1
    previous = ""
    heading, heading_group = "", -1
    for start, end, kind in _blocks(text):
        if kind == "heading":
            if headings:
                group += 1
                heading, heading_group = " ".join(text[start:end].split()), group
                units.append(Unit(heading, start, end, group))
            previous = kind
            continue
        if not ((kind == "item" and previous == "item") or (headings and previous == "heading")):
            group += 1
        previous = kind
        block = text[start:end]
        for a, b in _split_block(block):
            piece = block[a:b]
            stripped = piece.strip()
            lead = a + piece.find(stripped)
            context = heading if group == heading_group else ""
            units.append(Unit(" ".join(stripped.split()), start + lead, start + lead + len(stripped), group, context))
    return tuple(units)


def split_sentences(text: str) -> list[str]:
    """Split answer text into the sentences to verify, one claim per item as far as a splitter can tell.

    Paragraphs are split at sentence ends; each Markdown list item (``- …``, ``* …``, ``1. …``) is its own
    sentence (several, if it holds several), without its marker; headings and horizontal rules are dropped,
    since they claim nothing. Citation markers stay with the sentence they follow, whether written
    ``claim [1].``, ``claim.[1]`` or ``claim. [1][2]``. A full stop does not end a sentence after an
    abbreviation (``e.g.``, ``i.e.``, ``Sir``, ``Dr.``), an initial (``Mark H. Moore``), an enumerator
    (``A. Behaving…``) or before a lower-case word (``etc. and``). Wrapped lines are joined with a space.
    """
    return [unit.text for unit in units(text)]


# ----------------------------------------------------------------------------------------------------------
# Content words, numbers and identifiers
# ----------------------------------------------------------------------------------------------------------

# Function words carry no claim. Negations and quantifiers ("not", "all", "only") stay content words on
# purpose: "all services" against "not all services" must lose overlap.
_STOPWORD_TEXT = """
a about above after again against am an and are aren as at be because been before being below between both but
by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself of off on once or other
our ours ourselves out over own same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves also may might must shall s t d ll re ve m o y st
nd rd th via per etc eg ie e g well within whether thus therefore however
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_NUMBER_WORD_TEXT = (
    "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand"
)
_NUMBER_WORDS = dict(
    zip(_NUMBER_WORD_TEXT.split(), [*range(2, 21), 30, 40, 50, 60, 70, 80, 90, 100, 1000], strict=True)
)  # "one" is left out: far more often a pronoun ("one of the outcomes") than a count
_TOKEN = re.compile(r"(\d+(?:[.,]\d+)*)|([^\W\d_]+(?:'[^\W\d_]+)?)|([,;:()!?]|(?<=\w\w)\.(?=\s|$))")
"""A number, a word, or a clause break (a full stop only after a word of two or more characters: "A." and
"H." are an enumerator and an initial, not the end of a clause)."""


@dataclass(frozen=True)
class Token:
    """One piece of content of a text: a word, a number, a letter or an acronym, and the clause it sits in."""

    text: str
    """Stemmed lower-case word (also for acronyms), normalised number (``"48"``) or capital letter (``"C"``)."""
    kind: str
    """``word``, ``number``, ``letter`` (principle ``C``) or ``acronym`` (``OECD``)."""
    clause: int
    """Tokens of one clause (between commas, semicolons, colons, brackets, sentence ends) share this."""

    @property
    def identifier(self) -> bool:
        """Numbers, letters and acronyms name facts that must match exactly; a paraphrase cannot change them."""
        return self.kind != "word"


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def _normalise_number(token: str) -> str:
    """``1,000`` → ``1000``, ``06`` → ``6``, ``4.0`` → ``4``: the same quantity compares equal."""
    token = token.replace(",", "")
    try:
        value = float(token)
    except ValueError:
        return token
    return str(int(value)) if value.is_integer() else str(value)


def _spelling(word: str) -> str:
    """Fold British/American spellings before stemming (organisation/organization, behaviour/behavior)."""
    word = re.sub(r"(?<=\w{3})is(e|ed|es|ing|ation|ations|er|ers)$", r"iz\1", word)
    return re.sub(r"(?<=\w{3})our$", "or", word)


@lru_cache(maxsize=_CACHE_SIZE)
def tokens(text: str, claim: bool = False) -> tuple[Token, ...]:
    """The content of ``text`` in reading order: stemmed content words, numbers, letters and acronyms.

    A single capital letter (not "I") is a letter identifier (principle ``C``), except as the first word
    of a claim, where it is the article "A". Two or more capitals, optionally with a plural "s" (``OECD``,
    ``SMEs``), are an acronym: usually an organisation or a programme, whose invention is a hallucination.
    """
    pending: list[tuple[str, str, int]] = []  # (text, kind, clause); words are stemmed below in one call
    clause = 0
    first = True
    for number, word, stop in _TOKEN.findall(strip_citations(text).replace("’", "'")):
        if stop:
            clause += 1
            continue
        at_start, first = first, False
        if number:
            pending.append((_normalise_number(number), "number", clause))
            continue
        if len(word) == 1 and word.isupper() and word != "I" and not (claim and at_start):
            pending.append((word, "letter", clause))
            continue
        kind = "acronym" if re.fullmatch(r"[A-Z]{2,}s?", word) else "word"
        low = word.lower()
        if low.endswith("n't"):
            pending.append((low[:-3], "word", clause))
            low = "not"
        low = low.split("'")[0]
        if low in _NUMBER_WORDS:
            pending.append((str(_NUMBER_WORDS[low]), "number", clause))
        elif low and (kind == "acronym" or low not in _STOPWORDS):
            pending.append((low, kind, clause))
    stems = iter(_stemmer().stemWords([_spelling(t) for t, kind, _ in pending if kind in ("word", "acronym")]))
    return tuple(Token(next(stems) if kind in ("word", "acronym") else t, kind, c) for t, kind, c in pending)


@lru_cache(maxsize=_CACHE_SIZE)
def word_set(text: str, claim: bool = False) -> frozenset[str]:
    """The content words of ``text`` as a cached frozen set; ``claim`` as in :func:`tokens`."""
    return frozenset(t.text.lower() for t in tokens(text, claim))


def content_words(text: str) -> set[str]:
    """The words that carry a claim: lower-cased, stopwords removed, stemmed, numbers kept (``four`` → ``4``).

    Citation markers are removed first, so ``[2]`` is not mistaken for the number 2. Negations and
    quantifiers (``not``, ``all``, ``only``) count as content words, since dropping one changes the claim.
    """
    return set(word_set(text))
