"""Whether the text chosen to answer a question addresses what the question is about and what it asks for.

Retrieval finds passages near the question's topic; the extraction picks their best units. Near is not the same as
answering: "How long does X provide security updates?" is near a passage about X's release steps, yet nothing there
says how long, or mentions security updates. Two parts of a question must be present in the chosen units:

- its *focus*: the rarest word the question uses, rare by the share of indexed chunks holding it (the BM25 index's
  document frequencies) or absent from the index altogether;
- what it *asks for*: the noun after "which"/"what" in a question that is not a list question ("which version is
  the default" needs a version).

A word counts as present when its stem is in a unit's text, heading path or document title, or when a word of the
units is close to it in embedding space (a synonym: "licence"/"license", "wrote"/"written"). A unit very close in
meaning to the whole question addresses it whatever words it uses ("what checksum" answered by "32-bit CRCs").
Nothing here knows the subject of the texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.config import Settings
from assistant.extractive import MAX_SOURCES
from assistant.index.bm25 import BM25Index, tokenize_query
from assistant.models.embeddings import VectorCache
from assistant.retrieval import search
from assistant.services import Services
from assistant.shapes import labels, number_value, shape_of, topic_words
from assistant.text import passage_text
from assistant.types import RetrievedChunk

MIN_CHUNKS = 100
"""Below this many indexed chunks, document frequencies say little (every verb is rare in 23 chunks): no check."""
RARE_SHARE = 0.04
"""A word held by at most this share of the indexed chunks (or by :data:`RARE_MIN`) is rare: a focus candidate."""
RARE_MIN = 2
CLOSE_WORD = 0.6
"""A word of the units at least this similar to a question word stands for it."""
FOCUS_DEPTH = 10
"""How many keyword hits are read for a chunk holding a focus word the retrieved chunks lack."""
CLOSE_QUESTION = 0.7
"""A unit at least this similar to the whole question addresses it, whichever words it uses."""
_ASKED = re.compile(
    r"^\s*(?:which|what)\s+(?P<noun>(?:[\w-]+\s+){0,2}?[\w-]+)\s+(?:is|are|was|were|does|do|did|has|have|had|"
    r"should|must|can|could|will|would|shall|may)\b",
    re.IGNORECASE,
)

_LINKING = frozenset(["according", "regarding", "concerning", "including", "per", "via"])
"""Words that only link the question's parts ("according to the manual"): never its focus."""
_LIST_VERB = re.compile(r"^\s*(?:what|which)\s+[\w-]+\s+(?:do|does|did)\b[^,;]*\s(\w+)\s*\??\s*$", re.IGNORECASE)
_PARTS = frozenset(["chapter", "chapters", "section", "sections", "subsection", "appendix", "annex", "paragraph"])
"""Words naming a part of a document ("the Miscellanea chapter"): the heading named is the focus, not the part."""


@dataclass(frozen=True)
class Term:
    """A question word with its stem (as the BM25 index stems it) and how many indexed chunks hold it."""

    word: str
    stem: str
    chunks: int


def focus_terms(question: str, index: BM25Index) -> list[Term]:
    """The question's rare words, rarest first: not function words, label nouns ("section 4"), a list's noun or
    the word after "how" (what is asked of the focus, not the focus).

    Words a follow-up carried over from the conversation (in brackets at the end) are context, not its focus.
    """
    own = question.partition(" (")[0]
    found_labels = labels(own)
    skipped = {label.noun for label in found_labels} | {label.value.lower() for label in found_labels}
    skipped |= {m.lower() for m in re.findall(r"\bhow\s+(\w+)", own, re.IGNORECASE)}  # "how often": what is asked
    shape = shape_of(own)
    if shape.kind == "list":
        skipped.add(listed_noun(own))
        verb = _LIST_VERB.match(own)  # "What topics does X cover": the verb is the form of the question
        if verb:
            skipped.add(verb.group(1).lower())
    if shape.kind == "acronym":  # "What does X stand for": X is the focus, the rest is the form of the question
        own = shape.term
    frequencies = index.frequencies(own)
    rare = max(RARE_MIN, RARE_SHARE * len(index))
    terms: dict[str, Term] = {}
    for word in topic_words(own):
        stems = tokenize_query(word)
        low = word.lower()
        if len(stems) != 1 or low in _LINKING or low in _PARTS or low in skipped or low.rstrip("s") in skipped:
            continue
        stem = stems[0]
        count = frequencies.get(stem, 0)
        if count <= rare and stem not in terms:
            terms[stem] = Term(word, stem, count)
    # An indexed word before one the index never saw ("meant", a colloquial word): of equally rare ones, the longer.
    return sorted(terms.values(), key=lambda t: (not t.chunks, t.chunks, -len(t.word)))


