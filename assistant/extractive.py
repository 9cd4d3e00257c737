"""The ``extractive`` backend: an answer made of whole units of the retrieved chunks, shaped by the question.

No language model is involved, so every line is a verbatim quote of its cited source. The question's form
(:mod:`assistant.shapes`) decides the shape: a list (with exactly the entries counted, when a count is asked),
an acronym's expansion, the sentence holding a name, date or number, the entry a label names, or the most
relevant sentences. A multi-part question gets a unit per part. Units (:mod:`assistant.units`) are scored by
their similarity to the question (the bundled embedding model) plus the share of the question's content words
they and their headings contain. Nothing here knows the subject of the texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.index.store import Store
from assistant.models.embeddings import VectorCache
from assistant.shapes import (
    NUMBER_WORDS,
    Label,
    Shape,
    counted_noun,
    defines,
    expands,
    label_level,
    shape_of,
    split_parts,
    topic_words,
)
from assistant.text import LIST_ITEM, SECTION_SEPARATOR, content_words, strip_citations, tokens
from assistant.types import RetrievedChunk
from assistant.units import AnswerUnit, Entry, Library, all_units

MAX_SOURCES = 3
MAX_SENTENCES = 3
KEEP_RATIO = 0.85
"""A sentence must reach this share of the best unit's score to be kept beside it."""
LIST_RATIO = 0.85
"""For a list question, a list whose score reaches this share of the best unit's score wins."""
LIST_MARGIN = 0.05
"""For a question not asking for a list, a list must beat the best sentence by this much to be the answer."""
WIDE_SHAPES = ("list", "who", "when")
"""Questions whose answer may sit in any retrieved chunk: the one holding a list, a name or a date."""
FOCUS_WEIGHT = 0.5
"""A unit's similarity is half to the question, half to the question without its document's subject words."""
FOCUS_MIN_WORDS = 2
COUNT_BONUS = 0.1
"""For "how many X", a unit that gives a number of X beats one that only holds some number (a year, a code)."""
PAIR_BONUS = 0.05
"""For "what does X do", a sentence with the next one that refers back to it beats the sentence alone by this."""
_ACTION = re.compile(r"\s*what\s+(?:does|do|did|will|would|can|could|should|must)\s+\S", re.IGNORECASE)
_YES_NO = re.compile(r"\s*(?:is|are|was|were|does|do|did|can|may|must|should|will|has|have)\s", re.IGNORECASE)
_REASON = re.compile(r"\b(?:because|since|due to|owing to|as a result|in order to|so that|the reason)\b", re.IGNORECASE)
_AGENT = re.compile(r"\bby\s+(?:the\s+)?[A-Z][\w’'&-]*")
_DATE = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)\b|\b\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4}\b")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|he|she|him|his|her|this|these|those)\b", re.IGNORECASE)
_NUMBERING = re.compile(r"^\s*(?:(?:chapter|section|part)\s+)?(?:\d+(?:\.\d+)*\.?|[A-Z][.)]|[ivxIVX]+[.)])\s+", re.I)
_SECTION_NUMBER = re.compile(r"^\s*\d{1,3}(?:\.\d{1,3})*\.\s+(?=\S)")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'&-]*(?:\s+(?:of\s+|the\s+|and\s+)?[A-Z][\w’'&-]*)*")


@dataclass
class Extraction:
    """The answer text with ``[n]`` markers, the chunks they number (retrieved ones first) and the units quoted."""

    text: str
    chunks: list[RetrievedChunk]
    units: list[AnswerUnit] = field(default_factory=list)
    repeated: bool = False
    """Every unit chosen was already in the previous answer."""


