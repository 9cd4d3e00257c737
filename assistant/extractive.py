"""The ``extractive`` backend: an answer made of the retrieved chunks' own most relevant sentences.

No language model is involved, so every sentence is a verbatim quote of its cited source and the answer
cannot say anything the framework texts do not. Sentences are scored by their similarity to the question
(the bundled embedding model) plus the share of the question's content words they contain; the best are
kept in reading order within each source, sources in rank order. When the best match is an item of a list
(the Social Value Model's outcomes, a pillar's questions), the whole list is kept as a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.models.embeddings import VectorCache
from assistant.text import LIST_ITEM, LIST_MARKER, content_words, split_sentences, strip_list_marker
from assistant.types import RetrievedChunk

MAX_SENTENCES = 4
MAX_LIST_ITEMS = 14
MAX_SOURCES = 3
# A sentence must reach this share of the best sentence's score to be kept beside it.
KEEP_RATIO = 0.8
# For a list question, a list whose best line scores this share of the best sentence's score wins.
LIST_RATIO = 0.85

_LIST_QUESTION = re.compile(
    r"\b(what are|which are|list|name the|all the|what (?:\w+ ){0,3}(?:does|do|should) .{0,60}\b(?:ask|include))\b"
    r"|\b(themes|principles|outcomes|questions|pillars|categories|measures|areas|skills|steps)\b",
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"\b(?:principle|pillar|area|theme|outcome|category)\s+([A-G]|\d+|one|two|three|four|five)\b", re.IGNORECASE
)
_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5"}
_ORDINALS = {"1": "one", "2": "two", "3": "three", "4": "four", "5": "five"}


@dataclass(frozen=True)
class Unit:
    """A sentence or list item of a chunk, with its place in the chunk."""

    source: int
    index: int
    text: str
    is_item: bool
    heading: bool = False


def units(chunk_text: str, source: int) -> list[Unit]:
    """Split a chunk into sentences and list items, in reading order."""
    out: list[Unit] = []
    for line in chunk_text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            # A sub-heading kept inside a chunk (a theme, a question group) introduces the list below it.
            out.append(Unit(source, len(out), line.lstrip("#").strip(), True, heading=True))
            continue
        if LIST_MARKER.match(line):
            out.append(Unit(source, len(out), strip_list_marker(line), True))
            continue
        for sentence in split_sentences(line):
            out.append(Unit(source, len(out), sentence, False))
    return out


def extractive_answer(question: str, chunks: list[RetrievedChunk], vectors: VectorCache) -> str:
    """Compose an answer from ``chunks`` (numbered from 1 in the given order) with ``[n]`` citations; ``vectors``
    embeds the question and the chunks' sentences."""
    candidates = [u for n, chunk in enumerate(chunks[:MAX_SOURCES], start=1) for u in units(chunk.text, n)]
    candidates = [u for u in candidates if len(u.text) > 3] or candidates
    if not candidates:
        return ""
    # The same chunks come back question after question: their sentences' vectors are cached.
    embedded = vectors.get([question, *(u.text for u in candidates)])
    similarity = embedded[1:] @ embedded[0]
    q_words = content_words(question)
    # A unit is read in its context: the words of its section's heading path count towards its overlap.
    context = {n: content_words(chunk.section) for n, chunk in enumerate(chunks[:MAX_SOURCES], start=1)}
    overlap = np.array(
        [len(q_words & (content_words(u.text) | context[u.source])) / max(len(q_words), 1) for u in candidates]
    )
    # Earlier sources rank higher; a small prior keeps the answer anchored on the best chunk.
    prior = np.array([0.05 * (MAX_SOURCES - u.source) for u in candidates])
    bonus = np.array([_label_bonus(question, u) for u in candidates])
    scores = similarity + 0.5 * overlap + prior + bonus
    best = int(np.argmax(scores))
    top = candidates[best]
    listish = [i for i, u in enumerate(candidates) if u.is_item or u.text.endswith(":")]
    if _LIST_QUESTION.search(question) and listish and bonus[best] == 0:
        # A list question is best answered by a list, if one matches nearly as well as the best sentence.
        best_list = max(listish, key=lambda i: scores[i])
        if scores[best_list] >= LIST_RATIO * scores[best]:
            best, top = best_list, candidates[best_list]
    counted = _list_of_size(question, chunks[:MAX_SOURCES])
    if counted and bonus[best] == 0:
        # "What are the seven principles…": a list with exactly that many entries is the answer.
        return _render(counted)
    if bonus[best] > 0:
        # The question names an item by its label ("principle F"): answer with exactly that item.
        chosen = [u for u, b in zip(candidates, bonus, strict=True) if b >= bonus[best]][:MAX_SENTENCES]
    elif top.text.endswith(":") or (top.is_item and _LIST_QUESTION.search(question)):
        # A list question, or the best match introduces a list ("… as follows:"): answer with the list.
        chosen = _whole_list(chunks[top.source - 1].text, top.source, top)
    else:
        order = np.argsort(-scores)
        chosen = [candidates[i] for i in order[:MAX_SENTENCES] if scores[i] >= KEEP_RATIO * scores[best] or i == best]
    chosen = sorted(chosen, key=lambda u: (u.source != top.source, u.source, u.index))
    return _render(chosen)


