"""When not to answer: nothing relevant retrieved, or a question outside the framework texts.

The assistant never answers from a model's own memory. A question is answered only when retrieval found a
chunk that is plainly about it: a dense similarity above :data:`DENSE_MIN`, or a weaker one backed by most
of the question's content words appearing in the chunk (the keyword side). The thresholds were set from
the top-chunk similarities of in-scope questions (0.29–0.75 on the corpus) against out-of-scope ones
(0.01–0.23); ``pva eval`` measures them as refusal precision and recall on ``evals/datasets/questions.jsonl``.

The texts and the embedding model are English, so a question in another language rarely matches anything. It
is still searched (a question that names a framework, say "Qu'est-ce que le Social Value Model ?", is answered
from the English texts); only when it is refused does the message say the texts are in English and ask for the
question in English, rather than wrongly claiming the texts don't cover the topic.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from assistant.shapes import anchors, expands, shape_of
from assistant.text import content_words, passage_text
from assistant.types import RetrievedChunk
from assistant.value_shapes import SHAPES, value_kind

DENSE_MIN = 0.38
"""A top chunk at least this similar to the question is relevant on its own."""
DENSE_WITH_KEYWORDS = 0.24
"""A weaker dense match counts when the chunk also holds :data:`KEYWORD_SHARE` of the question's words."""
KEYWORD_SHARE = 0.6
DENSE_WITH_ANCHORS = 0.2
"""A weaker dense match counts when the chunks mention every name and acronym the question does ("TOMs")."""
TOPICS_NAMED = 3
"""How many of the indexed documents a refusal names, shortest titles first."""

_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompt|above|previous|prior)\b"
    r"|\byou are now\b|\bsystem prompt\b|\bjailbreak\b|\bdeveloper mode\b|\bpretend to be\b"
    r"|\bnew instructions?\b|\b(?:reply|respond|answer)\s+only\s+with\b|</?(?:sources?|system|instructions?)>",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_injection(text: str) -> bool:
    """Whether ``text`` tries to give the assistant new instructions (it is then treated as data only)."""
    return bool(_INJECTION.search(text))


def without_injection(question: str) -> str:
    """The question with any sentence that tries to instruct the assistant removed ("" if nothing is left)."""
    # Cut at every . ? ! rather than with split_sentences: a typed question often goes on in lower case.
    sentences = re.split(r"(?<=[.?!])\s+", question.strip())
    return " ".join(s for s in sentences if not looks_like_injection(s)).strip()


def relevance(question: str, chunks: list[RetrievedChunk]) -> tuple[bool, float]:
    """Whether the retrieved chunks are relevant enough to answer from, and the best dense similarity."""
    if not chunks:
        return False, 0.0
    best_dense = max((c.dense or 0.0) for c in chunks)
    if best_dense >= DENSE_MIN:
        return True, best_dense
    shape = shape_of(question)
    if shape.kind == "acronym" and any(expands(shape.term, c.text) for c in chunks):
        return True, best_dense  # a retrieved chunk spells the acronym out: that is the answer
    if shape.anchors and best_dense >= DENSE_WITH_ANCHORS and not missing_anchors(question, chunks):
        return True, best_dense
    kind = value_kind(question)
    if (
        kind
        and shape.anchors
        and any(SHAPES[kind].search(c.text) and not missing_anchors(question, [c]) for c in chunks)
    ):
        return True, best_dense  # "What is X's email address?": a chunk naming X and holding an address answers it
    words = content_words(question)
    if not words or best_dense < DENSE_WITH_KEYWORDS:
        return False, best_dense
    share = max(len(words & content_words(passage_text(c.section, c.text))) / len(words) for c in chunks)
    return share >= KEYWORD_SHARE, best_dense


def missing_anchors(question: str, chunks: list[RetrievedChunk]) -> list[str]:
    """The names, acronyms and years of ``question`` that no chunk (text, heading path or title) mentions."""
    found: set[str] = set()
    for chunk in chunks:
        found |= content_words(f"{chunk.title}\n{chunk.section}\n{chunk.text}")
    return [anchor for anchor in anchors(question) if not content_words(anchor.replace("/", " ")) <= found]


