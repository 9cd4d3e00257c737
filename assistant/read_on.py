"""Reading on from the previous answer: "Give some examples of those" asks for what it only introduced.

The previous answer's last sentence is found in the passage it was quoted from; the answer is what comes next
there: the list that sentence leads into, else the next sentence or list of the passage, when it goes on with
the same subject (it names what was asked for, or points back with "these", "examples include", "such as").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.extractive import Extraction, render
from assistant.index.store import Store
from assistant.text import content_words
from assistant.types import RetrievedChunk
from assistant.units import AnswerUnit, Library, chunk_units

_GOES_ON = re.compile(r"^\W*(?:these|those|they|this|such|examples?|for\s+example|for\s+instance|e\.g\.)\b", re.I)
_INTRODUCES = re.compile(r"\b(?:examples?|include|includes|including|such\s+as|for\s+instance|namely)\b", re.I)


def read_on(said: Sequence[str], chunks: Sequence[RetrievedChunk], store: Store | None) -> Extraction | None:
    """The units that follow the last of the previous answer's sentences ``said`` in ``chunks``, or None."""
    if not said or not chunks:
        return None
    last = _norm(said[-1])
    library = Library(list(chunks), store)
    for source in range(1, len(chunks) + 1):
        units = sorted(chunk_units(library, source), key=lambda u: u.order)
        at = next((i for i, u in enumerate(units) if u.kind == "sentence" and _norm(u.lead) == last), None)
        led = next((u for u in units if u.is_list and _norm(u.lead) == last), None)
        if led is not None:
            return Extraction(render([led]), library.chunks, [led])
        if at is None:
            continue
        following = _next_unit(units, units[at])
        if following is not None and _goes_on(following, said[-1]):
            return Extraction(render([following]), library.chunks, [following])
        return None
    return None


def _next_unit(units: list[AnswerUnit], after: AnswerUnit) -> AnswerUnit | None:
    """The sentence or list that comes next in reading order (a list's own items are read with it)."""
    return next((u for u in units if u.order > after.order and u.kind in ("sentence", "list")), None)


def _goes_on(unit: AnswerUnit, previous: str) -> bool:
    """Whether ``unit`` continues the subject of ``previous``: a list, a back-reference, or shared content words."""
    if unit.is_list or unit.kind == "list":
        return True
    if _GOES_ON.match(unit.lead) or _INTRODUCES.search(unit.lead):
        return True
    return len(content_words(unit.lead) & content_words(previous)) >= 2


def _norm(text: str) -> str:
    return " ".join(re.sub(r"\W+", " ", text.lower()).split())
