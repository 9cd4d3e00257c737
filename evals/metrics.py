"""Pure metric functions of the eval suite: no I/O, no models, so every figure in a report is unit-tested.

The functions take plain values (ranks, booleans, strings, a ``judge`` callable) rather than ``Answer``
objects, so the same arithmetic serves the answer chain, the drafting engine and any dataset a maintainer
brings. Definitions follow the usual literature where one exists:

- retrieval: hit@k, recall@k and reciprocal rank of the *gold evidence* among the retrieved chunks;
- citations: ALCE (Gao et al., 2023, "Enabling Large Language Models to Generate Text with Citations"):
  a sentence has citation recall 1 when it cites something and the cited passages together entail it; a
  citation is precise unless it alone does not support the sentence *and* the others support it without it;
- refusals: precision and recall of "refused" against the cases that should be refused;
- latency: percentiles by linear interpolation between closest ranks (numpy's default).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from assistant.text import CITATION

Judge = Callable[[str, Sequence[str]], bool]
"""``judge(sentence, passages) -> bool``: do these passages (taken together) support the sentence?"""

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:%|(?=\b))")


# ------------------------------------------------------------------------------------------- text matching


def normalise(text: str) -> str:
    """Lower case, NFKC, typographic quotes and dashes folded to ASCII, citation markers removed, one space.

    Key facts and gold phrases are matched after this, so "Entity’s" in the corpus matches "entity's" typed
    in a dataset, and a "[2]" marker between two words does not hide a phrase.
    """
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    text = CITATION.sub(" ", text)
    return " ".join(text.lower().split())


def contains(haystack: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``haystack`` after :func:`normalise` (case- and whitespace-insensitive)."""
    needle = normalise(phrase)
    return bool(needle) and needle in normalise(haystack)


def fact_matches(text: str, key_facts: Sequence[Sequence[str]]) -> list[bool]:
    """For each key fact (a list of alternative phrasings), whether any alternative occurs in ``text``."""
    return [any(contains(text, alternative) for alternative in alternatives) for alternatives in key_facts]


def key_fact_coverage(text: str, key_facts: Sequence[Sequence[str]]) -> float:
    """Share of key facts present in ``text``; 1.0 when there are none (nothing was required)."""
    found = fact_matches(text, key_facts)
    return sum(found) / len(found) if found else 1.0


def contains_any(text: str, phrases: Iterable[str]) -> list[str]:
    """The phrases of ``phrases`` that occur in ``text`` (e.g. an injection payload that got through)."""
    return [phrase for phrase in phrases if contains(text, phrase)]


def numbers_in(text: str) -> set[str]:
    """The numbers written in ``text`` as digits, normalised (``1,000`` → ``1000``; ``48.0`` stays ``48.0``).

    Used for the invented-figure rate of drafts: a figure in a draft must come from the request or a source.
    Citation markers (``[2]``) are not figures and are skipped.
    """
    found = set()
    for match in _NUMBER.findall(CITATION.sub(" ", text or "")):
        token = match.rstrip("%").replace(",", "")
        found.add(token)
    return found


# ------------------------------------------------------------------------------------------------ retrieval


def first_gold_rank(retrieved_is_gold: Sequence[bool]) -> int | None:
    """1-based rank of the first gold chunk, ``None`` if no retrieved chunk is gold."""
    for rank, gold in enumerate(retrieved_is_gold, start=1):
        if gold:
            return rank
    return None


def hit_at_k(retrieved_is_gold: Sequence[bool], k: int | None = None) -> float:
    """1.0 if any of the first ``k`` retrieved chunks is gold (all of them when ``k`` is None), else 0.0."""
    window = retrieved_is_gold if k is None else retrieved_is_gold[:k]
    return 1.0 if any(window) else 0.0


def recall_at_k(gold_found: Sequence[Sequence[bool]], k: int | None = None) -> float:
    """Share of gold items found in the first ``k`` chunks.

    ``gold_found[i][r]`` says whether retrieved chunk ``r`` matches gold item ``i`` — several gold items
    (a multi-part question) may need several chunks, and one chunk may match several items.
    """
    if not gold_found:
        return 1.0
    found = [any(row if k is None else row[:k]) for row in gold_found]
    return sum(found) / len(found)


