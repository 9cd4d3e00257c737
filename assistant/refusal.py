"""When not to answer: nothing relevant retrieved, or a question outside the framework texts.

The assistant never answers from a model's own memory. A question is answered only when retrieval found a
chunk that is plainly about it: a dense similarity above :data:`DENSE_MIN`, or a weaker one backed by most
of the question's content words appearing in the chunk (the keyword side). The thresholds were set from
the top-chunk similarities of in-scope questions (0.29–0.75 on the corpus) against out-of-scope ones
(0.01–0.23); ``pva eval`` measures them as refusal precision and recall on ``evals/datasets/questions.jsonl``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.grounding import content_words
from assistant.types import RetrievedChunk

DENSE_MIN = 0.38
"""A top chunk at least this similar to the question is relevant on its own."""
DENSE_WITH_KEYWORDS = 0.24
"""A weaker dense match counts when the chunk also holds :data:`KEYWORD_SHARE` of the question's words."""
KEYWORD_SHARE = 0.6

_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules|prompt|above|previous|prior)\b"
    r"|\byou are now\b|\bsystem prompt\b|\bjailbreak\b|\bdeveloper mode\b|\bpretend to be\b",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_injection(text: str) -> bool:
    """Whether ``text`` tries to give the assistant new instructions (it is then treated as data only)."""
    return bool(_INJECTION.search(text))


def without_injection(question: str) -> str:
    """The question with any sentence that tries to instruct the assistant removed ("" if nothing is left)."""
    sentences = re.split(r"(?<=[.?!])\s+", question.strip())
    return " ".join(s for s in sentences if not looks_like_injection(s)).strip()


def relevance(question: str, chunks: list[RetrievedChunk]) -> tuple[bool, float]:
    """Whether the retrieved chunks are relevant enough to answer from, and the best dense similarity."""
    if not chunks:
        return False, 0.0
    best_dense = max((c.dense or 0.0) for c in chunks)
    if best_dense >= DENSE_MIN:
        return True, best_dense
    words = content_words(question)
    if not words or best_dense < DENSE_WITH_KEYWORDS:
        return False, best_dense
    share = max(len(words & content_words(f"{c.section} {c.text}")) / len(words) for c in chunks)
    return share >= KEYWORD_SHARE, best_dense


@lru_cache(maxsize=16)
def _covered(titles: tuple[str, ...]) -> str:
    if not titles:
        return "nothing yet: the index is empty (run `pva ingest`)"
    return "; ".join(titles)


def refusal_message(titles: list[str]) -> str:
    """The reply when the texts do not cover a question, naming what they do cover."""
    return (
        "The framework texts don't cover that, so I can't answer it from them. "
        f"They cover: {_covered(tuple(titles))}. Try asking about one of those."
    )