_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def _list_of_size(question: str, chunks: list[RetrievedChunk]) -> list[Unit] | None:
    """The first list among ``chunks`` whose number of entries is the count the question asks for."""
    unlabelled = _LABEL.sub(" ", question)  # "pillar three" names a pillar; it is not a count
    match = re.search(r"\b(\d+|two|three|four|five|six|seven|eight|nine|ten)\b", unlabelled, re.IGNORECASE)
    if not match or not _LIST_QUESTION.search(question):
        return None
    wanted = int(_COUNT_WORDS.get(match.group(1).lower(), match.group(1)))
    for n, chunk in enumerate(chunks, start=1):
        all_units = units(chunk.text, n)
        i = 0
        while i < len(all_units):
            if all_units[i].is_item and (i == 0 or not all_units[i - 1].is_item):
                entries = _whole_list(chunk.text, n, all_units[i])
                items = [u for u in entries if u.is_item]
                if len(items) == wanted:
                    return entries
            i += 1
    return None


def _label_bonus(question: str, unit: Unit) -> float:
    """Boost the unit a question names by its label: "principle F" → "F. Managing risks…", "pillar three"."""
    bonus = 0.0
    for label in _LABEL.findall(question):
        label = _NUMBER_WORDS.get(label.lower(), label)
        if re.match(rf"^{re.escape(label)}[.)]\s", unit.text):
            bonus += 0.6
        word = _ORDINALS.get(label)
        if word and re.search(rf"\b(pillar|area) {word}\b", unit.text, re.I):
            bonus += 0.6
    return bonus


def _whole_list(chunk_text: str, source: int, anchor: Unit) -> list[Unit]:
    """The list ``anchor`` belongs to or introduces, with its lead-in line; sub-headings head their items."""
    all_units = units(chunk_text, source)
    start = anchor.index
    if anchor.is_item:  # walk back to the first item of this list
        while start > 0 and all_units[start - 1].is_item:
            start -= 1
    else:
        start += 1
    end = start
    while end < len(all_units) and all_units[end].is_item:
        end += 1
    items = all_units[start:end]
    if not items:
        return [anchor]
    intro = [all_units[start - 1]] if start > 0 and not all_units[start - 1].is_item else []
    merged: list[Unit] = []
    for unit in items:
        if merged and merged[-1].heading and not unit.heading:
            head = merged[-1]
            sep = ": " if not head.text.endswith(":") else " "
            merged[-1] = Unit(source, head.index, f"{head.text}{sep}{unit.text}", True)
        elif merged and not unit.heading and merged[-1].text.count(": ") and _same_group(all_units, merged[-1], unit):
            last = merged[-1]
            merged[-1] = Unit(source, last.index, f"{last.text}; {unit.text}", True)
        else:
            merged.append(unit)
    return intro + [u for u in merged if not u.heading][:MAX_LIST_ITEMS]


def _same_group(all_units: list[Unit], head: Unit, item: Unit) -> bool:
    """Whether ``item`` sits under the same sub-heading as the merged line that starts at ``head``."""
    between = all_units[head.index + 1 : item.index]
    return bool(between) and not any(u.heading for u in between) and any(u.heading for u in all_units[: head.index + 1])


def _render(chosen: list[Unit]) -> str:
    lines: list[str] = []
    for unit in chosen:
        text = unit.text.rstrip()
        if unit.is_item:
            lines.append(f"{LIST_ITEM}{text} [{unit.source}]")
        else:
            if lines and lines[-1].startswith(LIST_ITEM):
                lines.append("")
            lines.append(f"{text} [{unit.source}]")
    # Prose sentences run together as a paragraph; list items stay one per line.
    out: list[str] = []
    for line in lines:
        if out and line and not line.startswith(LIST_ITEM) and out[-1] and not out[-1].startswith(LIST_ITEM):
            out[-1] = f"{out[-1]} {line}"
        else:
            if out and line.startswith(LIST_ITEM) and out[-1] and not out[-1].startswith(LIST_ITEM):
                out.append("")
            out.append(line)
    return "\n".join(out).strip()
