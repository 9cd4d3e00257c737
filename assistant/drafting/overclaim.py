"""The over-claim check: every figure, date and name in a draft must come from the bidder's input or the passage
it cites; ``6 apprenticeships`` allows "six" but not "£6", "6%" or "Green Futures Academy"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from assistant.catalogue import load_catalogue
from assistant.text import split_sentences, strip_citations

if TYPE_CHECKING:
    from assistant.drafting.request import DraftRequest

__all__ = ["Invented", "OverclaimChecker", "figures", "find_invented"]

ClaimKind = Literal["money", "percentage", "number", "date", "name"]


@dataclass(frozen=True)
class Invented:
    """A figure or name in the draft that no input supports: what it is, the exact text, and its sentence."""

    kind: ClaimKind
    text: str
    sentence: str


# ----------------------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------------------

_UNITS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "dozen": 12,
}
_SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "k": 1_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
_WORD_SCALES = ("hundred", "thousand", "million", "billion")
_MONTHS = {
    "january": "jan",
    "february": "feb",
    "march": "mar",
    "april": "apr",
    "may": "may",
    "june": "jun",
    "july": "jul",
    "august": "aug",
    "september": "sep",
    "october": "oct",
    "november": "nov",
    "december": "dec",
    "jan": "jan",
    "feb": "feb",
    "mar": "mar",
    "apr": "apr",
    "jun": "jun",
    "jul": "jul",
    "aug": "aug",
    "sep": "sep",
    "sept": "sep",
    "oct": "oct",
    "nov": "nov",
    "dec": "dec",
}

_WORD_NUMBER = "|".join(sorted(_UNITS, key=len, reverse=True))
_WORD_RUN = rf"(?:{_WORD_NUMBER})(?:[\s-]+(?:{_WORD_NUMBER}|{'|'.join(_WORD_SCALES)}))*"
_DIGITS = r"\d+(?:,\d{3})*(?:\.\d+)?"
# One quantity: an optional currency sign, digits or number words, an optional scale, an optional % or "pounds".
_QUANTITY = re.compile(
    rf"""
    (?P<cur>[£$€])?\s?
    (?:(?<![\w.,])(?P<digits>{_DIGITS})(?:st|nd|rd|th)?|\b(?P<words>{_WORD_RUN})\b)
    (?:\s?(?P<scale>k|mn|m|bn)\b|\s(?P<wscale>{"|".join(_WORD_SCALES)})\b)?
    (?:\s?(?P<pct>%|per\s?cent\b|percent\b)|\s(?P<pounds>pounds\b|GBP\b|sterling\b))?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_MONTH_NAME = "|".join(sorted((m.capitalize() for m in _MONTHS), key=len, reverse=True))
# A month counts as a date only beside a number ("March 2027", "1st April"), and only capitalised, so the
# modal verb "may" and the word "march" are left alone.
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH_NAME})\.?\b"
    rf"|(?P<m2>{_MONTH_NAME})\.?\s+\d{{1,4}}\b"
    rf"|(?:by|in|from|until|before|after|during|since|of|end|start)\s+(?P<m3>{_MONTH_NAME})\b(?!\.?\s+\d))"
)


@dataclass(frozen=True)
class Figure:
    """One figure found in a text: its family and value (what is compared) and the text it was written as."""

    kind: ClaimKind
    key: tuple[str, str]
    text: str


def _words_value(words: str) -> float:
    """``"two hundred and fifty"`` → 250; ``"twenty-five"`` → 25."""
    total, current = 0.0, 0.0
    for word in re.split(r"[\s-]+", words.lower()):
        if word == "and" or not word:
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in _SCALES:
            total += (current or 1) * _SCALES[word]
            current = 0.0
    return total + current