def extractive_answer(
    question: str,
    chunks: Sequence[RetrievedChunk],
    vectors: VectorCache,
    store: Store | None = None,
    *,
    already_said: Sequence[str] = (),
    follow_up: bool = False,
) -> Extraction:
    """Compose an answer to ``question`` from ``chunks`` (numbered from 1 in the given order).

    ``store`` lets a list be read on into the next chunk and a section's child headings be cited;
    ``already_said`` are the previous answer's sentences: a ``follow_up`` answers with something new when it can,
    and an answer made only of them is marked ``repeated``.
    """
    library = Library(list(chunks), store)
    parts = split_parts(question)
    shapes = [shape_of(p) for p in parts]
    sources = _sources(chunks, shapes)
    actions = any(_ACTION.match(shape.text) for shape in shapes)
    # Past the best few chunks only a lead-in with its list is read ("… as follows:" answers a "how" question).
    # The chosen chunks come first, so a unit found in two chunks is kept as theirs.
    rest = [n for n in range(1, len(chunks) + 1) if n not in sources]
    candidates = [
        u
        for u in all_units(library, [*sources, *rest])
        if (u.source in sources or _leads_in(u) or _named_outline(u, question)) and (u.kind != "pair" or actions)
    ]
    if not candidates:
        return Extraction("", library.chunks)
    said = {_norm(s) for s in already_said}
    chosen: list[AnswerUnit] = []
    for i, part in enumerate(parts):
        if i and _PRONOUN.search(part):  # "… and what did he compare it to": it is the first part's subject
            part = f"{part} ({' '.join(topic_words(parts[0]))})"
        shape = shape_of(part)
        picked = _answer_part(shape, question, candidates, vectors, said if follow_up else set(), chosen)
        chosen.extend(u for u in picked if u not in chosen)
    repeated = bool(said) and all(_norm(u.text) in said or _norm(u.lead) in said for u in chosen)
    return Extraction(render(chosen), library.chunks, chosen, repeated)


def _sources(chunks: Sequence[RetrievedChunk], shapes: list[Shape]) -> list[int]:
    """The chunks to read: the best few, and any other retrieved chunk whose text or heading names a label asked."""
    listing = any(shape.kind in WIDE_SHAPES for shape in shapes)
    wanted = list(range(1, (len(chunks) if listing else min(len(chunks), MAX_SOURCES)) + 1))
    labels = [label for shape in shapes for label in shape.labels]
    terms = [shape.term for shape in shapes if shape.term]
    for n, chunk in enumerate(chunks, start=1):
        text = f"{chunk.section}\n{chunk.text}"
        named = any(_label_in(label, text) for label in labels) or any(defines(term, chunk.text) for term in terms)
        if n not in wanted and named:
            wanted.append(n)
    return wanted


def _last_heading(section: str) -> str:
    return section.split(SECTION_SEPARATOR)[-1]


def _answer_part(
    shape: Shape,
    question: str,
    candidates: list[AnswerUnit],
    vectors: VectorCache,
    said: set[str],
    chosen: Sequence[AnswerUnit] = (),
) -> list[AnswerUnit]:
    if shape.term:  # "What does CC-BY-SA mean": the row that defines exactly that term, not a near one
        rows = [u for u in candidates if u.kind in ("sentence", "item") and defines(shape.term, u.lead)]
        if rows:
            return rows[:1]
    if shape.kind == "acronym":
        expansion = [u for u in candidates if u.kind in ("sentence", "item") and expands(shape.term, u.lead)]
        if expansion:
            return expansion[:1]
    scores = _with_pairs(shape, candidates, _scores(shape, question, candidates, vectors))
    if said:  # a follow-up: what the previous answer said counts for less
        scores = scores - 0.25 * np.array([_norm(u.lead) in said or _norm(u.text) in said for u in candidates])
    if chosen:  # a later part of the question: what an earlier part took is already answered
        scores = scores - 0.3 * np.array([u in chosen for u in candidates])
    order = [int(i) for i in np.argsort(-scores)]
    best = order[0]
    if shape.labels:
        picked = _by_labels(shape, candidates, scores, order)
        if picked:
            return picked
    if shape.kind == "list":
        picked = _best_list(shape, candidates, scores, order)
        if picked:
            return picked
    top = candidates[best]
    if top.kind in ("list", "outline") and top.items and _is_lead_in(top.lead):
        # The best match leads into a list: the list is the answer, unless a sentence is about as good.
        runner = next((i for i in order if candidates[i].kind in ("sentence", "item")), None)
        if runner is None or scores[best] >= scores[runner] + LIST_MARGIN:
            return [top]
    if top.kind == "item":
        holder = _list_holding(top, candidates)
        items_near_top = sum(candidates[i].kind == "item" for i in order[:4])
        if holder is not None and (shape.kind == "list" or items_near_top >= 3):
            return [holder]
    if top.kind == "heading" and (
        any(_label_in(label, top.lead) for label in shape.labels) or _named_outline(top, shape.text)
    ):
        return [top]
    limit = MAX_SENTENCES if shape.kind in ("generic", "define", "why") else 2
    kept: list[AnswerUnit] = []
    for i in order[: limit * 2]:
        unit = candidates[i]
        overlapping = any(unit.lead in other.lead or other.lead in unit.lead for other in kept)
        if unit.kind in ("sentence", "pair", "item") and scores[i] >= KEEP_RATIO * scores[best] and not overlapping:
            kept.append(unit)
    return [_with_its_list(unit, candidates) for unit in (kept or [top])[:limit]]