def not_covered_message(missing: list[str], chunks: list[RetrievedChunk]) -> str:
    """The reply when the nearest texts are related but do not mention what the question names."""
    words = [m for m in missing if not m.startswith("how ")][:3]
    figures = [m for m in missing if m.startswith("how ")][:1]  # "how long": no figure in the nearest text
    said = [f"don't cover {' or '.join(words)}"] if words else []
    said += [f"don't say {figures[0]}"] if figures else []
    nearest = f" The nearest they come is {_short(chunks[0].title)}." if chunks and chunks[0].title else ""
    return f"The texts {' and '.join(said)}, so I can't answer that from them.{nearest}"


def _short(title: str) -> str:
    """A title without bracketed notes, and of "Series: Name" its longer side."""
    title = re.split(r"\s*\(", title, maxsplit=1)[0].strip() or title
    return max(title.split(": "), key=len).strip()


@lru_cache(maxsize=16)
def _covered(titles: tuple[str, ...]) -> str:
    if not titles:
        return "nothing yet: the index is empty (run `pva ingest`)"
    short = sorted(dict.fromkeys(_short(t) for t in titles), key=len)[:TOPICS_NAMED]
    return ", ".join(short[:-1]) + (" and " if len(short) > 1 else "") + short[-1]


_FUNCTION_WORDS = {
    # Frequent function words per language. The foreign lists leave out any word that is also English, and English
    # leaves out "is" and "was", which German and Dutch questions use too ("Was ist …", "Wat is …").
    "en": "the a an of to in on at for with by from about and or not no are were be been do does did can "
    "could should would will must may what which who whom whose how why when where this that these those it its "
    "our their there any all i we you they",
    "fr": "les des est sont quel quels quelle quelles une du au aux dans avec sur qui que qu ce cette ces nous vous "
    "ils elles leur leurs être comment pourquoi où la le de un il elle je quoi",
    "es": "los las el del por para cuál cuáles qué cómo es una unos unas sobre según y lo está están su sus",
    "de": "der das und ist sind wie welche welcher welches nicht mit für von zu dem ein eine einer warum wer ich wir",
    "cy": "beth yw ydy ydi mae sut pwy pa yr gyda neu yn ei eu hyn hynny oes",
    "it": "il gli della delle degli dei sono quali qual perché che cosa è di nel nella",
    "pt": "os da dos das são quais porque uma em não",
    "nl": "het een wat zijn waarom welke niet voor ik wij zij",
}
_ENGLISH_WORDS = frozenset(_FUNCTION_WORDS["en"].split())
_FOREIGN_WORDS = frozenset(w for lang, words in _FUNCTION_WORDS.items() if lang != "en" for w in words.split())


def looks_non_english(text: str) -> bool:
    """Whether ``text`` is plainly not English: mostly non-Latin letters, or more foreign than English function words.

    Used only to word a refusal; it never decides whether a question is answered.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    latin = sum(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)
    if latin < len(letters) / 2:
        return True
    words = re.findall(r"\w+", text.casefold())
    english = sum(w in _ENGLISH_WORDS for w in words)
    foreign = sum(w in _FOREIGN_WORDS for w in words)
    return foreign > english


def refusal_message(titles: list[str], question: str | None = None) -> str:
    """The reply when the texts do not cover a question, naming what they do cover.

    A question that is not in English is told that the texts are in English and asked to ask in English.
    """
    if question and looks_non_english(question):
        return (
            "The framework texts are in English, and I could not match your question to them, so I can't answer "
            "it. Ask it again in English, for example “What are the principles of good governance?”. "
            f"They cover {_covered(tuple(titles))}."
        )
    return f"The texts don't cover that, so I can't answer it from them. They cover {_covered(tuple(titles))}."