def reciprocal_rank(retrieved_is_gold: Sequence[bool], k: int | None = None) -> float:
    """``1 / rank`` of the first gold chunk within the first ``k``, 0.0 if none; averaged over cases it is MRR."""
    rank = first_gold_rank(retrieved_is_gold if k is None else retrieved_is_gold[:k])
    return 1.0 / rank if rank else 0.0


# ------------------------------------------------------------------------------------------------ citations


@dataclass(frozen=True)
class CitationScore:
    """ALCE figures for one sentence: recall (0/1), precise citations and citations made."""

    recall: int
    precise: int
    cited: int


def alce_sentence(sentence: str, passages: Sequence[str], judge: Judge) -> CitationScore:
    """ALCE citation recall and precision of one sentence citing ``passages`` (in citation order).

    Recall is 1 when the sentence cites at least one passage and all its cited passages together support it.
    Precision, as in ALCE's reference code: when the cited passages jointly support the sentence and there are
    several, a citation is over-cited (imprecise) when it alone does not support the sentence and the others
    still do without it; a single citation is precise exactly when it supports the sentence; when the
    passages jointly do not support the sentence, none of its citations is precise.
    """
    if not passages:
        return CitationScore(recall=0, precise=0, cited=0)
    joint = bool(judge(sentence, list(passages)))
    if not joint:
        return CitationScore(recall=0, precise=0, cited=len(passages))
    if len(passages) == 1:
        return CitationScore(recall=1, precise=1, cited=1)
    precise = 0
    for i, passage in enumerate(passages):
        if judge(sentence, [passage]):
            precise += 1
            continue
        others = [p for j, p in enumerate(passages) if j != i]
        if not judge(sentence, others):
            precise += 1  # needed: the rest do not support the sentence without it
    return CitationScore(recall=1, precise=precise, cited=len(passages))


def alce_totals(scores: Sequence[CitationScore]) -> dict[str, float | None]:
    """Citation recall (mean over sentences) and precision (precise / made over all citations)."""
    cited = sum(s.cited for s in scores)
    return {
        "citation_recall": sum(s.recall for s in scores) / len(scores) if scores else None,
        "citation_precision": sum(s.precise for s in scores) / cited if cited else None,
    }


# ------------------------------------------------------------------------------------------------- refusals


def refusal_scores(expected: Sequence[bool], refused: Sequence[bool]) -> dict[str, float | None]:
    """Precision and recall of refusing, with "should refuse" as the positive class.

    Precision: of the answers refused, the share that should have been (a low figure means in-scope questions
    were turned away). Recall: of the questions that should be refused, the share that were (a low figure
    means the assistant answered what the texts do not cover). ``None`` when undefined (no positives).
    """
    tp = sum(1 for e, r in zip(expected, refused, strict=True) if e and r)
    predicted = sum(1 for r in refused if r)
    actual = sum(1 for e in expected if e)
    return {
        "refusal_precision": tp / predicted if predicted else None,
        "refusal_recall": tp / actual if actual else None,
    }


# ------------------------------------------------------------------------------------------------ agreement


def agreement(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Share of items on which two judges agree; ``None`` when there are no items."""
    if not a:
        return None
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


# ---------------------------------------------------------------------------------------------- aggregates


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) by linear interpolation between closest ranks; ``None`` if empty."""
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not ``None``; ``None`` when none are left (a metric that does not apply)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def share(flags: Iterable[bool | None]) -> float | None:
    """Share of true flags among those that are not ``None``."""
    return mean(None if f is None else float(bool(f)) for f in flags)


def flatten(metrics: Mapping[str, object], prefix: str = "") -> dict[str, float | None]:
    """Nested metric dicts as ``{"retrieval.hybrid.hit_at_k": 0.9, ...}``: the names thresholds refer to."""
    flat: dict[str, float | None] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif value is None or isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = None if value is None else float(value)
    return flat
