"""Text-only signals of the verifier: identifiers, binding, negation, and the wording checks (verbatim quotes,
reversals, scope, strength); words of the language, not of any corpus."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from assistant.text import CITATION, Token, tokens, units, word_set

_CACHE_SIZE = 4096
_BINDING_AFTER_SENTENCE = 2  # content words after an identifier in the claim, compared with …
_BINDING_AFTER_PASSAGE = 3  # … the words after the same identifier in the passage (see misbound)
_UNIVERSAL_WORDS = frozenset({"all", "everi"})  # stemmed quantifiers that misbound binds like numbers

# ----------------------------------------------------------------------------------------------------------
# Numbers, identifiers and negation
# ----------------------------------------------------------------------------------------------------------

_NEGATION_TEXT = "not no never none neither nor cannot without nothing rarely seldom hardly barely"
_NEGATIONS = frozenset(_NEGATION_TEXT.split())


def missing_identifiers(claim: str, passages: Sequence[str]) -> set[str]:
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


def misbound(claim: str, passages: Iterable[str]) -> list[Token]:
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
def windows(passage: str) -> tuple[tuple[str, ...], int]:
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


def quoted(claim: str, passages: Sequence[str]) -> bool:
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


def negation_mismatch(claim: str, window: str) -> bool:
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


def reversals(claim: str, window: str, passages: Sequence[str]) -> int:
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


def scope_changes(claim: str, window: str, passages: Sequence[str]) -> int:
    """Actors, levels and universal quantifiers the claim changes.

    Counted: each actor or level word no passage has ("local councils"); an actor of the best-matching
    sentence swapped for another ("package maintainers" for "the Release Team"); and a universal quantifier
    that sentence lacks ("every package" for "if the maintainer is a team"). A quantifier bound to other
    words ("all public procurements") is one of :func:`misbound`'s.
    """
    low = claim.lower()
    actors = set(_ACTORS.findall(low))
    known = {a for p in passages for a in _ACTORS.findall(_unwrapped(p).lower())}
    in_window = set(_ACTORS.findall(window.lower()))
    count = len(actors - known)
    count += bool((actors & known) - in_window and in_window - actors)
    return count + bool(_UNIVERSALS.search(low) and not _UNIVERSALS.search(window.lower()))


def intensifiers(claim: str, passages: Sequence[str]) -> int:
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
