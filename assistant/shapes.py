"""What form of answer a question asks for, read from its grammar alone (no subject-matter word lists).

"What are the four X" asks for a list of four; "what does X stand for" for an acronym's expansion; "who",
"when", "how many" for the sentence holding a name, a date, a number; "principle F", "pillar three" or
"section 2" name an entry by its label; "… and who …" joins several questions, each answered. The anchors of a
question (names, acronyms, years) are what a source must mention to be about it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "twenty": 20,
}  # fmt: skip
_GRAMMAR_TEXT = (
    "a an the this that these those its their his her our your my all both each every some any of in on "
    "at to for from by with about under over into and or but nor not no is are was were be been being do "
    "does did have has had can could should would will shall may might must what which who whom whose "
    "when where why how there here it they them we you i me us he she him as than then so if also just "
    "only very many much more most main key different other"
)
_GRAMMAR = frozenset(_GRAMMAR_TEXT.split())
"""Function words (and a few quantifiers): a number after one of these is a count, not a label."""
_WORD = re.compile(r"[A-Za-z][\w’'./-]*|\d+(?:\.\d+)*")
_LABEL_TOKEN = re.compile(r"^(?:[A-Z]|\d{1,3}(?:\.\d{1,3})*|[ivx]{1,4})$")
_WH = r"(?:who|whom|whose|what|when|where|why|how|which|is|are|was|were|does|do|did|can|could|should|must)"
_PART_BREAK = re.compile(rf"(?:,\s*|;\s*|\s+)and\s+(?={_WH}\b)|;\s+(?={_WH}\b)|\?\s+(?=\w)", re.IGNORECASE)
_LIST_FORM = re.compile(
    r"^\s*(?:list|name|enumerate|give|show)\b|\b(?:what|which)\s+(?:are|were)\b|\bexamples?\b", re.IGNORECASE
)
_PLURAL_FORM = re.compile(
    r"^\s*(?:what|which)\s+(?:[\w-]+\s+){0,2}[\w-]+s\s+(?:do|does|are|were|can|could|should|must|will|would|"
    r"fall|sit|come|go|belong|have|has|apply|make)\b",
    re.IGNORECASE,
)
_ACRONYM_FORM = re.compile(
    r"\b(?i:what|which)\s+(?i:does|do|did|is|are)\s+(?i:the\s+)?(?:[a-z][a-z-]*\s+){0,3}[\"'‘“]?"
    r"(?P<x>[A-Z][\w.+/-]*[A-Z][\w.+/-]*?)[\"'’”]?\s+(?i:stand\s+for|short\s+for|mean|abbreviate)"
    r"|\b(?i:what|which)\s+(?i:is|are)\s+(?i:the\s+|an?\s+)?(?P<y>[A-Z]{2,}s?)\s*\??\s*$"
    r"|\b(?i:define)\s+(?i:the\s+)?(?P<z>[A-Z]{2,}s?)\b",
)
_DEFINE_FORM = re.compile(
    r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(?:an?\s+|the\s+)?(?P<x>[^?]{2,60}?)\s*\??\s*$"
    r"|^\s*(?:define|explain)\s+(?P<y>[^?]{2,60}?)\s*[?.]?\s*$"
    r"|^\s*what\s+(?:does|do)\s+(?P<z>[^?]{2,60}?)\s+mean\s*\??\s*$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class Label:
    """An entry named by its label: ``principle F`` → ``Label("principle", "F")``; ``pillar three`` → "3"."""

    noun: str
    value: str


@dataclass(frozen=True)
class Shape:
    """The answer a question asks for."""

    kind: str
    """``list``, ``acronym``, ``define``, ``who``, ``when``, ``number``, ``where``, ``why`` or ``generic``."""
    text: str
    count: int | None = None
    """How many entries a list question asks for ("the four pillars" → 4)."""
    labels: tuple[Label, ...] = ()
    term: str = ""
    """The acronym or term a definition question asks about."""
    anchors: tuple[str, ...] = field(default=())
    """Names, acronyms and years the question mentions: a source must mention them to answer it."""
    explicit: bool = True
    """For a list: asked outright ("list", "what are the", a count), not only implied by a plural noun."""


def number_value(token: str) -> int | None:
    """``"4"`` or ``"four"`` → 4; anything else → None."""
    low = token.lower()
    if low.isdigit():
        return int(low)
    return NUMBER_WORDS.get(low)


def topic_words(text: str) -> list[str]:
    """The words of ``text`` that are not function words, in order."""
    return [w for w in _WORD.findall(text) if w.lower() not in _GRAMMAR]


def split_parts(question: str) -> list[str]:
    """The questions a multi-part question joins ("When was X introduced, and what must Y do?" → two)."""
    parts = [p.strip(" ,;?") for p in _PART_BREAK.split(question.strip())]
    parts = [p for p in parts if len(_WORD.findall(p)) >= 2]
    return parts or [question.strip()]


def labels(text: str) -> tuple[Label, ...]:
    """Entries named by a label: a noun followed by a capital letter, a number, a number word or a numeral.

    "principles A and B" and "principles C to G" name each of A, B and C…G; "pillar two and pillar four" both.
    """
    words = _WORD.findall(text)
    found: list[Label] = []
    for i in range(1, len(words)):
        noun, token = words[i - 1].lower(), words[i]
        if noun in _GRAMMAR or noun in NUMBER_WORDS or not noun.isalpha():
            if noun in ("and", "to", "or") and found and _is_label(token):
                found.extend(_label_run(found[-1], token, noun))
            continue
        pronoun = token.lower() == "one" and i >= 2 and words[i - 2].lower() in ("the", "a", "an", "this", "that")
        if (
            _is_label(token)
            and not pronoun
            and not (token.lower() in NUMBER_WORDS and i + 1 < len(words) and _is_noun(words[i + 1]))
        ):
            found.append(Label(noun.rstrip("s") if len(noun) > 3 else noun, _label_value(token)))
    return tuple(dict.fromkeys(found))


def label_level(label: Label, text: str) -> int:
    """2 when ``text`` opens with the label ("F. Managing…", "Pillar three: …"), 1 when it mentions it, else 0."""
    value = re.escape(label.value)
    if re.match(rf"^\s*{value}[.):]\s", text):
        return 2
    words = [label.value]
    number = number_value(label.value)
    if number is not None:
        words += [w for w, v in NUMBER_WORDS.items() if v == number]
    alternatives = "|".join(re.escape(w) for w in words)
    named = re.search(rf"\b{re.escape(label.noun)}s?\s+(?:{alternatives})(?:\s*[:.)–-]|\s*$)?", text, re.IGNORECASE)
    if not named:
        return 0
    heading_like = named.start() == 0 and (named.group(0)[-1] in ":.)–-" or named.end() == len(text))
    return 2 if heading_like else 1


def _is_noun(word: str) -> bool:
    return word.isalpha() and word.lower() not in _GRAMMAR and word.lower() not in NUMBER_WORDS


def _is_label(token: str) -> bool:
    return bool(_LABEL_TOKEN.match(token)) and token != "I" or token.lower() in NUMBER_WORDS


def _label_value(token: str) -> str:
    value = number_value(token)
    return str(value) if value is not None else token


def _label_run(previous: Label, token: str, joiner: str) -> list[Label]:
    end = _label_value(token)
    if joiner != "to":
        return [Label(previous.noun, end)]
    start = previous.value
    if len(start) == 1 and len(end) == 1 and start.isalpha() and end.isalpha() and start < end:
        return [Label(previous.noun, chr(c)) for c in range(ord(start) + 1, ord(end) + 1)]
    if start.isdigit() and end.isdigit() and int(start) < int(end) <= int(start) + 30:
        return [Label(previous.noun, str(n)) for n in range(int(start) + 1, int(end) + 1)]
    return [Label(previous.noun, end)]


def counted_noun(question: str) -> str:
    """What "how many X" asks to count, the last word of its noun phrase: "how many parking bays are there" →
    "bays"; "" when the question does not ask how many."""
    asked = re.search(r"\bhow\s+many\s+((?:[A-Za-z][\w-]*\s*)+)", question, re.IGNORECASE)
    if asked is None:
        return ""
    phrase = list(itertools.takewhile(lambda w: w.lower() not in _GRAMMAR, asked.group(1).split()))
    return next((w.lower() for w in reversed(phrase) if len(w) > 2), "")


def count_asked(text: str) -> int | None:
    """The number of entries asked for: a number after a function word and before a noun ("the four pillars")."""
    words = _WORD.findall(text)
    for i, word in enumerate(words):
        value = number_value(word)
        if value is None or value < 2 or i + 1 >= len(words) or not _is_noun(words[i + 1]):
            continue
        if i == 0 or words[i - 1].lower() in _GRAMMAR:
            return value
    return None


def anchors(text: str) -> tuple[str, ...]:
    """Names, acronyms and years in ``text``: capitalised words past the first, all-capital words, years.

    A question typed in title case ("What Is Public Value?") has no telling capitals, so then only acronyms
    and years count.
    """
    words = _WORD.findall(text)
    capitalised = [w for w in words[1:] if w[:1].isupper()]
    title_case = len(capitalised) >= max(3, 0.7 * max(len(words) - 1, 1))
    found: list[str] = []
    for i, word in enumerate(words):
        bare = word.strip("./-’'")
        if not bare or _LABEL_TOKEN.match(bare) or bare.lower() in _GRAMMAR and not bare.isupper():
            continue
        acronym = len(bare) >= 2 and sum(ch.isupper() for ch in bare) >= 2
        if acronym or _YEAR.fullmatch(bare) or (i > 0 and bare[:1].isupper() and not title_case):
            found.append(bare)
    return tuple(dict.fromkeys(found))


_OPENING = re.compile(r"^\s*(?:and|also|but|so|then|ok(?:ay)?|now)\b[\s,]*", re.IGNORECASE)


def shape_of(question: str) -> Shape:
    """The form of answer ``question`` asks for (one part of a multi-part question)."""
    text = _OPENING.sub("", question.strip(), count=1) or question.strip()
    found_labels = labels(text)
    count = count_asked(text)
    marks = anchors(text)
    acronym = _ACRONYM_FORM.search(text)
    if acronym:
        term = next(g for g in acronym.groups() if g)
        return Shape("acronym", text, labels=found_labels, term=term, anchors=marks)
    low = text.lower()
    first = re.match(r"\s*(\w+)(?:\s+(\w+))?", low)
    wh, second = (first.group(1), first.group(2) or "") if first else ("", "")
    if (wh == "how" and second in ("many", "much")) or re.search(r"[,;]\s*how\s+(?:many|much)\b", low):
        return Shape("number", text, labels=found_labels, anchors=marks)
    if count or _LIST_FORM.search(text):
        return Shape("list", text, count=count, labels=found_labels, anchors=marks)
    if _PLURAL_FORM.search(text):
        return Shape("list", text, labels=found_labels, anchors=marks, explicit=False)
    if wh in ("who", "whom", "whose") or re.match(r"\s*(?:in|by|with)\s+whose?\b", low):
        return Shape("who", text, labels=found_labels, anchors=marks)
    if (
        wh == "when"
        or re.match(r"\s*(?:from|since|until|by)\s+what\s+(?:date|year|time)\b", low)
        or re.search(r"\bwhat\s+(?:date|year)\b|\bwhat\s+(?:is|was)\s+the\s+(?:date|year)\b", low)
    ):
        return Shape("when", text, labels=found_labels, anchors=marks)
    if wh in ("where", "why"):
        return Shape(wh, text, labels=found_labels, anchors=marks)
    define = _DEFINE_FORM.match(text)
    if define and not found_labels:
        term = next(g for g in define.groups() if g)
        return Shape("define", text, term=term, anchors=marks)
    return Shape("generic", text, labels=found_labels, anchors=marks)


def expands(acronym: str, text: str) -> bool:
    """Whether ``text`` spells out ``acronym``: initials of the words before "(TOMs)" or inside "TOMs (…)"."""
    letters = [ch for ch in acronym if ch.isupper()]
    if len(letters) < 2:
        return False
    bare = re.escape(acronym)
    before = re.search(rf"((?:[\w’'-]+[\s,]+){{{len(letters)},{len(letters) * 2 + 2}}})\(\s*{bare}\s*\)", text)
    after = re.search(rf"\b{bare}\s*\(([^)]+)\)", text)
    row = re.search(rf"(?m)^\W*{bare}\s*[|:–—]\s*([^|.;]+)", text)  # a glossary row: "ISC | Internet Software …"
    for words in (before.group(1) if before else "", after.group(1) if after else "", row.group(1) if row else ""):
        initials = [w[0].upper() for w in re.findall(r"[A-Za-z][\w’'-]*", words) if w[0].isupper()]
        if len(initials) >= len(letters) and initials[-len(letters) :] == letters:
            return True
        if initials[: len(letters)] == letters:
            return True
    return False


def defines(term: str, text: str) -> bool:
    """Whether ``text`` is the row of a glossary or table that defines exactly ``term``: "CC-BY-SA: Creative …".

    The term must be the whole name of the row: "CC-BY-NC-SA: …" does not define "CC-BY-SA".
    """
    bare = term.strip("'\"‘’“”")
    if not bare:
        return False
    return bool(re.search(rf"(?mi)^[^\w\n]*{re.escape(bare)}[^\w\n]*?(?:[|:=–—]|\s-\s)\s*\w", text))
