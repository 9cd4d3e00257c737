"""Text rules shared by answers, drafts, the web layer and the evals: one definition of each."""

from __future__ import annotations

import re

from assistant.grounding import content_words, split_sentences, strip_citations

__all__ = [
    "CITATION",
    "LIST_MARKER",
    "citation_numbers",
    "content_words",
    "split_sentences",
    "strip_citations",
    "strip_list_marker",
]

CITATION = re.compile(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")
"""A citation marker: ``[1]``, ``[1, 2]``, ``[1; 3]`` or a range ``[1–3]`` / ``[1-3]``; group 1 is the inside."""

LIST_MARKER = re.compile(r"^\s*(?:[-*+•‣▪]|\d{1,3}[.)])\s+")
"""A Markdown list-item marker at the start of a line: ``-``, ``*``, ``+``, a bullet, or ``1.`` / ``1)``."""

_RANGE = re.compile(r"(\d+)\s*[–-]\s*(\d+)")


def citation_numbers(text: str) -> list[int]:
    """Every source number cited in ``text``, in order and without repeats; a range ``[1–3]`` gives 1, 2, 3."""
    found: list[int] = []
    for inside in CITATION.findall(text):
        for part in re.split(r"\s*[,;]\s*", inside):
            span = _RANGE.fullmatch(part)
            first, last = (int(span[1]), int(span[2])) if span else (int(part), int(part))
            for number in range(first, min(last, first + 50) + 1):
                if number not in found:
                    found.append(number)
    return found


def strip_list_marker(line: str) -> str:
    """``line`` without a leading list-item marker."""
    return LIST_MARKER.sub("", line, count=1)
