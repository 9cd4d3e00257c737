"""Sentence-level answer verification: is each sentence of an answer supported by the passages it cites?

A chat model can cite a passage and still say something the passage does not say: a changed number, the
wrong principle letter, a fact from a neighbouring section, or plausible general knowledge. This module
scores every answer sentence against its passages, so the answer chain can report ``grounding`` and flag
the sentences a reader should not trust, and the drafting engine can catch over-claims.

Checkers are pluggable (:func:`get_checker`, setting ``grounding_checker``):

``embedding`` (default)
    Fast and offline, built on the bundled all-MiniLM-L6-v2. It averages two signals that fail in different
    ways: the cosine similarity between the sentence and the best-matching *window* of the passage (a
    sentence or list item, two adjacent ones, an item under its sub-heading, or the whole passage), which
    catches paraphrase but is blind to numbers, letters and negation; and the share of the sentence's
    content words (stemmed) found in the passage, which catches invented entities but is blind to word
    order. Three checks then cover what both miss, each multiplying the score by a penalty: numbers,
    letters and acronyms (``48``, ``2012``, principle ``C``, ``OECD``) the passage lacks; numbers and letters
    it has but next to other words ("8 themes" where it says "5 themes and 8 policy outcomes"; "Principle A
    … openness" where openness is B); and a negation the best-matching passage sentence does not share, or
    the other way round ("all services" for "not all services"). Wording checks, in words of the language
    rather than of any corpus, catch what keeps nearly every word of the passage: a reversal of its
    best-matching sentence (modality "need only consider" for "must evaluate", before/after,
    increase/reduce, including/except, what a negation applies to), a changed actor, level or universal
    quantifier ("local councils" for "central government", "every package"), and priority or strength no
    passage states ("above all", "the most important", "only"). A sentence that is word for word in a
    passage, line wraps, hyphenation and markers aside, is supported outright. The weight and the threshold
    are calibrated on ``evals/datasets/grounding_pairs.jsonl`` by ``python -m evals.calibrate``. Known blind
    spots: swapped roles or categories that keep every word ("Themes are the measures…", "the postinst
    before, the preinst after"), antonyms outside the checked axes ("ignores"), and counts the passage only
    implies (seven list items, no "seven").
``nli:/path/to/cross-encoder``
    A local sentence-transformers ``CrossEncoder`` folder (e.g. an NLI model); the score is its entailment
    probability for (passage, sentence). Stronger on swapped facts, slower; nothing is downloaded.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from assistant.config import Settings
from assistant.models.embeddings import vector_cache

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

# --- calibrated constants (written by evals/calibrate.py; do not edit by hand) ---
# Calibrated 2026-11-29 on evals/datasets/grounding_pairs.jsonl (96 calibration / 100 held-out pairs).
# Held-out: balanced accuracy 0.921, precision 0.941, recall 0.906.
# All 196 pairs: balanced accuracy 0.944, precision 0.954, recall 0.945.
EMBEDDING_WEIGHT = 0.5
"""Weight of the cosine similarity in the support score; the rest goes to content-word overlap."""
EMBEDDING_THRESHOLD = 0.687
"""Support score at or above which the embedding checker counts a sentence as grounded."""
# --- end calibrated constants ---

NUMBER_PENALTY = 0.5
"""Score multiplier per number, letter or acronym the passages lack (``50`` for ``48``), or per number they
have next to other words ("8 themes" for "8 policy outcomes"): one alone takes a perfect match below any
sensible threshold, since a changed figure is the hallucination readers are least able to spot."""
BINDING_PENALTY = 0.7
"""Score multiplier per identifier letter found only next to other words ("Principle A … openness"); softer,
since a claim words a principle differently from the list that defines it ("C concerns…" / "C. Defining")."""
NEGATION_PENALTY = 0.6
"""Score multiplier when the sentence and its best-matching passage sentence disagree on negation."""
REVERSAL_PENALTY = 0.5
"""Score multiplier per reversal of the best-matching passage sentence: modality ("need only consider" for
"must evaluate"), order (before/after), direction (increase/reduce), inclusion (including/except), or what a
negation applies to. Like a changed figure, a reversal keeps nearly every word, so it must weigh as much."""
SCOPE_PENALTY = 0.6
"""Score multiplier per changed actor, level or universal quantifier ("local councils" for "central government",
"every package" for "a package maintained by a team")."""
INTENSIFIER_PENALTY = 0.6
"""Score multiplier per priority or strength word no passage has ("above all", "the most important", "only")."""
NLI_THRESHOLD = 0.5
"""Default threshold of a cross-encoder checker: its entailment probability."""

_CACHE_SIZE = 4096
_BINDING_AFTER_SENTENCE = 2  # content words after an identifier in the claim, compared with …
_BINDING_AFTER_PASSAGE = 3  # … the words after the same identifier in the passage (see _misbound)
_UNIVERSAL_WORDS = frozenset({"all", "everi"})  # stemmed quantifiers that _misbound binds like numbers

# ----------------------------------------------------------------------------------------------------------
# Sentence splitting
# ----------------------------------------------------------------------------------------------------------

_CITATION = re.compile(r"\s*\[\d+(?:\s*[,;–-]\s*\d+)*\]")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+•‣▪]|\d{1,3}[.)])\s+")
_HEADING_LINE = re.compile(r"^\s{0,3}#{1,6}\s")
_RULE_LINE = re.compile(r"^\s*(?:[-*_]\s*){3,}$|^\s*\|?\s*:?-{3,}")
# A candidate boundary: terminal punctuation, closing quotes/brackets, citation markers, then whitespace.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?:\s*\[\d+(?:\s*[,;–-]\s*\d+)*\])*(?=\s+\S)")
_ABBREVIATION_WORDS = (
    "e.g i.e eg ie cf vs viz al approx est mr mrs ms dr prof sir st no nos fig figs vol pp ed eds dept govt "
    "jan feb mar apr jun jul aug sep sept oct nov dec para paras art arts sec ch"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
"""Words after which a full stop does not end a sentence."""


@dataclass(frozen=True)
class _Unit:
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
        heading = _HEADING_LINE.match(line)
        if not line.strip() or heading or _RULE_LINE.match(line):
            if current:
                blocks.append((current[0], current[1], current[2]))
            current = None
            if heading:
                title = line.rstrip("\r\n").rstrip("# \t")
                if title[heading.end() :].strip():
                    blocks.append((line_start + heading.end(), line_start + len(title), "heading"))
            continue
        marker = _LIST_MARKER.match(line)
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
def _units(text: str, headings: bool = False) -> tuple[_Unit, ...]:
    """The sentences and list items of ``text``; with ``headings``, sub-headings too (for passages).

    A run of list items is one group; so is a heading with the block right after it (and that block's run
    of items), so windows can join "Tackling economic inequality" to "Create new businesses…".
    """
    units: list[_Unit] = []
    group = -1
    previous = ""
    heading, heading_group = "", -1
    for start, end, kind in _blocks(text):
        if kind == "heading":
            if headings:
                group += 1
                heading, heading_group = " ".join(text[start:end].split()), group
                units.append(_Unit(heading, start, end, group))
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
            units.append(_Unit(" ".join(stripped.split()), start + lead, start + lead + len(stripped), group, context))
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
    return [unit.text for unit in _units(text)]


def strip_citations(sentence: str) -> str:
    """Remove ``[n]`` / ``[1, 2]`` markers (and the space before them), so they are not scored as numbers."""
    cleaned = _CITATION.sub("", sentence)
    return re.sub(r"\s+([.,;:!?])", r"\1", cleaned).strip()


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
_NEGATION_TEXT = "not no never none neither nor cannot without nothing rarely seldom hardly barely"
_NEGATIONS = frozenset(_NEGATION_TEXT.split())
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
class _Token:
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
def _stemmer() -> Any:
    import Stemmer

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
def _tokens(text: str, claim: bool = False) -> tuple[_Token, ...]:
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
    return tuple(_Token(next(stems) if kind in ("word", "acronym") else t, kind, c) for t, kind, c in pending)


@lru_cache(maxsize=_CACHE_SIZE)
def _content_words(text: str, claim: bool = False) -> frozenset[str]:
    return frozenset(t.text.lower() for t in _tokens(text, claim))


def content_words(text: str) -> set[str]:
    """The words that carry a claim: lower-cased, stopwords removed, stemmed, numbers kept (``four`` → ``4``).

    Citation markers are removed first, so ``[2]`` is not mistaken for the number 2. Negations and
    quantifiers (``not``, ``all``, ``only``) count as content words, since dropping one changes the claim.
    """
    return set(_content_words(text))


def _missing_identifiers(claim: str, passages: Sequence[str]) -> set[str]:
    """Numbers, letters and acronyms of the claim that no passage contains (acronyms in any case)."""
    known = {t.text for p in passages for t in _tokens(p) if t.kind in ("number", "letter")}
    words = frozenset().union(*(_content_words(p) for p in passages))
    missing = set()
    for token in _tokens(claim, True):
        if (token.kind in ("number", "letter") and token.text not in known) or (
            token.kind == "acronym" and token.text not in words
        ):
            missing.add(token.text)
    return missing


@lru_cache(maxsize=_CACHE_SIZE)
def _has_negation(text: str) -> bool:
    """Whether ``text`` negates: looked up before stemming, which would turn "nothing" into "noth"."""
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower().replace("’", "'"))
    return any(w in _NEGATIONS or w.endswith("n't") for w in words)


def _is_year(token: str) -> bool:
    return token.isdigit() and len(token) == 4 and 1800 <= int(token) <= 2199


def _following(tokens: Sequence[_Token], index: int, limit: int) -> list[str]:
    """Up to ``limit`` content tokens after ``tokens[index]`` in the same clause."""
    clause = tokens[index].clause
    return [t.text.lower() for t in tokens[index + 1 : index + 1 + limit] if t.clause == clause]


def _bindable(token: _Token) -> bool:
    return token.kind in ("number", "letter") or token.text in _UNIVERSAL_WORDS


def _misbound(claim: str, passages: Iterable[str]) -> list[_Token]:
    """Numbers and letters of the claim that the passages have, but never followed by the claim's words.

    "The model has 8 themes" against "5 themes and 8 policy outcomes": ``8`` is in the passage, followed by
    "policy outcomes", never by "themes". A number must be followed by the same words as in some passage
    occurrence, as far as that occurrence's clause goes ("48 core outcomes" vs "48 Core Measures" fails;
    "four areas of public value" vs "four areas, each…" passes). A letter is followed by a verb in a claim
    ("Principle C concerns defining…") and by the principle itself in a list ("C. Defining…"), so sharing
    any word suffices. An identifier that ends its clause in the claim, and years ("in 2012", "the 2017
    report"), are not judged. "all" and "every" bind like numbers ("all public procurements" for "all major
    central government procurements").
    """
    after: dict[str, list[list[str]]] = {}
    for passage in passages:
        tokens = _tokens(passage)
        for i, token in enumerate(tokens):
            if _bindable(token):
                after.setdefault(token.text, []).append(_following(tokens, i, _BINDING_AFTER_PASSAGE))
    claim_tokens = _tokens(claim, True)
    misbound: list[_Token] = []
    for i, token in enumerate(claim_tokens):
        if token.text not in after or not _bindable(token) or _is_year(token.text):
            continue
        following = _following(claim_tokens, i, _BINDING_AFTER_SENTENCE)
        if not following:
            continue
        if token.kind == "letter":
            bound = any(set(following) & set(occurrence) for occurrence in after[token.text])
        else:
            bound = any(set(following[: len(occurrence)]) <= set(occurrence) for occurrence in after[token.text])
        if not bound:
            misbound.append(token)
    return misbound


@lru_cache(maxsize=_CACHE_SIZE)
def _windows(passage: str) -> tuple[tuple[str, ...], int]:
    """(windows, local): units, adjacent pairs, units under their sub-heading, then the whole passage.

    The first ``local`` windows are not the whole passage. Pairs stay within a paragraph or a run of list
    items (with the heading above it): a list item joined to the lead-in before it would let "principle
    A …" borrow the letter of its neighbour. A sub-heading is often the only place a packed chunk names
    what its items belong to ("Wellbeing: Improve community cohesion").
    """
    units = _units(passage, headings=True)
    windows = [u.text for u in units]
    windows += [f"{a.text} {b.text}" for a, b in zip(units, units[1:], strict=False) if a.group == b.group]
    windows += [f"{u.heading}: {u.text}" for u in units if u.heading]
    windows = list(dict.fromkeys(w for w in windows if w)) or [" ".join(passage.split())]
    local = len(windows)
    if len(units) > 2:
        windows.append(" ".join(u.text for u in units))
    return tuple(windows), local


# ----------------------------------------------------------------------------------------------------------
# Wording checks: verbatim quotes, reversals, scope and strength
# ----------------------------------------------------------------------------------------------------------

# Words of the language, not of any corpus: each axis holds groups that exclude one another. A claim that uses
# a group of an axis its best-matching passage sentence does not, while that sentence uses another group of
# the same axis, reverses it: "need only consider" for "must evaluate", "before" for "after". Modality sets
# obligation against permission only: "should" sits between the two ("we need to spend" → "should be spent" is
# fair), and "can" mostly states ability ("a package that cannot supply…").
_AXES: dict[str, dict[str, re.Pattern[str]]] = {
    "modality": {
        "obligation": re.compile(
            r"\b(?:must|shall|mandatory|compulsory|oblig(?:ed|ated|ation|ations|atory)|requir(?:e|es|ed|ing)"
            r"|necessary|ha(?:s|ve|d|ving)\s+to|needs?\s+to|needed\s+to)\b"
        ),
        "permission": re.compile(
            r"\b(?:may|optional(?:ly)?|free\s+to|discretion(?:ary)?|voluntar(?:y|ily)"
            r"|need\s+only|only\s+needs?|choose|choice)\b"
        ),
    },
    "order": {
        "before": re.compile(r"\b(?:before|beforehand|prior\s+to)\b"),
        "after": re.compile(r"\b(?:after|afterwards?|subsequent(?:ly)?)\b"),
    },
    "direction": {
        "up": re.compile(r"\b(?:increas\w*|rais(?:e|es|ed|ing)|ris(?:e|es|ing)|rose|grow\w*|grew|expand\w*)\b"),
        "down": re.compile(r"\b(?:decreas\w*|reduc\w*|declin\w*|cut(?:s|ting)?|shrink\w*|diminish\w*|minimi[sz]\w*)\b"),
    },
    "inclusion": {
        "include": re.compile(r"\binclud(?:e|es|ed|ing)\b"),
        "exclude": re.compile(r"\b(?:exclud\w*|except\w*)\b"),
    },
}
_ACTORS = re.compile(
    r"\b(government|council|department|ministr|agenc|authorit|regulator|supplier|contractor|business|charit"
    r"|citizen|team|maintainer|developer|employer|employee|board|committee|parliament|minister|court|commissioner"
    r"|bidder|provider|local|central|national|regional|federal|municipal|international|private|voluntary)\w*"
)
"""Who a claim is about, and at what level: "local councils" for "central government" changes the claim."""
_UNIVERSALS = re.compile(r"\b(?:all|every|each|everyone|everything)\b")
"""Quantifiers a claim may not add to the sentence it rests on ("every package" where it says "if …")."""
_INTENSIFIERS = re.compile(
    r"\b(?:above\s+all|most\s+(?:important|significant|critical|essential)|(?:the\s+)?(?:top|first|highest|main|"
    r"overriding|primary|foremost|chief)\s+(?:priority|priorities|concern|consideration|goal|aim)|paramount|foremost"
    r"|crucial|vital|always|only|solely|exclusively|alone|sole|invariably|without\s+exception|guarantee[sd]?"
    r"|absolutely|entirely|completely|at\s+all\s+times|in\s+all\s+cases)\b"
)
"""Priority and strength a passage must state itself ("above all", "the most important", "only", "always")."""
_SAME_STRENGTH = {
    "at all times": "always",
    "in all cases": "always",
    "invariably": "always",
    "solely": "only",
    "exclusively": "only",
    "alone": "only",
    "sole": "only",
}
_HYPHEN_BREAK = re.compile(r"(\w)-[ \t]*\r?\n\s*(\w)|(\w)[ \t]*\r?\n\s*-(\w)")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_MIN_QUOTE_WORDS = 4
_NEGATED_WORDS = 2  # content words after a negation that it applies to, for the negation-scope check
_EXCEPTION = re.compile(r"\b(?:except|unless|other\s+than)\b")


def _unwrapped(text: str) -> str:
    """``text`` with words hyphenated across a line end joined again ("dis-\\ntribution", "x\\n-window")."""
    return _HYPHEN_BREAK.sub(lambda m: "".join(g for g in m.groups() if g), text)


@lru_cache(maxsize=_CACHE_SIZE)
def _plain(text: str) -> str:
    """Text reduced to its words, for verbatim comparison: " a b c ".

    Line-end hyphenation is joined ("dis-\\ntribution", "x\\n-window"), then every hyphen, quote, emphasis
    mark, list marker, citation and line break is dropped, so a sentence quoted from a hard-wrapped PDF or a
    plain-text manual matches its passage.
    """
    text = _unwrapped(_CITATION.sub(" ", text).replace("*", "").replace("`", ""))
    text = re.sub(r"(?<=\w)-(?=\w)", "", text.lower().replace("’", "'"))
    return f" {_NOT_ALNUM.sub(' ', text).strip()} "


def _quoted(claim: str, passages: Sequence[str]) -> bool:
    """Whether the claim is word for word in a passage (at least a few words, not right after a negation)."""
    plain = _plain(claim)
    if len(plain.split()) < _MIN_QUOTE_WORDS:
        return False
    for passage in passages:
        body = _plain(passage)
        start = body.find(plain)
        while start >= 0:
            before = body[:start].split()[-1:]
            if not (before and before[0] in _NEGATIONS):
                return True
            start = body.find(plain, start + 1)
    return False


def _groups(axis: dict[str, re.Pattern[str]], text: str) -> set[str]:
    low = text.lower().replace("’", "'")
    return {name for name, pattern in axis.items() if pattern.search(low)}


def _restricts(text: str) -> bool:
    """Whether ``text`` negates only to make an exception ("must not … except after"), i.e. says "only"."""
    return bool(_EXCEPTION.search(text.lower()))


def _negation_mismatch(claim: str, window: str) -> bool:
    """The claim and ``window`` disagree on negation; "only after" and "not … except after" agree."""
    said, written = _has_negation(claim), _has_negation(window)
    if said == written:
        return False
    negative, other = (claim, window) if said else (window, claim)
    return not (_restricts(negative) and re.search(r"\bonly\b", other.lower()))


@lru_cache(maxsize=1)
def _negation_stems() -> frozenset[str]:
    """Stemmed negations; "rarely" and "hardly" are left out, as their stems are words ("rare", "hard")."""
    return frozenset(t.text for t in _tokens(" ".join(w for w in _NEGATIONS if not w.endswith("ly"))))


def _negated(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(negated, asserted): the first content words after each negation, and the words outside its clause.

    "It is not necessary to specify relationships that are always needed": negated {necessary, specify},
    and "needed" is neither, so the claim "relationships do not need to be specified" is not contradicted.
    """
    negated: set[str] = set()
    asserted: set[str] = set()
    clause, after = -1, -1  # after: content words seen since the clause's negation (-1: none yet)
    for token in _tokens(text):
        if token.clause != clause:
            clause, after = token.clause, -1
        if token.text in _negation_stems():
            after = 0
        elif after < 0:
            asserted.add(token.text)
        else:
            after += 1
            if after <= _NEGATED_WORDS:
                negated.add(token.text)
    return frozenset(negated), frozenset(asserted - negated)


def _reversals(claim: str, window: str, passages: Sequence[str]) -> int:
    """Axes (modality, order, direction, inclusion, negation scope) on which the claim reverses ``window``.

    ``window`` is the passage sentence (or pair) the claim matches best. An axis counts when the claim uses
    a group of it that ``window`` lacks while ``window`` uses another; an order word ("before") counts too
    when no passage has one. Negation scope: both negate, but each negates what the other asserts ("will not
    be considered a bug, and will render…" for "will be considered a bug, but will not necessarily render…").
    """
    count = 0
    for name, axis in _AXES.items():
        said, written = _groups(axis, claim), _groups(axis, window)
        if not written and name == "order":
            written = set().union(*(_groups(axis, p) for p in passages)) or {"none"}
        count += bool(written and said - written)
    if _has_negation(claim) and _has_negation(window):
        claim_not, claim_yes = _negated(claim)
        window_not, window_yes = _negated(window)
        count += bool(claim_not & window_yes and window_not & claim_yes)
    return count


def _scope_changes(claim: str, window: str, passages: Sequence[str]) -> int:
    """Actors, levels and universal quantifiers the claim changes.

    Counted: each actor or level word no passage has ("local councils"); an actor of the best-matching
    sentence swapped for another ("package maintainers" for "the Release Team"); and a universal quantifier
    that sentence lacks ("every package" for "if the maintainer is a team"). A quantifier bound to other
    words ("all public procurements") is one of :func:`_misbound`'s.
    """
    low = claim.lower()
    actors = set(_ACTORS.findall(low))
    known = {a for p in passages for a in _ACTORS.findall(_unwrapped(p).lower())}
    in_window = set(_ACTORS.findall(window.lower()))
    count = len(actors - known)
    count += bool((actors & known) - in_window and in_window - actors)
    return count + bool(_UNIVERSALS.search(low) and not _UNIVERSALS.search(window.lower()))


def _intensifiers(claim: str, passages: Sequence[str]) -> int:
    """Priority or strength words of the claim ("above all", "the most important", "only") no passage has.

    Synonyms count as the same word: "at all times" is "always", "solely" is "only", and so is a passage's
    "except" or "unless" ("must not … except after" says "only after").
    """
    said = _strengths(claim)
    written = set().union(*(_strengths(p) | ({"only"} if _restricts(p) else set()) for p in passages))
    return len(said - written)


def _strengths(text: str) -> set[str]:
    found = {" ".join(m.split()) for m in _INTENSIFIERS.findall(_unwrapped(text).lower())}
    return {_SAME_STRENGTH.get(word, word) for word in found}


# ----------------------------------------------------------------------------------------------------------
# Checkers
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportFeatures:
    """The raw signals behind an embedding support score (kept apart so calibration can reweigh them)."""

    cosine: float
    """Best cosine similarity between the sentence and any window of any passage (0..1)."""
    overlap: float
    """Share of the sentence's content words found in the passages (1.0 if it has none)."""
    missing_identifiers: int
    """Numbers, identifier letters and acronyms of the sentence that no passage contains."""
    misbound_numbers: int
    """Numbers the passages contain, but never followed by the sentence's words ("8 themes")."""
    misbound_letters: int
    """Identifier letters the passages contain, never next to the sentence's words ("Principle A … openness")."""
    negation_mismatch: bool
    """The sentence and its best-matching passage sentence (or pair) disagree on negation."""
    quoted: bool = False
    """The sentence is word for word in a passage (line wraps, hyphenation, quotes and markers aside)."""
    reversals: int = 0
    """Axes on which the sentence reverses its best-matching passage sentence (see ``_reversals``)."""
    scope_changes: int = 0
    """Actors, levels and universal quantifiers the sentence changes (see ``_scope_changes``)."""
    intensifiers: int = 0
    """Priority or strength words of the sentence that no passage has."""

    def combine(self, weight: float | None = None) -> float:
        """The support score: weighted mean of cosine and overlap, times the penalties; 0..1 (1 for a quote)."""
        if self.quoted:
            return 1.0
        weight = EMBEDDING_WEIGHT if weight is None else weight
        base = weight * self.cosine + (1.0 - weight) * self.overlap
        base *= NUMBER_PENALTY ** (self.missing_identifiers + self.misbound_numbers)
        base *= BINDING_PENALTY**self.misbound_letters
        if self.negation_mismatch:
            base *= NEGATION_PENALTY
        base *= REVERSAL_PENALTY**self.reversals * SCOPE_PENALTY**self.scope_changes
        base *= INTENSIFIER_PENALTY**self.intensifiers
        return float(min(max(base, 0.0), 1.0))


@runtime_checkable
class GroundingChecker(Protocol):
    """Scores how well passages support one answer sentence."""

    name: str
    threshold: float

    def score(self, sentence: str, passages: Sequence[str]) -> float:
        """Support of ``sentence`` by ``passages`` (the ones it cites), 0 (none) .. 1 (fully)."""
        ...


class EmbeddingChecker:
    """The default checker: bundled sentence embeddings + stemmed word overlap + identifier/negation checks.

    Several passages count as one body of evidence (a sentence citing [1][2] may join facts from both): the
    cosine is that of the best window of any passage, words and identifiers are looked up in all of them.
    Pass only the passages the sentence cites: the more text, the easier support becomes.
    """

    name = "embedding"

    def __init__(self, embeddings: Embeddings, threshold: float | None = None, weight: float | None = None) -> None:
        self.embeddings = embeddings
        self.threshold = EMBEDDING_THRESHOLD if threshold is None else float(threshold)
        self.weight = EMBEDDING_WEIGHT if weight is None else float(weight)
        self._cache = vector_cache(embeddings)

    def warm(self, sentences: Sequence[str] = (), passages: Sequence[str] = ()) -> None:
        """Embed many sentences and passages in one batched call, ahead of scoring them one by one."""
        texts = [strip_citations(s) for s in sentences if s.strip()]
        texts += [w for p in passages if p and p.strip() for w in _windows(p)[0]]
        if texts:
            self._cache.get(texts)

    def features(self, sentence: str, passages: Sequence[str]) -> SupportFeatures:
        """The signals :meth:`score` combines; one batched encode for whatever is not cached yet."""
        claim = strip_citations(sentence)
        passages = [p for p in passages if p and p.strip()]
        if not claim or not passages:
            return SupportFeatures(0.0, 0.0, 0, 0, 0, False)
        windows: list[str] = []
        local: list[int] = []  # indices into windows of the single / paired units
        for passage in passages:
            texts, n_local = _windows(passage)
            local += range(len(windows), len(windows) + n_local)
            windows += texts
        vectors = self._cache.get([claim, *windows])
        similarities = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
        best_local = windows[max(local, key=lambda i: similarities[i])]

        words = _content_words(claim, True)
        evidence = frozenset().union(*(_content_words(p) for p in passages))
        overlap = len(words & evidence) / len(words) if words else 1.0
        misbound = _misbound(claim, passages)
        return SupportFeatures(
            cosine=float(similarities.max()),
            overlap=overlap,
            missing_identifiers=len(_missing_identifiers(claim, passages)),
            misbound_numbers=sum(1 for t in misbound if t.kind == "number"),
            misbound_letters=sum(1 for t in misbound if t.kind == "letter"),
            negation_mismatch=_negation_mismatch(claim, best_local),
            quoted=_quoted(claim, passages),
            reversals=_reversals(claim, best_local, passages),
            scope_changes=_scope_changes(claim, best_local, passages) + sum(1 for t in misbound if t.kind == "word"),
            intensifiers=_intensifiers(claim, passages),
        )

    def score(self, sentence: str, passages: Sequence[str]) -> float:
        return self.features(sentence, passages).combine(self.weight)


class CrossEncoderChecker:
    """A local cross-encoder (e.g. an NLI model) judging (passage, sentence) pairs; the best passage wins.

    With two or more labels the score is the softmax probability of the label named like "entail" (else
    label 1); with a single output, its sigmoid. The model loads on first use, from disk only.
    """

    def __init__(self, path: Path, threshold: float | None = None) -> None:
        self.path = path
        self.name = f"nli:{path}"
        self.threshold = NLI_THRESHOLD if threshold is None else float(threshold)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import CrossEncoder

                    self._model = CrossEncoder(str(self.path), device="cpu", local_files_only=True)
        return self._model

    def _entailment_index(self, n_labels: int) -> int:
        labels = getattr(getattr(self.model, "config", None), "id2label", None) or {}
        for index, label in labels.items():
            if "entail" in str(label).lower():
                return int(index)
        return min(1, n_labels - 1)

    def score(self, sentence: str, passages: Sequence[str]) -> float:
        claim = strip_citations(sentence)
        passages = [p for p in passages if p and p.strip()]
        if not claim or not passages:
            return 0.0
        import torch

        # Raw logits whatever activation the model folder configures, so the maths below applies exactly once.
        pairs = [(p, claim) for p in passages]
        raw = self.model.predict(pairs, activation_fn=torch.nn.Identity(), show_progress_bar=False)
        logits = np.atleast_2d(np.asarray(raw, dtype=np.float64))
        if logits.shape[0] != len(passages):
            logits = logits.T
        if logits.shape[1] == 1:
            probs = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        else:
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = (exp / exp.sum(axis=1, keepdims=True))[:, self._entailment_index(logits.shape[1])]
        return float(probs.max())


@lru_cache(maxsize=8)
def _build_checker(spec: str, threshold: float | None, embedding_key: tuple[str, str, int]) -> GroundingChecker:
    if spec == "embedding":
        from assistant.models.embeddings import get_embeddings

        model, backend, batch = embedding_key
        settings = Settings(embedding_model=model, embedding_backend=backend, embedding_batch_size=batch)
        return EmbeddingChecker(get_embeddings(settings), threshold=threshold)
    if spec.startswith("nli:"):
        path = Path(spec[4:]).expanduser()
        if not spec[4:].strip() or not path.is_dir():
            raise ValueError(
                f"grounding checker '{spec}': no cross-encoder folder at '{path}' "
                "(set PVA_GROUNDING_CHECKER to 'embedding' or 'nli:/path/to/local/cross-encoder')"
            )
        return CrossEncoderChecker(path, threshold=threshold)
    raise ValueError(f"unknown grounding checker '{spec}': use 'embedding' or 'nli:/path/to/local/cross-encoder'")


def get_checker(settings: Settings) -> GroundingChecker:
    """The configured checker, built once per configuration (so its embedding cache is shared).

    ``settings.grounding_checker`` is ``embedding`` or ``nli:/folder``; anything else raises ``ValueError``.
    ``settings.grounding_threshold`` overrides the checker's calibrated default threshold.
    """
    spec = (settings.grounding_checker or "embedding").strip()
    threshold = settings.grounding_threshold
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"grounding_threshold must be within 0..1, got {threshold}")
    key = (settings.embedding_model, settings.embedding_backend, settings.embedding_batch_size)
    return _build_checker(spec, threshold, key)


