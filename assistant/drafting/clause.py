"""A commitment line read as bid writers write it ("We will create 500 jobs", "Cut emissions by 30%", "500 local
jobs", "Creating…") and normalised to one of four grammatical forms the drafting templates can build sentences on."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Clause", "Form", "lower_first", "read_clause", "upper_first"]

Form = Literal["verb", "noun", "gerund", "sentence"]
"""``verb``: a bare verb clause ("cut fleet emissions by 30%"); ``noun``: a noun phrase ("500 local jobs");
``gerund``: an -ing phrase whose verb is not known ("upcycling furniture"); ``sentence``: a clause with its own
subject other than us ("our apprentices will mentor 10 pupils")."""

# Verbs commitments start with. A verb-like first word after "we will" is read as a verb whether listed or not;
# this list decides only for imperatives ("Cut…") and gerunds ("Creating…").
_VERB_TEXT = """
    achieve adopt advertise apply arrange ask attend audit award be become bring build buy champion change
    close co-design collaborate collect commission complete conduct consult contribute convert create cut
    decrease deliver design develop direct divert donate double eliminate employ enable encourage engage
    ensure establish expand extend facilitate fund give grow guarantee halve have help hire hold host improve
    increase install introduce invest involve keep launch lead lower maintain make measure mentor minimise
    monitor move offer open organise organize partner pay pilot place plant prioritise prioritize procure
    produce promote protect provide publish purchase raise reach recruit recycle reduce refurbish remove
    replace report require restore retain retrofit reuse review run save set share source spend sponsor
    support switch take target track train transition treble triple upgrade upskill use volunteer work
"""
_VERBS = frozenset(_VERB_TEXT.split())
# Words that start a noun phrase as often as an imperative: a verb only when no preposition follows.
_NOUNABLE_TEXT = (
    "audit change cut design double increase offer pilot plan report review spend support target train transition "
    "volunteer work"
)
_NOUNABLE = frozenset(_NOUNABLE_TEXT.split())
_NOUN_AFTER = re.compile(r"^\s*(?:for|of|in|on|at|from|to|experience|placements?|programme|scheme)\b", re.I)
_US = (
    r"we|our\s+(?:team|teams|company|organisation|organization|business|firm|group|staff|workforce|people|"
    r"employees|managers|contract\s+team)|the\s+(?:supplier|contractor|company|provider|bidder)"
)
_MODAL = (
    r"will|shall|can|are\s+going\s+to|are\s+committed\s+to|commit\s+to|pledge\s+to|aim\s+to|intend\s+to|"
    r"plan\s+to|promise\s+to|undertake\s+to|guarantee\s+to|would"
)
_OTHER_SUBJECT = re.compile(r"^(?P<subject>[^,;:]{2,60}?)\s+(?:will|shall)\s+(?P<rest>\S.*)$", re.I)
_DETERMINER = re.compile(r"^(?:(?:a|an|the|our)\b|\d|[£$€])", re.I)
_ING_NOUN_TEXT = "building clothing evening housing morning nothing something thing wellbeing"
_ING_NOUNS = frozenset(_ING_NOUN_TEXT.split())
_ADVERB = r"(?:\s+(?:also|then|currently|now|always|actively|further))*"


@dataclass(frozen=True)
class Clause:
    """A commitment as a clause: its ``form`` and its ``text`` in that form, ready to go mid-sentence."""

    form: Form
    text: str


def lower_first(text: str) -> str:
    """Lower-case the first letter for use mid-sentence, unless it starts a name or an acronym."""
    words = text.split()
    if not words:
        return text
    first = words[0]
    second = words[1] if len(words) > 1 else ""
    if first[:1].isupper() and (first[1:].islower() or first == "A") and not second[:1].isupper():
        return first[:1].lower() + text[1:]
    return text


def upper_first(text: str) -> str:
    """Capitalise the first letter (the rest is left as written)."""
    return text[:1].upper() + text[1:]


def _verb_of_gerund(word: str) -> str | None:
    """``creating`` → ``create``, ``cutting`` → ``cut``, ``offering`` → ``offer``; ``None`` when not a known verb."""
    lowered = word.lower()
    if not lowered.endswith("ing") or len(lowered) < 5:
        return None
    stem = lowered[:-3]
    candidates = [stem + "e", stem, stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else ""]
    if stem.endswith("y"):
        candidates.append(stem)
    return next((c for c in candidates if c and c in _VERBS), None)


def _first_word(text: str) -> tuple[str, str]:
    match = re.match(r"([A-Za-z][\w-]*)(.*)$", text, re.S)
    return (match.group(1), match.group(2)) if match else ("", text)


def _as_verb(text: str) -> Clause:
    """A clause that follows a modal ("we will …"): its first word is a verb, lower-cased."""
    word, rest = _first_word(text)
    verb = _verb_of_gerund(word)
    if verb:  # "we are committed to reducing…" → "reduce…"
        return Clause("verb", verb + rest)
    if word and not word.isupper():
        return Clause("verb", word.lower() + rest)
    return Clause("verb", text)


def _strip_us(text: str, us: Sequence[str]) -> str | None:
    """The clause after "we will" (or "Our team will", "<supplier> will", plain "we"); ``None`` without one."""
    names = "".join(f"|{re.escape(name.strip())}" for name in us if name.strip())
    match = re.match(
        rf"^(?:{_US}{names})(?:\s*['’]ll|{_ADVERB}\s+(?:{_MODAL}))?{_ADVERB}\s+(?P<rest>\S.*)$", text, re.I
    )
    return match.group("rest") if match else None


def read_clause(text: str, us: Sequence[str] = ()) -> Clause:
    """Read one commitment line as a :class:`Clause`; ``us`` names the bidder ("Greenway Grounds Ltd").

    "We will create 500 jobs" → verb "create 500 jobs"; "Cut emissions" → verb "cut emissions"; "Creating 20
    placements" → verb "create 20 placements"; "500 local jobs" → noun; "Our apprentices will mentor pupils" →
    sentence. Trailing full stops and semicolons are dropped.
    """
    clean = " ".join(text.split()).strip().rstrip(".;!").strip()
    after_us = _strip_us(clean, us)
    if after_us is not None:
        if _DETERMINER.match(after_us):  # "we commit to 500 jobs", "we are committed to a new scheme"
            return Clause("noun", lower_first(after_us))
        return _as_verb(after_us)
    word, rest = _first_word(clean)
    lowered = word.lower()
    noun_follows = bool(_NOUN_AFTER.match(rest))
    if lowered in _VERBS and not (lowered in _NOUNABLE and noun_follows):
        return Clause("verb", lowered + rest)
    verb = _verb_of_gerund(word)
    if verb and not noun_follows:
        return Clause("verb", verb + rest)
    if _OTHER_SUBJECT.match(clean):
        return Clause("sentence", lower_first(clean))
    if verb or (lowered.endswith("ing") and len(lowered) > 4 and lowered not in _ING_NOUNS):
        return Clause("gerund", lower_first(clean))
    return Clause("noun", lower_first(clean))