def _canonical(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@lru_cache(maxsize=4096)
def _figures(text: str) -> tuple[Figure, ...]:
    text = strip_citations(text)
    found: list[Figure] = []
    for match in _QUANTITY.finditer(text):
        digits, words = match.group("digits"), match.group("words")
        if words is not None:
            first = words.split()[0].split("-")[0].lower()
            # "one" alone is too often not a quantity ("one of the outcomes", "no one"): only with a scale.
            if first == "one" and len(re.split(r"[\s-]+", words)) == 1 and not match.group("wscale"):
                continue
            value = _words_value(words)
        else:
            value = float(digits.replace(",", ""))
        scale = (match.group("scale") or match.group("wscale") or "").lower()
        currency = match.group("cur")
        if scale in ("k", "m", "mn", "bn") and not currency and not match.group("pounds"):
            # "20m" without a currency is a distance or a typo, not money: take the number alone.
            scale = ""
        value *= _SCALES.get(scale, 1)
        if currency or match.group("pounds"):
            kind: ClaimKind = "money"
            family = f"money{currency or '£'}"
        elif match.group("pct"):
            kind, family = "percentage", "percent"
        else:
            is_year = digits is not None and re.fullmatch(r"(?:19|20)\d\d", digits) is not None
            kind, family = ("date" if is_year else "number"), "number"
        found.append(Figure(kind, (family, _canonical(value)), match.group(0).strip()))
    for match in _DATE.finditer(text):
        month = (match.group("m1") or match.group("m2") or match.group("m3")).lower()
        found.append(Figure("date", ("month", _MONTHS[month]), match.group(0).strip()))
    return tuple(found)


def figures(text: str) -> list[Figure]:
    """Every money amount, percentage, number, year and month-date in ``text`` (citation markers ignored)."""
    return list(_figures(text))


# ----------------------------------------------------------------------------------------------------------
# Names
# ----------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z][\w’'&.-]*[\w’']|[A-Za-z]")
_CONNECTORS = frozenset({"of", "for", "and", "the", "&", "in", "on", "to", "de"})
# Capitalised words that open sentences or stand for "us": never a name on their own, and dropped from the
# front of a run ("Our Green Futures Academy" → "Green Futures Academy").
_LEADING = frozenset(
    [
        "a",
        "an",
        "the",
        "our",
        "we",
        "us",
        "this",
        "that",
        "these",
        "those",
        "in",
        "by",
        "for",
        "to",
        "with",
        "through",
        "under",
        "over",
        "at",
        "across",
        "and",
        "of",
        "as",
        "each",
        "every",
        "all",
        "its",
        "their",
        "it",
        "they",
        "he",
        "she",
        "his",
        "her",
        "i",
        "from",
        "on",
        "during",
        "after",
        "before",
        "when",
        "where",
        "while",
        "if",
        "following",
        "alongside",
        "within",
        "throughout",
        "since",
        "until",
        "there",
        "here",
        "what",
        "which",
        "how",
        "why",
        "so",
        "then",
        "also",
        "both",
    ]
)
_GENERIC = frozenset(
    ["i", "uk", "kpi", "kpis", "sme", "smes", "vcse", "vcses", "co2", "nhs", "ok", "faq"]
    + ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
)
_BASELINE_NAMES = ("Social Value Model", "Social Value Act", "Principles of Social Value", "Social Value")


def _is_cap(word: str) -> bool:
    return word[:1].isupper()


def _is_acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()


@lru_cache(maxsize=4096)
def _names(sentence: str) -> tuple[str, ...]:
    """Capitalised runs in one sentence that could name a programme, partner or accreditation."""
    text = strip_citations(sentence)
    matches = list(_TOKEN.finditer(text))
    tokens = [(m.group(0), m.start()) for m in matches]
    first_word_at = tokens[0][1] if tokens else -1
    runs: list[list[tuple[str, int]]] = []
    current: list[tuple[str, int]] = []
    for i, (word, start) in enumerate(tokens):
        if current and text[matches[i - 1].end() : start].strip():
            runs.append(current)  # punctuation between two words ends a name ("Theme: Tackling", "A, B")
            current = []
        if _is_cap(word):
            current.append((word, start))
            continue
        nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        if current and word.lower() in _CONNECTORS and _is_cap(nxt):
            current.append((word, start))
            continue
        if current:
            runs.append(current)
        current = []
    if current:
        runs.append(current)
    found: list[str] = []
    for run in runs:
        words = [w for w, _ in run]
        if run[0][1] == first_word_at and len(words) > 1 and words[1].lower() in _CONNECTORS:
            words.pop(0)  # "Number of IT…": the first word is capitalised only because it opens the sentence
        while words and not _is_acronym(words[0]) and words[0].lower() in _LEADING | _CONNECTORS:
            words.pop(0)
        while words and words[-1].lower() in _CONNECTORS:
            words.pop()
        if not words:
            continue
        if len(words) == 1 == len(run) and run[0][1] == first_word_at:
            continue  # the first word of a sentence is capitalised anyway
        if all(w.lower() in _GENERIC or w.lower() in _CONNECTORS for w in words):
            continue
        if len(words) == 1 and words[0].lower() in _MONTHS:
            continue  # a month is a date, checked with the figures
        found.append(" ".join(words))
    return tuple(found)


def _normalise(text: str) -> str:
    """``text`` as names are compared: case-insensitive ("exampleshire skills hub" names the Exampleshire Skills Hub),
    without markers, possessives or punctuation, padded with spaces so only whole words match."""
    text = strip_citations(text).replace("’", "'").lower()
    text = re.sub(r"'s\b", "", text)
    return " " + " ".join(re.findall(r"[\w&]+", text)) + " "


def _known_name(name: str, known: str) -> bool:
    """Whether ``name`` occurs in the normalised allowed text, whole or as the pieces its connectors join.

    "Grounds Maintenance Services for Exampleshire County Council" joins two names the input gives; each
    piece must be known, so "Department for Work and Pensions" is still checked as the names it contains.
    """
    if _normalise(name) in known:
        return True
    pieces = [p for p in re.split(r"\s+(?:of|for|and|the|&|in|on|to|de)\s+", name, flags=re.I) if p.strip()]
    return len(pieces) > 1 and all(_normalise(p) in known for p in pieces)


# ----------------------------------------------------------------------------------------------------------
# The checker
# ----------------------------------------------------------------------------------------------------------


class OverclaimChecker:
    """The over-claim check for one request: what the bidder gave is indexed once, then any text is checked.

    The catalogue's theme, outcome and principle names are allowed too, so headings and outcome quotes never trip it.
    The check is literal on purpose: "6 a year for 3 years" does not allow "18", a new claim the bid writer must make.
    """

    def __init__(self, request: DraftRequest) -> None:
        catalogue = load_catalogue()
        allowed = request.texts()
        allowed += [theme.name for theme in catalogue.themes]
        allowed += [outcome.name for _, outcome in catalogue.all_outcomes()]
        allowed += [p.name for p in catalogue.social_value_principles.principles]
        self._keys = {f.key for text in allowed for f in _figures(text)}
        self._text = " ".join(_normalise(t) for t in [*allowed, *_BASELINE_NAMES])

    def check(self, text: str, sources: Sequence[str] = ()) -> list[Invented]:
        """Claims in ``text`` that neither the input nor ``sources`` (the passages it cites) contain."""
        keys = self._keys | {f.key for source in sources for f in _figures(source)}
        known = self._text + " ".join(_normalise(s) for s in sources)
        out: list[Invented] = []
        for sentence in split_sentences(text) or [text]:
            seen: set[tuple[str, str]] = set()
            for figure in _figures(sentence):
                if figure.key not in keys and figure.key not in seen:
                    seen.add(figure.key)
                    out.append(Invented(figure.kind, figure.text, strip_citations(sentence)))
            for name in _names(sentence):
                if not _known_name(name, known):
                    out.append(Invented("name", name, strip_citations(sentence)))
        return out


def find_invented(text: str, request: DraftRequest, sources: Sequence[str] = ()) -> list[Invented]:
    """Figures and names in ``text`` that the bidder's ``request`` does not contain (nor the cited ``sources``).

    Every number (digits or words), year, month-date, percentage, money amount and Title Case name is
    compared with what the bidder gave; ``sources`` are the corpus passages the text cites, whose own
    figures a guidance quote may repeat. Returns one :class:`Invented` per offending claim, with its sentence.
    """
    return OverclaimChecker(request).check(text, sources)
