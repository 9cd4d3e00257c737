"""Sentence-level answer verification: is each sentence of an answer supported by the passages it cites?

A chat model can cite a passage and still say something the passage does not say: a changed number, the
wrong principle letter, a fact from a neighbouring section, or plausible general knowledge. This module
scores every answer sentence against its passages, so the answer chain can report ``grounding`` and flag
the sentences a reader should not trust, and the drafting engine can catch over-claims.

Checkers are pluggable (:func:`get_checker`, setting ``grounding_checker``):

``embedding`` (default)
    Fast and offline, built on the bundled all-MiniLM-L6-v2. It averages two signals that fail in different
    ways: the cosine similarity between the sentence and the best-matching *window* of the passage (a
    sentence or list item, two adjacent ones, an item under its sub-heading, or the whole passage), which
    catches paraphrase but is blind to numbers, letters and negation; and the share of the sentence's
    content words (stemmed) found in the passage, which catches invented entities but is blind to word
    order. Three checks then cover what both miss, each multiplying the score by a penalty: numbers,
    letters and acronyms (``48``, ``2012``, principle ``C``, ``OECD``) the passage lacks; numbers and letters
    it has but next to other words ("8 themes" where it says "5 themes and 8 policy outcomes"; "Principle A
    … openness" where openness is B); and a negation the best-matching passage sentence does not share, or
    the other way round ("all services" for "not all services"). The weight and the threshold are
    calibrated on ``evals/datasets/grounding_pairs.jsonl`` by ``python -m evals.calibrate``. Known blind
    spots: swapped roles or categories that keep every word ("Themes are the measures…"), antonyms without
    a negation word ("ignores"), and counts the passage only implies (seven list items, no "seven").
``nli:/path/to/cross-encoder``
    A local sentence-transformers ``CrossEncoder`` folder (e.g. an NLI model); the score is its entailment
    probability for (passage, sentence). Stronger on swapped facts, slower; nothing is downloaded.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from assistant.config import Settings
from assistant.models.embeddings import vector_cache
from assistant.text import Token, Unit, strip_citations, tokens, units, word_set
from assistant.text import content_words as content_words  # re-exported: callers still import these from here
from assistant.text import split_sentences as split_sentences

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

# --- calibrated constants (written by evals/calibrate.py; do not edit by hand) ---
# Calibrated 2026-11-27 on evals/datasets/grounding_pairs.jsonl (96 calibration / 100 held-out pairs).
# Held-out: balanced accuracy 0.889, precision 0.889, recall 0.906.
# All 196 pairs: balanced accuracy 0.927, precision 0.928, recall 0.945.
EMBEDDING_WEIGHT = 0.5
"""Weight of the cosine similarity in the support score; the rest goes to content-word overlap."""
EMBEDDING_THRESHOLD = 0.687
"""Support score at or above which the embedding checker counts a sentence as grounded."""
# --- end calibrated constants ---

NUMBER_PENALTY = 0.5
"""Score multiplier per number, letter or acronym the passages lack (``50`` for ``48``), or per number they
have next to other words ("8 themes" for "8 policy outcomes"): one alone takes a perfect match below any
sensible threshold, since a changed figure is the hallucination readers are least able to spot."""
BINDING_PENALTY = 0.7
"""Score multiplier per identifier letter found only next to other words ("Principle A … openness"); softer,
since a claim words a principle differently from the list that defines it ("C concerns…" / "C. Defining")."""
NEGATION_PENALTY = 0.6
"""Score multiplier when the sentence and its best-matching passage sentence disagree on negation."""
NLI_THRESHOLD = 0.5
"""Default threshold of a cross-encoder checker: its entailment probability."""

_CACHE_SIZE = 4096
_BINDING_AFTER_SENTENCE = 2  # content words after an identifier in the claim, compared with …
_BINDING_AFTER_PASSAGE = 3  # … the words after the same identifier in the passage (see _misbound)

# ----------------------------------------------------------------------------------------------------------
# Numbers, identifiers and negation
# ----------------------------------------------------------------------------------------------------------

_NEGATION_TEXT = "not no never none neither nor cannot without nothing rarely seldom hardly barely"
_NEGATIONS = frozenset(_NEGATION_TEXT.split())


def _missing_identifiers(claim: str, passages: Sequence[str]) -> set[str]:
    """Numbers, letters and acronyms of the claim that no passage contains (acronyms in any case)."""
    known = {t.text for p in passages for t in tokens(p) if t.kind in ("number", "letter")}
    words = frozenset().union(*(word_set(p) for p in passages))
    missing = set()
    for token in tokens(claim, True):
        if (token.kind in ("number", "letter") and token.text not in known) or (
            token.kind == "acronym" and token.text not in words
        ):
            missing.add(token.text)
    return missing


@lru_cache(maxsize=_CACHE_SIZE)
def _has_negation(text: str) -> bool:
    """Whether ``text`` negates: looked up before stemming, which would turn "nothing" into "noth"."""
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower().replace("’", "'"))
    return any(w in _NEGATIONS or w.endswith("n't") for w in words)


def _is_year(token: str) -> bool:
    return token.isdigit() and len(token) == 4 and 1800 <= int(token) <= 2199


def _following(tokens: Sequence[Token], index: int, limit: int) -> list[str]:
    """Up to ``limit`` content tokens after ``tokens[index]`` in the same clause."""
    clause = tokens[index].clause
    return [t.text.lower() for t in tokens[index + 1 : index + 1 + limit] if t.clause == clause]


def _misbound(claim: str, passages: Iterable[str]) -> list[Token]:
    """Numbers and letters of the claim that the passages have, but never followed by the claim's words.

    "The model has 8 themes" against "5 themes and 8 policy outcomes": ``8`` is in the passage, followed by
    "policy outcomes", never by "themes". A number must be followed by the same words as in some passage
    occurrence, as far as that occurrence's clause goes ("48 core outcomes" vs "48 Core Measures" fails;
    "four areas of public value" vs "four areas, each…" passes). A letter is followed by a verb in a claim
    ("Principle C concerns defining…") and by the principle itself in a list ("C. Defining…"), so sharing
    any word suffices. An identifier that ends its clause in the claim, and years ("in 2012", "the 2017
    report"), are not judged.
    """
    after: dict[str, list[list[str]]] = {}
    for passage in passages:
        passage_tokens = tokens(passage)
        for i, token in enumerate(passage_tokens):
            if token.kind in ("number", "letter"):
                after.setdefault(token.text, []).append(_following(passage_tokens, i, _BINDING_AFTER_PASSAGE))
    claim_tokens = tokens(claim, True)
    misbound: list[Token] = []
    for i, token in enumerate(claim_tokens):
        if token.text not in after or token.kind not in ("number", "letter") or _is_year(token.text):
            continue
        following = _following(claim_tokens, i, _BINDING_AFTER_SENTENCE)
        if not following:
            continue
        if token.kind == "letter":
            bound = any(set(following) & set(occurrence) for occurrence in after[token.text])
        else:
            bound = any(set(following[: len(occurrence)]) <= set(occurrence) for occurrence in after[token.text])
        if not bound:
            misbound.append(token)
    return misbound


@lru_cache(maxsize=_CACHE_SIZE)
def _windows(passage: str) -> tuple[tuple[str, ...], int]:
    """(windows, local): units, adjacent pairs, units under their sub-heading, then the whole passage.

    The first ``local`` windows are not the whole passage. Pairs stay within a paragraph or a run of list
    items (with the heading above it): a list item joined to the lead-in before it would let "principle
    A …" borrow the letter of its neighbour. A sub-heading is often the only place a packed chunk names
    what its items belong to ("Wellbeing: Improve community cohesion").
    """
    parts = units(passage, headings=True)
    windows = [u.text for u in parts]
    windows += [f"{a.text} {b.text}" for a, b in zip(parts, parts[1:], strict=False) if a.group == b.group]
    windows += [f"{u.heading}: {u.text}" for u in parts if u.heading]
    windows = list(dict.fromkeys(w for w in windows if w)) or [" ".join(passage.split())]
    local = len(windows)
    if len(parts) > 2:
        windows.append(" ".join(u.text for u in parts))
    return tuple(windows), local


# ----------------------------------------------------------------------------------------------------------
# Checkers
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportFeatures:
    """The raw signals behind an embedding support score (kept apart so calibration can reweigh them)."""

    cosine: float
    """Best cosine similarity between the sentence and any window of any passage (0..1)."""
    overlap: float
    """Share of the sentence's content words found in the passages (1.0 if it has none)."""
    missing_identifiers: int
    """Numbers, identifier letters and acronyms of the sentence that no passage contains."""
    misbound_numbers: int
    """Numbers the passages contain, but never followed by the sentence's words ("8 themes")."""
    misbound_letters: int
    """Identifier letters the passages contain, never next to the sentence's words ("Principle A … openness")."""
    negation_mismatch: bool
    """The sentence and its best-matching passage sentence (or pair) disagree on negation."""

    def combine(self, weight: float | None = None) -> float:
        """The support score: weighted mean of cosine and overlap, times the penalties; 0..1."""
        weight = EMBEDDING_WEIGHT if weight is None else weight
        base = weight * self.cosine + (1.0 - weight) * self.overlap
        base *= NUMBER_PENALTY ** (self.missing_identifiers + self.misbound_numbers)
        base *= BINDING_PENALTY**self.misbound_letters
        if self.negation_mismatch:
            base *= NEGATION_PENALTY
        return float(min(max(base, 0.0), 1.0))


@runtime_checkable
class GroundingChecker(Protocol):
    """Scores how well passages support one answer sentence."""

    name: str
    threshold: float

    def score(self, sentence: str, passages: Sequence[str]) -> float:
        """Support of ``sentence`` by ``passages`` (the ones it cites), 0 (none) .. 1 (fully)."""
        ...


class EmbeddingChecker:
    """The default checker: bundled sentence embeddings + stemmed word overlap + identifier/negation checks.

    Several passages count as one body of evidence (a sentence citing [1][2] may join facts from both): the
    cosine is that of the best window of any passage, words and identifiers are looked up in all of them.
    Pass only the passages the sentence cites: the more text, the easier support becomes.
    """

    name = "embedding"

    def __init__(self, embeddings: Embeddings, threshold: float | None = None, weight: float | None = None) -> None:
        self.embeddings = embeddings
        self.threshold = EMBEDDING_THRESHOLD if threshold is None else float(threshold)
        self.weight = EMBEDDING_WEIGHT if weight is None else float(weight)
        self._cache = vector_cache(embeddings)

    def warm(self, sentences: Sequence[str] = (), passages: Sequence[str] = ()) -> None:
        """Embed many sentences and passages in one batched call, ahead of scoring them one by one."""
        texts = [strip_citations(s) for s in sentences if s.strip()]
        texts += [w for p in passages if p and p.strip() for w in _windows(p)[0]]
        if texts:
            self._cache.get(texts)

    def features(self, sentence: str, passages: Sequence[str]) -> SupportFeatures:
        """The signals :meth:`score` combines; one batched encode for whatever is not cached yet."""
        claim = strip_citations(sentence)
        passages = [p for p in passages if p and p.strip()]
        if not claim or not passages:
            return SupportFeatures(0.0, 0.0, 0, 0, 0, False)
        windows: list[str] = []
        local: list[int] = []  # indices into windows of the single / paired units
        for passage in passages:
            texts, n_local = _windows(passage)
            local += range(len(windows), len(windows) + n_local)
            windows += texts
        vectors = self._cache.get([claim, *windows])
        similarities = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
        best_local = windows[max(local, key=lambda i: similarities[i])]

        words = word_set(claim, True)
        evidence = frozenset().union(*(word_set(p) for p in passages))
        overlap = len(words & evidence) / len(words) if words else 1.0
        misbound = _misbound(claim, passages)
        return SupportFeatures(
            cosine=float(similarities.max()),
            overlap=overlap,
            missing_identifiers=len(_missing_identifiers(claim, passages)),
            misbound_numbers=sum(1 for t in misbound if t.kind == "number"),
            misbound_letters=sum(1 for t in misbound if t.kind == "letter"),
            negation_mismatch=_has_negation(claim) != _has_negation(best_local),
        )

    def score(self, sentence: str, passages: Sequence[str]) -> float:
        return self.features(sentence, passages).combine(self.weight)


class CrossEncoderChecker:
    """A local cross-encoder (e.g. an NLI model) judging (passage, sentence) pairs; the best passage wins.

    With two or more labels the score is the softmax probability of the label named like "entail" (else
    label 1); with a single output, its sigmoid. The model loads on first use, from disk only.
    """

    def __init__(self, path: Path, threshold: float | None = None) -> None:
        self.path = path
        self.name = f"nli:{path}"
        self.threshold = NLI_THRESHOLD if threshold is None else float(threshold)
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import CrossEncoder

                    self._model = CrossEncoder(str(self.path), device="cpu", local_files_only=True)
        return self._model

    def _entailment_index(self, n_labels: int) -> int:
        labels = getattr(getattr(self.model, "config", None), "id2label", None) or {}
        for index, label in labels.items():
            if "entail" in str(label).lower():
                return int(index)
        return min(1, n_labels - 1)

    def score(self, sentence: str, passages: Sequence[str]) -> float:
        claim = strip_citations(sentence)
        passages = [p for p in passages if p and p.strip()]
        if not claim or not passages:
            return 0.0
        import torch

        # Raw logits whatever activation the model folder configures, so the maths below applies exactly once.
        pairs = [(p, claim) for p in passages]
        raw = self.model.predict(pairs, activation_fn=torch.nn.Identity(), show_progress_bar=False)
        logits = np.atleast_2d(np.asarray(raw, dtype=np.float64))
        if logits.shape[0] != len(passages):
            logits = logits.T
        if logits.shape[1] == 1:
            probs = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        else:
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = (exp / exp.sum(axis=1, keepdims=True))[:, self._entailment_index(logits.shape[1])]
        return float(probs.max())


def build_checker(settings: Settings, embeddings: Callable[[], Embeddings]) -> GroundingChecker:
    """A new checker as configured: ``settings.grounding_checker`` is ``embedding`` (scoring with the model
    ``embeddings()`` returns) or ``nli:/folder``; anything else raises ``ValueError``.

    ``settings.grounding_threshold`` overrides the checker's calibrated default threshold.
    """
    spec, threshold = checker_key(settings)
    if spec == "embedding":
        return EmbeddingChecker(embeddings(), threshold=threshold)
    if spec.startswith("nli:"):
        path = Path(spec[4:]).expanduser()
        if not spec[4:].strip() or not path.is_dir():
            raise ValueError(
                f"grounding checker '{spec}': no cross-encoder folder at '{path}' "
                "(set PVA_GROUNDING_CHECKER to 'embedding' or 'nli:/path/to/local/cross-encoder')"
            )
        return CrossEncoderChecker(path, threshold=threshold)
    raise ValueError(f"unknown grounding checker '{spec}': use 'embedding' or 'nli:/path/to/local/cross-encoder'")


def checker_key(settings: Settings) -> tuple[str, float | None]:
    """The checker's spec and threshold override, checked: settings equal on these (and on the embedding model)
    share one checker, and so its embedding cache."""
    spec = (settings.grounding_checker or "embedding").strip()
    threshold = settings.grounding_threshold
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f"grounding_threshold must be within 0..1, got {threshold}")
    return spec, threshold


