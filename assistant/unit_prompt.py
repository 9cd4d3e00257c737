"""A small model answers from the extracted units, never with fewer facts than they hold.

The local backend's model is shown only the answer units (:mod:`assistant.extractive`), not whole chunks, so its
prompt is short and its first token quick. It may order, connect or shorten them; every sentence it writes is
verified, and each unit sentence whose facts (every content word) no verified model sentence holds is put back as
it stands, in place of the model's shortened copy of it: the answer never has fewer facts than the extraction.
"""

from __future__ import annotations

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


def _facts(sentence: SentenceCheck) -> set[str]:
    """The words that carry a sentence's facts: its content words, stemmed, with its numbers and codes."""
    return content_words(sentence.text.removeprefix(LIST_ITEM))


def with_units(model: list[SentenceCheck], units: list[SentenceCheck]) -> list[SentenceCheck]:
    """The model's sentences with every supported unit sentence whose facts no supported model sentence holds in full.

    Such a unit takes the place of the model sentences that say nothing beyond it (a shortened copy), else it
    follows them: whatever the model wrote, each fact-bearing sentence of the extractive answer survives.
    """
    said = [_facts(s) for s in model if s.supported]
    missing = [u for u in units if u.supported and not any(_facts(u) <= words for words in said)]
    out: list[SentenceCheck] = []
    placed: set[int] = set()
    for sentence in model:
        words = _facts(sentence)
        shortened = next((i for i, u in enumerate(missing) if words and words <= _facts(u)), None)
        if shortened is None:
            out.append(sentence)
        elif shortened not in placed:
            placed.add(shortened)
            out.append(missing[shortened])
    return [*out, *(u for i, u in enumerate(missing) if i not in placed)]