def _with_its_list(unit: AnswerUnit, candidates: list[AnswerUnit]) -> AnswerUnit:
    """A sentence that leads into a list ("The following fields may be present.") is answered with its list."""
    if unit.kind != "sentence":
        return unit
    led = (u for u in candidates if u.kind == "list" and u.items and u.source == unit.source and u.lead == unit.lead)
    return next(led, unit)


def _with_pairs(shape: Shape, candidates: list[AnswerUnit], scores: np.ndarray) -> np.ndarray:
    """A pair scores as its first sentence plus :data:`PAIR_BONUS` when the question asks what something does.

    "What does the plan add?" is best matched by the sentence that names the plan, but answered by the next one
    ("It adds …"): read together, the pair answers. For other questions a pair keeps its own score.
    """
    if not _ACTION.match(shape.text) or not any(u.kind == "pair" for u in candidates):
        return scores
    first = {(u.source, u.lead): float(scores[i]) for i, u in enumerate(candidates) if u.kind == "sentence"}
    out = scores.copy()
    for i, unit in enumerate(candidates):
        if unit.kind != "pair":
            continue
        opening = next((lead for (source, lead) in first if source == unit.source and unit.lead.startswith(lead)), None)
        if opening is not None:
            out[i] = max(out[i], first[(unit.source, opening)] + PAIR_BONUS)
    return out


def _named_outline(unit: AnswerUnit, question: str) -> bool:
    """A section's outline whose heading the question names ("the Miscellanea chapter"), wherever it ranked.

    A question that also names one of its sub-sections ("the professional skills of commissioning") asks about
    that sub-section, not the outline; one that does not ask for a list ("What does the fleet handbook say about
    fuel cards?") asks about something in the section, not for its outline.
    """
    if unit.kind != "heading" or len(unit.items) < 2 or not names_heading(question, unit.lead):
        return False
    if shape_of(question).kind != "list":
        return False
    return not any(names_heading(question, entry.text) for entry in unit.items)


def _leads_in(unit: AnswerUnit) -> bool:
    """A list introduced by a sentence ending in ":"."""
    return unit.kind == "list" and len(unit.items) > 1 and unit.lead.rstrip().endswith(":")


def _scores(shape: Shape, question: str, candidates: list[AnswerUnit], vectors: VectorCache) -> np.ndarray:
    texts = [u.text for u in candidates]
    # A list is read both whole and by its lead-in: "what is X designed around" matches the lead-in alone.
    leads = [u.lead if u.items and u.lead else u.text for u in candidates]
    focus = _without_topic(shape.text, candidates)
    embedded = vectors.get([shape.text, question, focus, *texts, *leads])
    whole, lead = embedded[3 : 3 + len(texts)], embedded[3 + len(texts) :]
    similarity = np.maximum(whole @ embedded[0], lead @ embedded[0])
    if focus != shape.text:
        focused = np.maximum(whole @ embedded[2], lead @ embedded[2])
        similarity = (1 - FOCUS_WEIGHT) * similarity + FOCUS_WEIGHT * focused
    if shape.text != question:  # one part of several: the whole question is its context
        similarity = 0.7 * similarity + 0.3 * np.maximum(whole @ embedded[1], lead @ embedded[1])
    # Words in brackets were carried over from the conversation or another part: context, worth half.
    own, _, carried = shape.text.partition(" (")
    q_words = content_words(own)
    c_words = content_words(carried) - q_words
    total = max(len(q_words) + 0.5 * len(c_words), 1)
    overlap = []
    for unit in candidates:
        words = content_words(unit.text) | content_words(unit.context)
        overlap.append((len(q_words & words) + 0.5 * len(c_words & words)) / total)
    prior = np.array([0.05 * max(MAX_SOURCES - u.source, 0) for u in candidates])
    fit = np.array([_fit(shape, u) for u in candidates])
    return similarity + 0.5 * np.array(overlap) + prior + fit


