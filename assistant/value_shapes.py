"""The written shapes of values a question may ask for: an email address, a URL, a phone number, a date.

One place for them, because two steps read them: retrieval ranks a chunk holding the value a question asks for
(:mod:`assistant.query_plan`), and the adequacy check counts a unit holding one as addressing the question
(:mod:`assistant.adequacy`). Shapes only: no word of any document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.shapes import topic_words

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+")
PHONE = re.compile(r"(?:\+\d{1,3}[\s-]?)?(?:\(?\d{2,5}\)?[\s-]?){2,4}\d{3,4}\b")
DATE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}\b|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    re.IGNORECASE,
)
YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
NUMBER = re.compile(r"\d")
VERSION = re.compile(r"\b\d+(?:\.\d+)+\b")

QUANTITY = re.compile(
    r"(?<![\w.-])\d+(?:[.,]\d+)*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|fifteen|twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|million|dozen|half|twice|single|"
    r"double|until|till|indefinitely|as long as|free of charge|no charge)\b",
    re.IGNORECASE,
)
"""A figure in words or digits, or a span without one ("until the contract ends", "free of charge"): what "how
long / how many / how much" is answered with ("48-bit", "900k", "twelve months"); not the digit of a name
("python3", "python3.Y", "BZ2_bzRead")."""
_HOW_MUCH = re.compile(r"\bhow\s+(long|many|much|large|big|old|far)\b", re.IGNORECASE)

SHAPES: dict[str, re.Pattern[str]] = {
    "email": EMAIL,
    "url": URL,
    "phone": PHONE,
    "date": DATE,
    "year": YEAR,
    "number": NUMBER,
    "version": VERSION,
}
"""Each kind of value and its shape: a text holding a match holds a value of that kind."""

_VALUE_WORDS = {
    "email": "email", "e-mail": "email",
    "url": "url", "website": "url", "homepage": "url", "webpage": "url", "web": "url",
    "phone": "phone", "telephone": "phone",
    "date": "date", "day": "date", "year": "year", "version": "version",
    "number": "number", "amount": "number", "count": "number",
}  # fmt: skip
"""Words that name a kind of value (generic English), and the shape of that value."""
_SPECIFIC_VALUES = frozenset(["email", "url", "phone"])


def holds_value(words: str, texts: Sequence[str]) -> bool:
    """Whether ``words`` name a kind of value ("email address", "date") and a text holds a value of that shape."""
    kinds = {_VALUE_WORDS[w.lower()] for w in re.findall(r"[\w-]+", words) if w.lower() in _VALUE_WORDS}
    return any(SHAPES[kind].search(text) for kind in kinds for text in texts)


def value_kind(question: str) -> str | None:
    """The kind of value a question names and asks for: an email address, a URL or a phone number.

    Dates, years, numbers and versions are left out: nearly every passage holds one, so holding one says nothing.
    """
    kinds = (_VALUE_WORDS.get(word.lower()) for word in topic_words(question.partition(" (")[0]))
    return next((kind for kind in kinds if kind in _SPECIFIC_VALUES), None)


def quantity_asked(question: str) -> str:
    """The "how long" / "how many" / "how much" a question asks with, or "" when it asks for no figure."""
    found = _HOW_MUCH.search(question.partition(" (")[0])
    return found.group(0).lower() if found else ""
