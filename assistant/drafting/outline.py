"""The working draft before its citations are numbered: sentences with trim priorities and chunk references, in
parts and sections; walking, counting and trimming it to the word limit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from assistant.drafting.types import count_words

__all__ = ["Cut", "Item", "Part", "Section", "count", "describe_cuts", "trim", "walk"]


@dataclass
class Item:
    """One sentence or bullet of the working draft."""

    text: str
    """Sentence without citation markers."""
    priority: int
    """0 is never trimmed (the bidder's commitments); higher numbers are trimmed first."""
    bullet: bool = False
    refs: list[str] = field(default_factory=list)
    """Ids of the chunks this sentence cites."""
    quotes: dict[str, str] = field(default_factory=dict)
    """Chunk id → the verbatim text quoted from it (template sentences know what they quote)."""
    origin: str = "template"
    checked: bool = False
    """Already through the over-claim and grounding checks (model sentences are checked as they arrive)."""


@dataclass
class Part:
    """A subsection: one part of an outcome's section, or one focus area of a statement."""

    heading: str
    items: list[Item] = field(default_factory=list)
    outcome_id: str | None = None


@dataclass
class Section:
    """A top-level section: one outcome of a response, or one heading of a statement."""

    heading: str
    items: list[Item] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    outcome_id: str | None = None
    theme: str | None = None

    def part(self, heading: str) -> Part | None:
        """The part headed ``heading``, if there is one."""
        return next((p for p in self.parts if p.heading == heading), None)


def walk(summary: Section, sections: Sequence[Section]) -> Iterator[tuple[Section | Part, str]]:
    """Every container of items with the ``where`` its flags report."""
    yield summary, "Summary"
    for section in sections:
        yield section, section.heading
        for part in section.parts:
            yield part, f"{section.heading} › {part.heading}"


def _blocks(summary: Section, sections: Sequence[Section]) -> Iterator[str]:
    """The body's texts as :meth:`Draft.blocks` renders them (markers are not words)."""
    if summary.items:
        yield "Summary"
        yield from (i.text for i in summary.items)
    for section in sections:
        visible_parts = [p for p in section.parts if p.items]
        if not section.items and not visible_parts:
            continue
        yield section.heading
        if section.theme:
            yield f"Theme: {section.theme}"
        yield from (i.text for i in section.items)
        for part in visible_parts:
            yield part.heading
            yield from (i.text for i in part.items)


def count(summary: Section, sections: Sequence[Section]) -> int:
    """The draft's words, counted as :meth:`Draft.blocks` will show them."""
    return sum(count_words(text) for text in _blocks(summary, sections))


@dataclass
class Cut:
    """A sentence :func:`trim` took out: where it was, and whether its part or section was left empty."""

    item: Item
    where: str
    container: Section | Part
    order: int
    """The container's place in reading order."""

    @property
    def emptied(self) -> bool:
        return not self.container.items


def trim(summary: Section, sections: Sequence[Section], limit: int) -> list[Cut]:
    """Drop the most expendable sentences (highest priority number, latest first) until the draft fits."""
    removed: list[Cut] = []
    containers = list(walk(summary, sections))
    while count(summary, sections) > limit:
        candidates = [
            (item.priority, order, container, item)
            for order, (container, _) in enumerate(containers)
            for item in container.items
            if item.priority > 0
        ]
        if not candidates:
            break
        _, order, container, item = max(candidates, key=lambda c: (c[0], c[1], c[2].items.index(c[3])))
        container.items.remove(item)
        removed.append(Cut(item, containers[order][1], container, order))
    return removed


def describe_cuts(cuts: Sequence[Cut], limit: int) -> str:
    """What :func:`trim` took out, by place: "2 of 3 lines of “Evidence” and the “Timeline” part of “Jobs” were
    cut to fit 300 words"; empty when nothing was cut."""
    by_place: dict[str, list[Cut]] = {}
    for cut in sorted(cuts, key=lambda c: c.order):
        by_place.setdefault(cut.where, []).append(cut)
    pieces = []
    for where, group in by_place.items():
        section, _, part = where.partition(" › ")
        place = f"the “{part}” part of “{section}”" if part else f"the “{section}” section"
        if group[0].emptied:
            pieces.append(place)
        else:
            kind = "item" if all(c.item.bullet for c in group) else "sentence"
            n = len(group)
            total = n + len(group[0].container.items)
            pieces.append(f"{n} of {total} {kind}s in {place}" if total > 1 else f"1 {kind} in {place}")
    if not pieces:
        return ""
    listed = pieces[0] if len(pieces) == 1 else f"{', '.join(pieces[:-1])} and {pieces[-1]}"
    verb = "was" if len(cuts) == 1 else "were"
    return f"{listed} {verb} cut to fit the limit of {limit} words: check nothing you need was lost"