def _without_topic(question: str, candidates: list[AnswerUnit]) -> str:
    """``question`` without the words the best source's heading path already says, or ``question`` itself.

    "What does good governance expect about honesty and obeying the law?" over a text titled "Principles for Good
    Governance": every sentence of it is about good governance, so those words pick the sentence that repeats
    them over the one that answers ("Behaving with integrity … the rule of law"). What a "how many" question
    counts stays, and at least two content words must remain ("Who wrote bzip2?" is left whole).
    """
    context = next((u.context for u in candidates if u.source == 1), "")
    topic = content_words(context) - content_words(counted_noun(question))
    words = re.findall(r"\S+", question.partition(" (")[0])
    kept = [w for w in words if not (content_words(w) and content_words(w) <= topic)]
    if len(kept) == len(words) or len(content_words(" ".join(kept))) < FOCUS_MIN_WORDS:
        return question
    return " ".join(kept)


def _fit(shape: Shape, unit: AnswerUnit) -> float:
    """How well a unit's form suits the question's form (a date for "when", a list for "what are the four")."""
    text = unit.text
    bonus = 0.0
    quoted = _quoted(shape.text)
    if quoted and any(q in text.lower() for q in quoted):
        bonus += 0.3  # the question quotes this unit's words
    elif unit.is_list and (_heading_named(unit, shape.text) or _named_outline(unit, shape.text)):
        bonus += 0.3  # the question names the heading this list sits under
    labelled = any(_label_in(label, unit.lead) for label in shape.labels)
    if unit.kind == "heading" and not labelled and not _named_outline(unit, shape.text):
        counted = shape.count is not None and len(unit.items) == shape.count
        bonus -= 0.05 if counted else 0.25
    predicate = _predicate(shape.text)
    if predicate:  # "is X still valid?" is answered by a sentence that says whether X is valid
        bonus += 0.2 if predicate in content_words(text) else -0.2
    if shape.kind == "when":
        bonus += 0.2 if _holds_asked(shape, unit) else -0.15
    elif shape.kind == "why":
        bonus += 0.15 if _REASON.search(text) else -0.1
    elif shape.kind == "number":
        bonus += 0.15 if _holds_asked(shape, unit) else -0.15
        if _counts(shape.text, text):
            bonus += COUNT_BONUS  # "how many measures": "48 Core Measures", not a year in a title
    elif shape.kind == "who":
        named = _holds_asked(shape, unit)
        bonus += 0.15 if named else -0.1
        if named and _AGENT.search(unit.lead):
            bonus += 0.1  # "written by …", "adopted by the Cabinet": the name is the one who did it
    elif shape.kind == "define" and shape.term:
        term = re.escape(shape.term.strip("'\"‘’“”"))
        if re.search(rf"{term}\W*(?:\([^)]*\)\s*)?(?:is|are|was|means|describes|refers)\b", text, re.IGNORECASE):
            bonus += 0.15
    elif shape.kind == "list" and shape.explicit and unit.is_list:
        bonus += 0.1
        if shape.count is not None:
            bonus += 0.4 if len(unit.items) == shape.count else -0.1
    return bonus


def _counts(question: str, text: str) -> bool:
    """Whether ``text`` gives a number of what "how many X" asks to count: "48 Core Measures" for "how many
    measures", "(9 questions)" for "how many questions", but not "the 2023 survey of parking bays"."""
    noun = counted_noun(question)
    if not noun:
        return False
    stem = re.escape(noun[:-1] if noun.endswith("s") and len(noun) > 3 else noun)
    numbers = "|".join([r"\d[\d,.]*", *NUMBER_WORDS])
    return re.search(rf"\b(?:{numbers})\s+(?:[\w-]+\s+){{0,2}}{stem}", text, re.IGNORECASE) is not None


def _holds_asked(shape: Shape, unit: AnswerUnit) -> bool:
    """Whether ``unit`` holds what a when / how many / who question asks for: a date, a number the question does
    not already say, a name the question does not already say. True for questions of other forms."""
    if shape.kind == "when":
        return bool(_DATE.search(unit.text))
    if shape.kind == "number":
        asked = {m.lower() for m in _NUMBER.findall(shape.text)}
        return bool(set(_NUMBER.findall(unit.text)) - asked)
    if shape.kind == "who":
        asked = {w.lower() for w in re.findall(r"\w+", shape.text)}
        return any(n.split()[0].lower() not in asked for n in _NAME.findall(unit.lead))
    return True


