"""A small model answers from the extracted units, never with fewer facts than they hold.

The local backend's model is shown only the answer units (:mod:`assistant.extractive`), not whole chunks, so its
prompt is short and its first token quick. It may order, connect or shorten them; every sentence it writes is
verified, and each unit sentence whose facts (every content word, in the unit's own word forms: "openness" is not
"open") no verified model sentence holds is put back as it stands, in place of the model's copy of it (a sentence
mostly made of the unit's words): the answer never has fewer facts than the extraction.
"""

from __future__ import annotations

import re

from assistant.extractive import Extraction
from assistant.text import LIST_ITEM, citation_numbers, content_words, strip_citations
from assistant.types import SentenceCheck


def unit_sources(extraction: Extraction) -> str:
    """The prompt's numbered sources: for each cited chunk, only the unit lines that cite it."""
    lines: dict[int, list[str]] = {}
    for line in extraction.text.splitlines():
        for n in citation_numbers(line):
            lines.setdefault(n, []).append(strip_citations(line))
    blocks = []
    for n in sorted(lines):
        chunk = extraction.chunks[n - 1]
        body = "\n".join(lines[n])
        blocks.append(f'[{n}] {chunk.section}\n<source n="{n}">\n{body}\n</source>')
    return "\n\n".join(blocks)


COPY_SHARE = 0.8
"""A model sentence with at least this share of its content words from one unit is a copy of that unit."""


def _facts(sentence: SentenceCheck) -> set[str]:
    """The words that carry a sentence's facts: its content words, stemmed, with its numbers and codes."""
    return content_words(sentence.text.removeprefix(LIST_ITEM))


def _forms(sentence: SentenceCheck) -> set[str]:
    """The sentence's content words as written (lower-cased, unstemmed): a changed form can change the fact."""
    words = re.findall(r"[^\W_]+", strip_citations(sentence.text.removeprefix(LIST_ITEM)))
    return {w.lower() for w in words if content_words(w)}


def _holds(said: tuple[set[str], set[str]], unit: SentenceCheck) -> bool:
    """Whether a model sentence's (facts, forms) hold every fact of ``unit`` in the unit's own words."""
    return _facts(unit) <= said[0] and _forms(unit) <= said[1]


def _copies(words: set[str], unit: SentenceCheck) -> bool:
    """Whether a model sentence with these facts says little beyond ``unit`` (a shortened or reworded copy)."""
    return bool(words) and len(words & _facts(unit)) >= COPY_SHARE * len(words)


def with_units(model: list[SentenceCheck], units: list[SentenceCheck]) -> list[SentenceCheck]:
    """The model's sentences with every supported unit sentence whose facts no supported model sentence holds in full.

    Such a unit takes the place of the model sentences that copy it (say little beyond it), else it follows them:
    whatever the model wrote, each fact-bearing sentence of the extractive answer survives in its own words.
    """
    said = [(_facts(s), _forms(s)) for s in model if s.supported]
    missing = [u for u in units if u.supported and not any(_holds(words, u) for words in said)]
    out: list[SentenceCheck] = []
    placed: set[int] = set()
    for sentence in model:
        words = _facts(sentence)
        shortened = next((i for i, u in enumerate(missing) if _copies(words, u)), None)
        if shortened is None:
            out.append(sentence)
        elif shortened not in placed:
            placed.add(shortened)
            out.append(missing[shortened])
    return [*out, *(u for i, u in enumerate(missing) if i not in placed)]
