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
from assistant.text import CITATION, Token, Unit, strip_citations, tokens, units, word_set
from assistant.text import content_words as content_words  # re-exported: callers still import these from here
from assistant.text import split_sentences as split_sentences

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

_CACHE_SIZE = 4096
_BINDING_AFTER_SENTENCE = 2  # content words after an identifier in the claim, compared with …
_BINDING_AFTER_PASSAGE = 3  # … the words after the same identifier in the passage (see _misbound)
_UNIVERSAL_WORDS = frozenset({"all", "everi"})  # stemmed quantifiers that _misbound binds like numbers

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


def _bindable(token: Token) -> bool:
    return token.kind in ("number", "letter") or token.text in _UNIVERSAL_WORDS


def _misbound(claim: str, passages: Iterable[str]) -> list[Token]:
    """Numbers and letters of the claim that the passages have, but never followed by the claim's words.

    "The model has 8 themes" against "5 themes and 8 policy outcomes": ``8`` is in the passage, followed by
    "policy outcomes", never by "themes". A number must be followed by the same words as in some passage
    occurrence, as far as that occurrence's clause goes ("48 core outcomes" vs "48 Core Measures" fails;
    "four areas of public value" vs "four areas, each…" passes). A letter is followed by a verb in a claim
    ("Principle C concerns defining…") and by the principle itself in a list ("C. Defining…"), so sharing
    any word suffices. An identifier that ends its clause in the claim, and years ("in 2012", "the 2017
    report"), are not judged. "all" and "every" bind like numbers ("all public procurements" for "all major
    central government procurements").
    """
    after: dict[str, list[list[str]]] = {}
    for passage in passages:
        passage_tokens = tokens(passage)
        for i, token in enumerate(passage_tokens):
            if _bindable(token):
                after.setdefault(token.text, []).append(_following(passage_tokens, i, _BINDING_AFTER_PASSAGE))
    claim_tokens = tokens(claim, True)
    misbound: list[Token] = []
    for i, token in enumerate(claim_tokens):
        if token.text not in after or not _bindable(token) or _is_year(token.text):
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
# Wording checks: verbatim quotes, reversals, scope and strength
# ----------------------------------------------------------------------------------------------------------

# Words of the language, not of any corpus: each axis holds groups that exclude one another. A claim that uses
# a group of an axis its best-matching passage sentence does not, while that sentence uses another group of
# the same axis, reverses it: "need only consider" for "must evaluate", "before" for "after". Modality sets
# obligation against permission only: "should" sits between the two ("we need to spend" → "should be spent" is
# fair), and "can" mostly states ability ("a package that cannot supply…").
_AXES: dict[str, dict[str, re.Pattern[str]]] = {
    "modality": {
        "obligation": re.compile(
            r"\b(?:must|shall|mandatory|compulsory|oblig(?:ed|ated|ation|ations|atory)|requir(?:e|es|ed|ing)"
            r"|necessary|ha(?:s|ve|d|ving)\s+to|needs?\s+to|needed\s+to)\b"
        ),
        "permission": re.compile(
            r"\b(?:may|optional(?:ly)?|free\s+to|discretion(?:ary)?|voluntar(?:y|ily)"
            r"|need\s+only|only\s+needs?|choose|choice)\b"
        ),
    },
    "order": {
        "before": re.compile(r"\b(?:before|beforehand|prior\s+to)\b"),
        "after": re.compile(r"\b(?:after|afterwards?|subsequent(?:ly)?)\b"),
    },
    "direction": {
        "up": re.compile(r"\b(?:increas\w*|rais(?:e|es|ed|ing)|ris(?:e|es|ing)|rose|grow\w*|grew|expand\w*)\b"),
        "down": re.compile(r"\b(?:decreas\w*|reduc\w*|declin\w*|cut(?:s|ting)?|shrink\w*|diminish\w*|minimi[sz]\w*)\b"),
    },
    "inclusion": {
        "include": re.compile(r"\binclud(?:e|es|ed|ing)\b"),
        "exclude": re.compile(r"\b(?:exclud\w*|except\w*)\b"),
    },
}
_ACTORS = re.compile(
    r"\b(government|council|department|ministr|agenc|authorit|regulator|supplier|contractor|business|charit"
    r"|citizen|team|maintainer|developer|employer|employee|board|committee|parliament|minister|court|commissioner"
    r"|bidder|provider|local|central|national|regional|federal|municipal|international|private|voluntary)\w*"
)
"""Who a claim is about, and at what level: "local councils" for "central government" changes the claim."""
_UNIVERSALS = re.compile(r"\b(?:all|every|each|everyone|everything)\b")
"""Quantifiers a claim may not add to the sentence it rests on ("every package" where it says "if …")."""
_INTENSIFIERS = re.compile(
    r"\b(?:above\s+all|most\s+(?:important|significant|critical|essential)|(?:the\s+)?(?:top|first|highest|main|"
    r"overriding|primary|foremost|chief)\s+(?:priority|priorities|concern|consideration|goal|aim)|paramount|foremost"
    r"|crucial|vital|always|only|solely|exclusively|alone|sole|invariably|without\s+exception|guarantee[sd]?"
    r"|absolutely|entirely|completely|at\s+all\s+times|in\s+all\s+cases)\b"
)
"""Priority and strength a passage must state itself ("above all", "the most important", "only", "always")."""
_SAME_STRENGTH = {
    "at all times": "always",
    "in all cases": "always",
    "invariably": "always",
    "solely": "only",
    "exclusively": "only",
    "alone": "only",
    "sole": "only",
}
_HYPHEN_BREAK = re.compile(r"(\w)-[ \t]*\r?\n\s*(\w)|(\w)[ \t]*\r?\n\s*-(\w)")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_MIN_QUOTE_WORDS = 4
_NEGATED_WORDS = 2  # content words after a negation that it applies to, for the negation-scope check
_EXCEPTION = re.compile(r"\b(?:except|unless|other\s+than)\b")