def _predicate(question: str) -> str:
    """The word a yes/no question asks about, its last content word ("is the old address still valid" → valid)."""
    own = question.partition(" (")[0]
    if not _YES_NO.match(own) or re.search(r"[,;]|\s+and\s+", own):  # a clause joined on asks more than yes/no
        return ""
    words = tokens(own)
    return words[-1].text.lower() if len(words) > 1 else ""


def _heading_named(unit: AnswerUnit, question: str) -> bool:
    heading = unit.lead if unit.lead else _last_heading(unit.context)
    heading = heading.lower().rstrip(":").strip()
    return len(heading) > 3 and heading in question.lower()


def names_heading(question: str, heading: str) -> bool:
    """Whether ``question`` names ``heading`` by its words: "the Miscellanea chapter" names "4. Miscellanea".

    The heading's numbering, a trailing bracket ("Files stanza (repeatable)") and colon are not needed.
    """
    words = _NUMBERING.sub("", heading)
    words = re.sub(r"\s*\([^)]*\)\s*$", "", words).rstrip(":").strip().lower()
    return len(words) > 3 and re.search(rf"(?<!\w){re.escape(words)}", question.lower()) is not None


def _is_lead_in(text: str) -> bool:
    """A sentence that introduces what follows, not a bare sub-heading."""
    return text.rstrip().endswith(":") or len(text.split()) > 6


def _quoted(text: str) -> list[str]:
    """Phrases the question quotes: 'Verify the result', “Do not over-claim”."""
    found = re.findall(r"(?:^|\s)['‘\"“]([^'’\"”]{3,80})['’\"”]", text)
    return [q.lower().strip() for q in found]


def _by_labels(shape: Shape, candidates: list[AnswerUnit], scores: np.ndarray, order: list[int]) -> list[AnswerUnit]:
    """The unit each label names ("principle F" → "F. Managing risks…"); a phrase naming several at once wins."""
    phrase = [i for i in order if _phrase_in(shape, candidates[i].lead)]
    if len(shape.labels) > 2 and shape.kind != "list" and phrase:
        return [candidates[phrase[0]]]
    picked: list[AnswerUnit] = []
    for label in shape.labels:
        levels = {i: label_level(label, candidates[i].lead) for i in order}
        top_level = max(levels.values(), default=0)
        matching = [i for i in order if top_level and levels[i] == top_level]
        if not matching:
            continue
        if shape.kind in ("number", "who", "when"):
            kinds = ("heading", "outline", "sentence", "item")
            # "What is the date of version 1.0.8?": of the units naming version 1.0.8, those holding a date
            named = [i for i in order if levels[i] and candidates[i].kind in kinds]
            holding = [i for i in named if _holds_asked(shape, candidates[i])]
            level = max((levels[i] for i in holding), default=0)
            preferred = [i for i in holding if levels[i] == level] or [i for i in matching if i in named]
        elif shape.kind == "list":
            preferred = [i for i in matching if candidates[i].is_list]
        else:
            preferred = [i for i in matching if candidates[i].kind in ("item", "outline", "sentence", "list")]
        unit = candidates[(preferred or matching)[0]]
        if unit not in picked:
            picked.append(unit)
    holders = {id(h): h for u in picked if u.kind == "item" and (h := _list_holding(u, candidates)) is not None}
    if len(picked) > 1 and len(holders) == 1 and all(u.kind == "item" for u in picked):
        holder = next(iter(holders.values()))
        wanted = {u.lead for u in picked}
        return [
            AnswerUnit(
                "list",
                holder.source,
                holder.order,
                holder.lead,
                tuple(e for e in holder.items if e.text in wanted),
                holder.context,
            )
        ]
    return picked


