"""A small model answers from the extracted units, never with fewer facts than they hold.

The local backend's model is shown only the answer units (:mod:`assistant.extractive`), not whole chunks, so its
prompt is short and its first token quick. It may order, connect or shorten them; every sentence it writes is
verified, and each unit sentence whose facts no verified model sentence carries is put back as it stands.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.extractive import Extraction
from assistant.text import LIST_ITEM, citation_numbers, strip_citations, tokens
from assistant.types import SentenceCheck

COVERED_SHARE = 0.6
"""A unit sentence counts as said when a model sentence holds this share of its content words and all its
numbers, letters and acronyms."""


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


def _carries(said: Sequence[SentenceCheck], unit: SentenceCheck) -> bool:
    """Whether the verified model sentences ``said`` hold the facts of ``unit``."""
    unit_tokens = tokens(unit.text.removeprefix(LIST_ITEM))
    words = {t.text for t in unit_tokens}
    exact = {t.text for t in unit_tokens if t.identifier}
    for sentence in said:
        found = {t.text for t in tokens(sentence.text.removeprefix(LIST_ITEM))}
        if exact <= found and len(words & found) >= COVERED_SHARE * max(len(words), 1):
            return True
    return False


def with_units(model: list[SentenceCheck], units: list[SentenceCheck]) -> list[SentenceCheck]:
    """The model's sentences, then each supported unit sentence whose facts no supported model sentence carries."""
    said = [s for s in model if s.supported]
    missing = [u for u in units if u.supported and not _carries(said, u)]
    return [*model, *missing]
