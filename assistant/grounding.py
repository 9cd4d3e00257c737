"""Sentence-level answer verification: is each sentence of an answer supported by the passages it cites?

A chat model can cite a passage and still say something the passage does not say: a changed number, the
wrong principle letter, a fact from a neighbouring section, or plausible general knowledge. This module
scores every answer sentence against its passages, so the answer chain can report ``grounding`` and flag
the sentences a reader should not trust, and the drafting engine can catch over-claims.

Checkers are pluggable (``Services.checker``, setting ``grounding_checker``):

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
    the other way round ("all services" for "not all services"). Wording checks, in words of the language
    rather than of any corpus, catch what keeps nearly every word of the passage: a reversal of its
    best-matching sentence (modality "need only consider" for "must evaluate", before/after,
    increase/reduce, including/except, what a negation applies to), a changed actor, level or universal
    quantifier ("local councils" for "central government", "every package"), and priority or strength no
    passage states ("above all", "the most important", "only"). A sentence that is word for word in a
    passage, line wraps, hyphenation and markers aside, is supported outright. The weight and the threshold
    are calibrated on ``evals/datasets/grounding_pairs.jsonl`` by ``python -m evals.calibrate``. Known blind
    spots: swapped roles or categories that keep every word ("Themes are the measures…", "the postinst
    before, the preinst after"), antonyms outside the checked axes ("ignores"), and counts the passage only
    implies (seven list items, no "seven").
``nli:/path/to/cross-encoder``
    A local sentence-transformers ``CrossEncoder`` folder (e.g. an NLI model); the score is its entailment
    probability for (passage, sentence). Stronger on swapped facts, slower; nothing is downloaded.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from assistant import wording
from assistant.config import Settings
from assistant.models.embeddings import vector_cache
from assistant.text import Unit, strip_citations, units, word_set

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

# --- calibrated constants (written by evals/calibrate.py; do not edit by hand) ---
# Calibrated 2026-11-29 on evals/datasets/grounding_pairs.jsonl (96 calibration / 100 held-out pairs).
# Held-out: balanced accuracy 0.921, precision 0.941, recall 0.906.
# All 196 pairs: balanced accuracy 0.944, precision 0.954, recall 0.945.
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
REVERSAL_PENALTY = 0.5
"""Score multiplier per reversal of the best-matching passage sentence: modality ("need only consider" for
"must evaluate"), order (before/after), direction (increase/reduce), inclusion (including/except), or what a
negation applies to. Like a changed figure, a reversal keeps nearly every word, so it must weigh as much."""
SCOPE_PENALTY = 0.6
"""Score multiplier per changed actor, level or universal quantifier ("local councils" for "central government",
"every package" for "a package maintained by a team")."""
INTENSIFIER_PENALTY = 0.6
"""Score multiplier per priority or strength word no passage has ("above all", "the most important", "only")."""
NLI_THRESHOLD = 0.5
"""Default threshold of a cross-encoder checker: its entailment probability."""

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
    quoted: bool = False
    """The sentence is word for word in a passage (line wraps, hyphenation, quotes and markers aside)."""
    reversals: int = 0
    """Axes on which the sentence reverses its best-matching passage sentence (see ``wording.reversals``)."""
    scope_changes: int = 0
    """Actors, levels and universal quantifiers the sentence changes (see ``wording.scope_changes``)."""
    intensifiers: int = 0
    """Priority or strength words of the sentence that no passage has."""

    def combine(self, weight: float | None = None) -> float:
        """The support score: weighted mean of cosine and overlap, times the penalties; 0..1 (1 for a quote)."""
        if self.quoted:
            return 1.0
        weight = EMBEDDING_WEIGHT if weight is None else weight
        base = weight * self.cosine + (1.0 - weight) * self.overlap
        base *= NUMBER_PENALTY ** (self.missing_identifiers + self.misbound_numbers)
        base *= BINDING_PENALTY**self.misbound_letters
        if self.negation_mismatch:
            base *= NEGATION_PENALTY
        base *= REVERSAL_PENALTY**self.reversals * SCOPE_PENALTY**self.scope_changes
        base *= INTENSIFIER_PENALTY**self.intensifiers
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
        texts = [claim for claim in map(strip_citations, sentences) if claim]  # a bare "[1]" is no claim
        texts += [w for p in passages if p and p.strip() for w in wording.windows(p)[0]]
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
            texts, n_local = wording.windows(passage)
            local += range(len(windows), len(windows) + n_local)
            windows += texts
        vectors = self._cache.get([claim, *windows])
        similarities = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
        best_local = windows[max(local, key=lambda i: similarities[i])]

        words = word_set(claim, True)
        evidence = frozenset().union(*(word_set(p) for p in passages))
        overlap = len(words & evidence) / len(words) if words else 1.0
        misbound = wording.misbound(claim, passages)
        misbound_words = sum(1 for t in misbound if t.kind == "word")
        return SupportFeatures(
            cosine=float(similarities.max()),
            overlap=overlap,
            missing_identifiers=len(wording.missing_identifiers(claim, passages)),
            misbound_numbers=sum(1 for t in misbound if t.kind == "number"),
            misbound_letters=sum(1 for t in misbound if t.kind == "letter"),
            negation_mismatch=wording.negation_mismatch(claim, best_local),
            quoted=wording.quoted(claim, passages),
            reversals=wording.reversals(claim, best_local, passages),
            scope_changes=wording.scope_changes(claim, best_local, passages) + misbound_words,
            intensifiers=wording.intensifiers(claim, passages),
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