def get_checker(settings: Settings) -> GroundingChecker:
    """The checker of these settings' :class:`~assistant.services.Services`, built once per configuration."""
    from assistant.services import get_services  # deferred: assistant.services builds on this module

    return get_services(settings).checker


def meets_threshold(score: float, threshold: float) -> bool:
    """Whether a support score counts as supported: at or above the threshold (NaN never does)."""
    return not math.isnan(score) and score >= threshold


def is_supported(checker: GroundingChecker, sentence: str, passages: Sequence[str]) -> tuple[bool, float]:
    """Whether ``passages`` support ``sentence`` by the checker's threshold, and the score behind it."""
    score = checker.score(sentence, passages)
    return meets_threshold(score, checker.threshold), score


# ----------------------------------------------------------------------------------------------------------
# Quotes for citations
# ----------------------------------------------------------------------------------------------------------


def best_quote(sentence: str, passage: str, embeddings: Embeddings) -> str:
    """The sentence(s) of ``passage`` that best support ``sentence``: what a citation should quote.

    Each passage sentence / list item is ranked by cosine similarity plus content-word overlap with the
    claim. A neighbour in the same paragraph or list is added when it brings claim words the best one lacks
    (a claim that spans two sentences gets both). Returns the exact passage text when the two share a line,
    else the two joined by a space; a passage with no sentences comes back stripped.
    """
    parts = units(passage)
    if not parts:
        return passage.strip()
    claim = strip_citations(sentence)
    words = word_set(claim, True)
    vectors = vector_cache(embeddings).get([claim, *(u.text for u in parts)])
    cosines = vectors[1:] @ vectors[0]

    def covered(unit: Unit) -> frozenset[str]:
        return words & word_set(unit.text)

    ranks = [float(c) + (len(covered(u)) / len(words) if words else 0.0) for c, u in zip(cosines, parts, strict=True)]
    best = int(np.argmax(ranks))
    chosen = [best]
    candidates = [
        (len(covered(parts[n]) - covered(parts[best])), float(cosines[n]), n)
        for n in (best - 1, best + 1)
        if 0 <= n < len(parts) and parts[n].group == parts[best].group
    ]
    if candidates:
        gain, _, neighbour = max(candidates)
        if gain > 0:
            chosen = sorted([best, neighbour])
    first, last = parts[chosen[0]], parts[chosen[-1]]
    if len(chosen) == 1:
        return first.text
    span = passage[first.start : last.end]
    return span if "\n" not in span else f"{first.text} {last.text}"