def _best_list(shape: Shape, candidates: list[AnswerUnit], scores: np.ndarray, order: list[int]) -> list[AnswerUnit]:
    """A list question's list: one with exactly the entries counted, else the best list nearly as good as the best."""
    best = scores[order[0]]
    lists = [i for i in order if candidates[i].is_list]
    # "What topics does the Enforcement chapter cover?": the outline of the section the question names.
    named = [i for i in lists if _named_outline(candidates[i], shape.text)]
    named = [i for i in named if shape.count is None or len(candidates[i].items) == shape.count]
    if named:
        return [candidates[named[0]]]
    if shape.count is not None:
        # Lists with exactly the entries counted, or lists of one section adding up to it: the best scored wins.
        index = {id(candidates[i]): i for i in lists}
        options = [[candidates[i]] for i in lists if len(candidates[i].items) == shape.count]
        options += _lists_adding_up(shape.count, [candidates[i] for i in lists])
        if options:
            return max(options, key=lambda run: max(scores[index[id(u)]] for u in run) + (0.5 if len(run) > 1 else 0))
    if lists and scores[lists[0]] >= (LIST_RATIO if shape.explicit else 1.0) * best:
        return [candidates[lists[0]]]
    return []


def _lists_adding_up(count: int, lists: list[AnswerUnit]) -> list[list[AnswerUnit]]:
    """Runs of consecutive lists in one section whose entries add up to ``count`` (a list broken by a sentence)."""
    plain = sorted((u for u in lists if u.kind == "list" and u.lead), key=lambda u: (u.context, u.order))
    runs = []
    for i in range(len(plain)):
        total, run = 0, []
        for unit in plain[i:]:
            if run and unit.context != run[-1].context:
                break
            run.append(unit)
            total += len(unit.items)
            if total >= count:
                break
        if total == count and len(run) > 1:
            runs.append(run)
    return runs


def _list_holding(item: AnswerUnit, candidates: list[AnswerUnit]) -> AnswerUnit | None:
    return next((u for u in candidates if u.is_list and any(e.text == item.lead for e in u.items)), None)


def _label_in(label: Label, text: str) -> bool:
    """Whether ``text`` is or names the entry ``label``: "F. Managing…", "3) …", "Pillar three: …"."""
    return label_level(label, text) > 0


def _phrase_in(shape: Shape, text: str) -> bool:
    """Whether ``text`` names the labels as the question does ("principles C to G")."""
    values = [label.value for label in shape.labels]
    if len(values) < 2:
        return False
    return bool(re.search(rf"\b{re.escape(values[0])}\s+(?:to|and|-|–)\s+{re.escape(values[-1])}\b", text))


def _norm(text: str) -> str:
    return " ".join(strip_citations(text).removeprefix(LIST_ITEM).lower().split()).rstrip(".")


def _unnumbered(heading: str) -> str:
    """A heading without its section number: "4.4. Did you get the right package?" → "Did you get the right…"."""
    return _SECTION_NUMBER.sub("", heading) or heading


def render(chosen: Sequence[AnswerUnit]) -> str:
    """The units as answer text: sentences run together as a paragraph; a list is its lead-in, then one item a line."""
    blocks: list[list[str]] = []
    # A footnote mark in the source ("cycle[1].") would read as a citation: it is dropped. An outline's headings
    # are shown without their section numbers ("4.4. Did you…"), which would read as sentences of their own.
    chosen = [
        AnswerUnit(
            u.kind,
            u.source,
            u.order,
            _unnumbered(strip_citations(u.lead)) if u.kind == "heading" else strip_citations(u.lead),
            tuple(Entry(_unnumbered(strip_citations(e.text)), e.source) for e in u.items),
            u.context,
        )
        for u in chosen
    ]
    for unit in chosen:
        if unit.is_list or (unit.kind == "list" and unit.items):
            lines = [f"{unit.lead} [{unit.source}]"] if unit.lead else []
            lines += [f"{LIST_ITEM}{entry.text} [{entry.source}]" for entry in unit.items]
            blocks.append(lines)
            blocks.append([])
        elif unit.kind == "item":
            if not blocks or not blocks[-1] or not blocks[-1][-1].startswith(LIST_ITEM):
                blocks.append([])
            blocks[-1].append(f"{LIST_ITEM}{unit.lead} [{unit.source}]")
        else:
            sentence = f"{unit.lead} [{unit.source}]"
            if blocks and blocks[-1] and not blocks[-1][-1].startswith(LIST_ITEM) and len(blocks[-1]) == 1:
                blocks[-1][-1] = f"{blocks[-1][-1]} {sentence}"
            else:
                blocks.append([sentence])
    paragraphs = ["\n".join(block) for block in blocks if block]
    return "\n\n".join(paragraphs).strip()
