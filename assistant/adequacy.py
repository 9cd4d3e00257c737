"""Whether the text chosen to answer a question addresses what the question is about and what it asks for.

Retrieval finds passages near the question's topic; the extraction picks their best units. Near is not the same as
answering: "How long does X provide security updates?" is near a passage about X's release steps, yet nothing there
says how long, or mentions security updates. Two parts of a question must be present in the chosen units:

- its *focus*: the rarest term the question uses. A name (an acronym, a capitalised word past the first, a word with
  digits, a code such as "debian_defaults", a quoted term) is a focus term when few indexed chunks hold it, whatever the
  index's size: a text about Perl would name Perl. A plain lower-case word is one only when the index is large
  enough to show it rare: its share of the chunks is counted with one chunk added (add-one smoothing), so no word
  of an index under 49 chunks can look rare, where a paraphrase ("honesty" for "integrity") is absent by chance. Verb
  forms ("-ing", "-ed"), contractions, number words and the generic words of a question ("say", "mean", "cover",
  "someone") are never its focus;
- what it *asks for*: the noun after "which"/"what" in a question that is not a list question ("which version is
  the default" needs a version); a figure for "how long / how much / how many" (a number, in digits or words, or a
  span such as "until …"; a list answers "how many" by its entries), however close the units are in meaning.

A word counts as present when its stem is in a unit's text, heading path or document title, or when a word of the
units is close to it in embedding space (a synonym: "licence"/"license", "wrote"/"written"). A name also counts when
the opening of a unit's document holds it ("principle B of the CIPFA framework": the framework's first paragraph
names CIPFA). A word naming a kind of value ("email", "date", "version") counts when a unit holds a value of that
shape ("jseward@acm.org", "13 July 2019", "1.0.8"). A unit very close in meaning to the whole question addresses it
whatever words it uses ("what checksum" answered by "32-bit CRCs"). Nothing here knows the subject of the texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.config import Settings
from assistant.extractive import MAX_SOURCES, Extraction
from assistant.index.bm25 import BM25Index, tokenize_query
from assistant.models.embeddings import VectorCache
from assistant.retrieval import search
from assistant.services import Services
from assistant.shapes import anchors, labels, number_value, shape_of, topic_words
from assistant.text import passage_text
from assistant.types import RetrievedChunk
from assistant.value_shapes import QUANTITY, SHAPES, holds_value, quantity_asked, value_kind

RARE_SHARE = 0.04
"""A name held by at most this share of the indexed chunks (or by :data:`RARE_MIN`) is rare: a focus candidate."""
RARE_MIN = 2
PLAIN_SHARE = 0.02
"""A plain word is rare when (chunks holding it + 1) / (indexed chunks + 1) is at most this: an index of fewer than
49 chunks cannot show an ordinary word rare (one it lacks is as likely a paraphrase as another subject)."""
OPENING = 1
"""A document's chunks up to this position are its opening: where it names its author, body or subject."""
CLOSE_WORD = 0.55
"""A word of the units at least this similar to a question word stands for it."""
FOCUS_DEPTH = 10
"""How many keyword hits are read for a chunk holding a focus word the retrieved chunks lack."""
CLOSE_QUESTION = 0.7
"""A unit at least this similar to the whole question addresses it, whichever words it uses."""
FOCUS_PULL = 0.01
"""A plain focus word the units leave out is addressed in other words when leaving it out of the question makes the
question no more than this much closer to the best unit: the word does not pull the question away from the units
(a paraphrase's "cooperate" beside "work across organisational boundaries": +0.001), whereas a subject the texts
lack does ("security updates" beside Python transition steps: −0.041; "xz" beside bzip2 levels: −0.072)."""
_ASKED = re.compile(
    r"^\s*(?:which|what)\s+(?P<noun>(?:[\w-]+\s+){0,2}?[\w-]+)\s+(?:is|are|was|were|does|do|did|has|have|had|"
    r"should|must|can|could|will|would|shall|may)\b",
    re.IGNORECASE,
)