def is_supported(checker: GroundingChecker, sentence: str, passages: Sequence[str]) -> tuple[bool, float]:
    """Whether ``passages`` support ``sentence`` by the checker's threshold, and the score behind it."""
    score = checker.score(sentence, passages)
    return (not math.isnan(score) and score >= checker.threshold), score


# ----------------------------------------------------------------------------------------------------------
# Quotes for citations
# ----------------------------------------------------------------------------------------------------------


def best_quote(sentence: str, passage: str, embeddings: Embeddings) -> str:
    """The sentence(s) of ``passage`` that best support ``sentence``: what a citation should quote.

    Each passage sentence / list item is ranked by cosine similarity plus content-word overlap with the
    claim. A neighbour in the same paragraph or list is added when it brings claim words the best one lacks
    (a claim that spans two sentences gets both). Returns the exact passage text when the two share a line,
    else the two joined by a space; a passage with no sentences comes back stripped.
    """
    units = _units(passage)
    if not units:
        return passage.strip()
    claim = strip_citations(sentence)
    words = _content_words(claim, True)
    vectors = vector_cache(embeddings).get([claim, *(u.text for u in units)])
    cosines = vectors[1:] @ vectors[0]

    def covered(unit: _Unit) -> frozenset[str]:
        return words & _content_words(unit.text)

    ranks = [float(c) + (len(covered(u)) / len(words) if words else 0.0) for c, u in zip(cosines, units, strict=True)]
    best = int(np.argmax(ranks))
    chosen = [best]
    candidates = [
        (len(covered(units[n]) - covered(units[best])), float(cosines[n]), n)
        for n in (best - 1, best + 1)
        if 0 <= n < len(units) and units[n].group == units[best].group
    ]
    if candidates:
        gain, _, neighbour = max(candidates)
        if gain > 0:
            chosen = sorted([best, neighbour])
    first, last = units[chosen[0]], units[chosen[-1]]
    if len(chosen) == 1:
        return first.text
    span = passage[first.start : last.end]
    return span if "\n" not in span else f"{first.text} {last.text}"