def _unwrapped(text: str) -> str:
    """``text`` with words hyphenated across a line end joined again ("dis-\\ntribution", "x\\n-window")."""
    return _HYPHEN_BREAK.sub(lambda m: "".join(g for g in m.groups() if g), text)


@lru_cache(maxsize=_CACHE_SIZE)
def _plain(text: str) -> str:
    """Text reduced to its words, for verbatim comparison: " a b c ".

    Line-end hyphenation is joined ("dis-\\ntribution", "x\\n-window"), then every hyphen, quote, emphasis
    mark, list marker, citation and line break is dropped, so a sentence quoted from a hard-wrapped PDF or a
    plain-text manual matches its passage.
    """
    text = _unwrapped(CITATION.sub(" ", text).replace("*", "").replace("`", ""))
    text = re.sub(r"(?<=\w)-(?=\w)", "", text.lower().replace("’", "'"))
    return f" {_NOT_ALNUM.sub(' ', text).strip()} "


def _quoted(claim: str, passages: Sequence[str]) -> bool:
    """Whether the claim is word for word in a passage (at least a few words, not right after a negation)."""
    plain = _plain(claim)
    if len(plain.split()) < _MIN_QUOTE_WORDS:
        return False
    for passage in passages:
        body = _plain(passage)
        start = body.find(plain)
        while start >= 0:
            before = body[:start].split()[-1:]
            if not (before and before[0] in _NEGATIONS):
                return True
            start = body.find(plain, start + 1)
    return False


def _groups(axis: dict[str, re.Pattern[str]], text: str) -> set[str]:
    low = text.lower().replace("’", "'")
    return {name for name, pattern in axis.items() if pattern.search(low)}


def _restricts(text: str) -> bool:
    """Whether ``text`` negates only to make an exception ("must not … except after"), i.e. says "only"."""
    return bool(_EXCEPTION.search(text.lower()))


def _negation_mismatch(claim: str, window: str) -> bool:
    """The claim and ``window`` disagree on negation; "only after" and "not … except after" agree."""
    said, written = _has_negation(claim), _has_negation(window)
    if said == written:
        return False
    negative, other = (claim, window) if said else (window, claim)
    return not (_restricts(negative) and re.search(r"\bonly\b", other.lower()))