_LINKING = frozenset(["according", "regarding", "concerning", "including", "per", "via"])
"""Words that only link the question's parts ("according to the manual"): never its focus."""
_GENERIC_TEXT = (
    "say says said mean means meant cover covers covered take takes took make makes made use uses need needs get "
    "gets got give gives tell tells ask asks happen happens work works want wants know think help helps check expect "
    "expects fall falls sit sits belong belongs apply applies come comes go goes ok okay thing things stuff way ways "
    "kind sort lot lots deal really actually basically someone somebody something anyone anybody anything everyone "
    "everything us"
)
_GENERIC = frozenset(_GENERIC_TEXT.split())
"""Generic words of a question (its verbs of asking, fillers): they say how it asks, not what it is about."""
_VERB_FORM = re.compile(r"^[a-z]{3,}(?:[^e]ed|ing)$")
"""A lower-case "-ed"/"-ing" word ("compared", "obeying") is a verb form: what is done, not what it is done to."""
_LIST_VERB = re.compile(r"^\s*(?:what|which)\s+[\w-]+\s+(?:do|does|did)\b[^,;]*\s(\w+)\s*\??\s*$", re.IGNORECASE)
_PARTS = frozenset(["chapter", "chapters", "section", "sections", "subsection", "appendix", "annex", "paragraph"])
"""Words naming a part of a document ("the Miscellanea chapter"): the heading named is the focus, not the part."""


@dataclass(frozen=True)
class Term:
    """A question word with its stem (as the BM25 index stems it) and how many indexed chunks hold it."""

    word: str
    stem: str
    chunks: int
    name: bool = False
    """Shaped like a name (see :func:`names_in`)."""


