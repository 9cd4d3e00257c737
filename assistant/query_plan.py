"""What retrieval should look for besides the question as a whole, read from the question's grammar alone.

* **Parts.** A question that joins several ("What does A do, and what files does it write?", "How many X do
  pillar two and pillar four have?") is searched once per part as well, so each part's best chunk can be
  given a slot even when the chunks of one part crowd the whole question's top ``k``.
* **Answer shape.** "What is her email address?" asks for something with a shape (an address, a number); a
  chunk among the candidates that holds one is ranked by that too.
* **Front matter.** "Who wrote X?", "What is the date of version 2 of X?" ask for what a document says about
  itself (its author, its date), which documents put at their start (title page, front matter), where
  neither keyword nor embedding search looks: such chunks repeat the title and little else.

No subject-matter word lists: only question forms and the shape of names and dates.
"""

from __future__ import annotations

import re

from assistant.shapes import labels, split_parts, topic_words
from assistant.value_shapes import DATE, SHAPES, value_kind

_COORDINATED = re.compile(
    r"\b(?P<noun>[A-Za-z]{3,})\s+(?P<a>[\w.]+)\s+(?:and|or|&)\s+(?:(?P<noun2>[A-Za-z]{3,})\s+)?(?P<b>[\w.]+)\b"
)
"""``pillar two and pillar four``, ``principles A and B``: one noun, two labels."""

_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|this|these|he|she|his|her)\b", re.IGNORECASE)
"""A later part that says "it" means the first part's subject: its topic words go with it."""

AUTHOR_FORM = re.compile(
    r"\bwho\s+(?:wrote|writes|authored|created|compiled|edited|published|maintains|developed)\b"
    r"|\b(?:author|authors|editor|editors|maintainer|maintainers)\s+of\b|\bwritten\s+by\s+whom\b",
    re.IGNORECASE,
)
DATE_FORM = re.compile(
    r"\bwhat\s+(?:is|was)\s+the\s+(?:\w+\s+)?date\s+of\b"
    r"|\bwhen\s+(?:was|were)\s+(?:[\w.-]+\s+){1,6}(?:written|published|released|issued|dated)\b"
    r"|\bwhat\s+date\s+(?:is|was|does)\b",
    re.IGNORECASE,
)

_AUTHOR_EVIDENCE = re.compile(
    r"(?:^|\n|\b[Ww]ritten\s+|\b[Ee]dited\s+|\b[Cc]ompiled\s+)[Bb]y\s+(?:[A-Z][\w’'.-]+\s+){0,2}[A-Z][\w’'-]+"
    r"|^\s*(?:Authors?|Editors?|Maintainers?)\s*:",
    re.MULTILINE,
)
"""A byline: "by A. Name" opening a line, "written by …", or an "Author:" field."""


def sub_queries(question: str) -> list[str]:
    """The questions to search for each part of ``question``, or [] when it asks one thing.

    Clauses joined by "and" + a question word are parts; so are two labelled entries of one noun ("pillar two
    and pillar four"), each searched as the question naming that entry alone.
    """
    clauses = split_parts(question)
    if len(clauses) > 1:
        subject = " ".join(topic_words(clauses[0]))
        return [clauses[0]] + [f"{c} ({subject})" if _PRONOUN.search(c) else c for c in clauses[1:]]
    match = next((m for m in _COORDINATED.finditer(question) if _names_two_entries(m)), None)
    if match is None:
        return []
    noun = match["noun"]
    before, after = question[: match.start()], question[match.end() :]
    return [f"{before}{noun} {label}{after}" for label in (match["a"], match["b"])]


def _names_two_entries(match: re.Match[str]) -> bool:
    noun2 = match["noun2"]
    if noun2 and noun2.lower().rstrip("s") != match["noun"].lower().rstrip("s"):
        return False
    found = labels(match.group(0))
    return len({label.value for label in found}) >= 2


def answer_evidence(question: str) -> re.Pattern[str] | None:
    """The shape the answer to ``question`` has when it asks for a contact detail (an email address, a phone
    number, a web address): a chunk holding one is worth a place; None for any other question."""
    kind = value_kind(question)
    return SHAPES[kind] if kind else None


def front_matter_evidence(question: str) -> re.Pattern[str] | None:
    """What a front-matter chunk must show to answer ``question`` (a byline, a date), or None when the question
    does not ask what a document says about itself."""
    if AUTHOR_FORM.search(question):
        return _AUTHOR_EVIDENCE
    if DATE_FORM.search(question):
        return DATE
    return None