def listed_noun(question: str) -> str:
    """The noun a list question asks a list of ("What are the subsections of …" → subsections): its form answers it."""
    return next((w.lower() for w in topic_words(question) if number_value(w) is None), "")


def asked_for(question: str) -> list[str]:
    """The words naming what a "which …"/"what …" question asks for ("Which Python version is …" → Python, version)."""
    found = _ASKED.match(question)
    return topic_words(found.group("noun")) if found else []


def unaddressed(
    question: str, texts: Sequence[str], headings: Sequence[str], index: BM25Index, vectors: VectorCache
) -> list[str]:
    """The question's focus or asked-for words that the chosen units leave out.

    ``texts`` are the units' own words, ``headings`` their heading paths and document titles: the focus may be in
    either (a unit under "Security updates" is about them), what is asked for must be in the text itself. Empty
    when the units address the question: every such word is present or stood for, or a text is very close in
    meaning to the whole question.
    """
    if not texts or len(index) < MIN_CHUNKS:
        return []
    focus = focus_terms(question, index)
    around = {stem for text in [*texts, *headings] for stem in tokenize_query(text)}
    said = {stem for text in texts for stem in tokenize_query(text)}
    missing = [focus[0].word] if focus and focus[0].stem not in around else []
    asked = asked_for(question) if shape_of(question).kind != "list" else []
    if asked and not any(set(tokenize_query(w)) <= said for w in asked):
        missing = [w for w in missing if w not in asked] + [" ".join(asked)]
    if not missing:
        return []
    question_vector, *text_vectors = vectors.get([question, *texts])
    if max(float(v @ question_vector) for v in text_vectors) >= CLOSE_QUESTION:
        return []
    return [w for w in missing if not _stood_for(w, texts, vectors)]


def _stood_for(word: str, texts: Sequence[str], vectors: VectorCache) -> bool:
    """Whether a word of ``texts`` is close to ``word`` in meaning (a synonym or another form of it)."""
    candidates = list(dict.fromkeys(w.lower() for text in texts for w in topic_words(text) if len(w) > 1))
    if not candidates:
        return False
    target, *others = vectors.get([word.lower(), *candidates])
    return bool(np.max(np.asarray(others) @ target) >= CLOSE_WORD)


def with_focus_chunk(
    question: str,
    chunks: list[RetrievedChunk],
    settings: Settings,
    services: Services,
    doc_ids: Sequence[str] | None = None,
) -> list[RetrievedChunk]:
    """``chunks`` with the best chunk holding the question's focus word second, when none of the first few holds it.

    A rare word ("ISC") in a long table row scores low in the fused ranking beside chunks full of the question's
    common words, yet the chunk that holds it is what the question is about. It is taken from the later retrieved
    chunks, else from a keyword search; the best retrieved chunk still leads (a refusal names its document).
    """
    index = services.bm25_index()
    if not chunks or len(index) < MIN_CHUNKS:
        return chunks
    focus = focus_terms(question, index)
    if not focus or not focus[0].chunks or any(_holds(chunk, focus[0].stem) for chunk in chunks[:MAX_SOURCES]):
        return chunks
    found = next((chunk for chunk in chunks if _holds(chunk, focus[0].stem)), None)
    if found is None:
        hits = search(
            f"{focus[0].word} {question}", settings, k=FOCUS_DEPTH, doc_ids=doc_ids, mode="bm25", services=services
        )
        found = next((hit for hit in hits if _holds(hit, focus[0].stem)), None)
    if found is None:
        return chunks
    rest = [chunk for chunk in chunks[1:] if chunk.id != found.id]
    return [chunks[0], found, *rest]


def _holds(chunk: RetrievedChunk, stem: str) -> bool:
    return stem in tokenize_query(f"{chunk.title}\n{passage_text(chunk.section, chunk.text)}")