def focus_terms(question: str, index: BM25Index) -> list[Term]:
    """The question's rare words, rarest first: not function words, label nouns ("section 4"), a list's noun or
    the word after "how" (what is asked of the focus, not the focus); names and plain words as the module says.

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
    names = names_in(own)
    terms: dict[str, Term] = {}
    for word in topic_words(own):
        stems = tokenize_query(word)
        low = word.lower()
        if len(stems) != 1 or low in _LINKING or low in _PARTS or low in skipped or low.rstrip("s") in skipped:
            continue
        stem, count = stems[0], frequencies.get(stems[0], 0)
        if stem not in terms and _rare(word, count, len(index), word in names):
            terms[stem] = Term(word, stem, count, word in names)
    # An indexed word before one the index never saw ("meant", a colloquial word): of equally rare ones, the longer.
    return sorted(terms.values(), key=lambda t: (not t.chunks, t.chunks, -len(t.word)))


def names_in(text: str) -> set[str]:
    """The words of ``text`` shaped like names: its anchors (acronyms, capitalised words past the first, years),
    words with digits or inner punctuation ("CC-BY-SA", "debian_defaults", "bz2") and quoted terms."""
    quoted = {w for q in re.findall(r"[\"“‘']([^\"”’']{2,40})[\"”’']", text) for w in topic_words(q)}
    coded = {w for w in topic_words(text) if re.search(r"\d|\w[-_./]\w", w)}
    return set(anchors(text)) | quoted | coded


def _rare(word: str, count: int, size: int, name: bool) -> bool:
    """Whether a question word held by ``count`` of ``size`` indexed chunks is rare enough to be its focus."""
    if name:
        return count <= max(RARE_MIN, RARE_SHARE * size)
    low = word.lower()
    if len(low) < 2 or "'" in low or "’" in low or low in _GENERIC or _VERB_FORM.match(low):
        return False  # a letter ("r"), a contraction ("they're"), a generic word or a verb form
    return number_value(low) is None and (count + 1) / (size + 1) <= PLAIN_SHARE


def listed_noun(question: str) -> str:
    """The noun a list question asks a list of ("What are the subsections of …" → subsections): its form answers it."""
    return next((w.lower() for w in topic_words(question) if number_value(w) is None), "")


def asked_for(question: str) -> list[str]:
    """The words naming what a "which …"/"what …" question asks for ("Which Python version is …" → Python, version)."""
    found = _ASKED.match(question)
    return topic_words(found.group("noun")) if found else []


def unaddressed(
    question: str,
    texts: Sequence[str],
    headings: Sequence[str],
    index: BM25Index,
    vectors: VectorCache,
    openings: Sequence[str] = (),
) -> list[str]:
    """The question's focus or asked-for words that the chosen units leave out.

    ``texts`` are the units' own words, ``headings`` their heading paths and document titles: the focus may be in
    either (a unit under "Security updates" is about them), what is asked for must be in the text itself.
    ``openings`` are the opening texts of the units' documents: a name there qualifies the whole document. Empty
    when the units address the question: every such word is present or stood for, or a text is very close in
    meaning to the whole question.
    """
    if not texts:
        return []
    focus = focus_terms(question, index)
    around = {stem for text in [*texts, *headings] for stem in tokenize_query(text)}
    said = {stem for text in texts for stem in tokenize_query(text)}
    if focus and focus[0].name:
        around |= {stem for text in openings for stem in tokenize_query(text)}
    missing = [focus[0].word] if focus and focus[0].stem not in around else []
    asked = asked_for(question) if shape_of(question).kind != "list" else []
    if asked and not any(set(tokenize_query(w)) <= said for w in asked):
        missing = [w for w in missing if w not in asked] + [" ".join(asked)]
    missing = [w for w in missing if not holds_value(w, texts)]
    how = quantity_asked(question)
    listed = how == "how many" and any("\n" in text for text in texts)  # a list counts by its entries
    # "How long does X provide security updates?": units without a figure do not say, whatever their words.
    figure = [how] if how and not listed and not any(QUANTITY.search(text) for text in texts) else []
    if not missing and not figure:
        return []
    question_vector, *text_vectors = vectors.get([question, *texts])
    closest = max(float(v @ question_vector) for v in text_vectors)
    if closest >= CLOSE_QUESTION:
        return figure  # near in meaning, but a text without a figure still does not say how long
    plain = focus[0].word if focus and not focus[0].name else None
    return [
        w
        for w in missing
        if not _stood_for(w, texts, vectors)
        and not (w == plain and _meant(question, w, closest, text_vectors, vectors))
    ] + figure


def _meant(question: str, word: str, closest: float, text_vectors: Sequence[np.ndarray], vectors: VectorCache) -> bool:
    """Whether the units address ``word`` in other words: without it the question comes no closer to them."""
    without = re.sub(rf"\b{re.escape(word)}\b", " ", question)
    (without_vector,) = vectors.get([without])
    return max(float(v @ without_vector) for v in text_vectors) - closest <= FOCUS_PULL


def extraction_gaps(question: str, extraction: Extraction, services: Services) -> list[str]:
    """:func:`unaddressed` for an extraction's units, with their heading paths, titles and documents' openings."""
    units = extraction.units
    chunks = [extraction.chunks[unit.source - 1] for unit in units]
    headings = [f"{unit.context}\n{chunk.title}" for unit, chunk in zip(units, chunks, strict=True)]
    texts = [unit.text for unit in units]
    index = services.bm25_index()
    focus = focus_terms(question, index) if texts else []
    openings = _openings([chunk.doc_id for chunk in chunks], services) if focus and focus[0].name else []
    return unaddressed(question, texts, headings, index, services.vectors, openings)


def _openings(doc_ids: Sequence[str], services: Services) -> list[str]:
    """The texts of the first chunks (up to :data:`OPENING`) of these documents."""
    ids = sorted(set(doc_ids))
    if not ids:
        return []
    where = {"$and": [{"doc_id": {"$in": ids}}, {"position": {"$lte": OPENING}}]}
    return services.store.get(where=where, include=("documents",)).documents


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
    chunks, else from a keyword search; the best retrieved chunk still leads (a refusal names its document). A
    question asking for an email address, a URL or a phone number is likewise given a chunk holding one.
    """
    if not chunks:
        return chunks
    focus = focus_terms(question, services.bm25_index())
    kind = value_kind(question)
    if kind and not any(_holds(chunk, None, kind) for chunk in chunks[:MAX_SOURCES]):
        term = None  # the question asks for a kind of value none of the first chunks holds: find one that does
    elif focus and focus[0].chunks and not any(_holds(chunk, focus[0], None) for chunk in chunks[:MAX_SOURCES]):
        term, kind = focus[0], None
    else:
        return chunks
    found = next((chunk for chunk in chunks if _holds(chunk, term, kind)), None)
    if found is None:
        query = f"{term.word} {question}" if term else question  # a value's chunk need not name its kind
        hits = search(query, settings, k=FOCUS_DEPTH, doc_ids=doc_ids, mode="bm25", services=services)
        found = next((hit for hit in hits if _holds(hit, term, kind)), None)
    if found is None:
        return chunks
    rest = [chunk for chunk in chunks[1:] if chunk.id != found.id]
    return [chunks[0], found, *rest]


def _holds(chunk: RetrievedChunk, term: Term | None, kind: str | None) -> bool:
    """Whether ``chunk`` holds the focus ``term``, or a value of the ``kind`` asked for."""
    if kind:
        return bool(SHAPES[kind].search(chunk.text))
    return term is not None and term.stem in tokenize_query(f"{chunk.title}\n{passage_text(chunk.section, chunk.text)}")