@lru_cache(maxsize=1)
def _negation_stems() -> frozenset[str]:
    """Stemmed negations; "rarely" and "hardly" are left out, as their stems are words ("rare", "hard")."""
    return frozenset(t.text for t in tokens(" ".join(w for w in _NEGATIONS if not w.endswith("ly"))))


def _negated(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(negated, asserted): the first content words after each negation, and the words outside its clause.

    "It is not necessary to specify relationships that are always needed": negated {necessary, specify},
    and "needed" is neither, so the claim "relationships do not need to be specified" is not contradicted.
    """
    negated: set[str] = set()
    asserted: set[str] = set()
    clause, after = -1, -1  # after: content words seen since the clause's negation (-1: none yet)
    for token in tokens(text):
        if token.clause != clause:
            clause, after = token.clause, -1
        if token.text in _negation_stems():
            after = 0
        elif after < 0:
            asserted.add(token.text)
        else:
            after += 1
            if after <= _NEGATED_WORDS:
                negated.add(token.text)
    return frozenset(negated), frozenset(asserted - negated)


def _reversals(claim: str, window: str, passages: Sequence[str]) -> int:
    """Axes (modality, order, direction, inclusion, negation scope) on which the claim reverses ``window``.

    ``window`` is the passage sentence (or pair) the claim matches best. An axis counts when the claim uses
    a group of it that ``window`` lacks while ``window`` uses another; an order word ("before") counts too
    when no passage has one. Negation scope: both negate, but each negates what the other asserts ("will not
    be considered a bug, and will render…" for "will be considered a bug, but will not necessarily render…").
    """
    count = 0
    for name, axis in _AXES.items():
        said, written = _groups(axis, claim), _groups(axis, window)
        if not written and name == "order":
            written = set().union(*(_groups(axis, p) for p in passages)) or {"none"}
        count += bool(written and said - written)
    if _has_negation(claim) and _has_negation(window):
        claim_not, claim_yes = _negated(claim)
        window_not, window_yes = _negated(window)
        count += bool(claim_not & window_yes and window_not & claim_yes)
    return count


def _scope_changes(claim: str, window: str, passages: Sequence[str]) -> int:
    """Actors, levels and universal quantifiers the claim changes.

    Counted: each actor or level word no passage has ("local councils"); an actor of the best-matching
    sentence swapped for another ("package maintainers" for "the Release Team"); and a universal quantifier
    that sentence lacks ("every package" for "if the maintainer is a team"). A quantifier bound to other
    words ("all public procurements") is one of :func:`_misbound`'s.
    """
    low = claim.lower()
    actors = set(_ACTORS.findall(low))
    known = {a for p in passages for a in _ACTORS.findall(_unwrapped(p).lower())}
    in_window = set(_ACTORS.findall(window.lower()))
    count = len(actors - known)
    count += bool((actors & known) - in_window and in_window - actors)
    return count + bool(_UNIVERSALS.search(low) and not _UNIVERSALS.search(window.lower()))


def _intensifiers(claim: str, passages: Sequence[str]) -> int:
    """Priority or strength words of the claim ("above all", "the most important", "only") no passage has.

    Synonyms count as the same word: "at all times" is "always", "solely" is "only", and so is a passage's
    "except" or "unless" ("must not … except after" says "only after").
    """
    said = _strengths(claim)
    written = set().union(*(_strengths(p) | ({"only"} if _restricts(p) else set()) for p in passages))
    return len(said - written)


def _strengths(text: str) -> set[str]:
    found = {" ".join(m.split()) for m in _INTENSIFIERS.findall(_unwrapped(text).lower())}
    return {_SAME_STRENGTH.get(word, word) for word in found}


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
    """Axes on which the sentence reverses its best-matching passage sentence (see ``_reversals``)."""
    scope_changes: int = 0
    """Actors, levels and universal quantifiers the sentence changes (see ``_scope_changes``)."""
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
            negation_mismatch=_negation_mismatch(claim, best_local),
            quoted=_quoted(claim, passages),
            reversals=_reversals(claim, best_local, passages),
            scope_changes=_scope_changes(claim, best_local, passages) + sum(1 for t in misbound if t.kind == "word"),
            intensifiers=_intensifiers(claim, passages),
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
