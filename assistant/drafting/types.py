"""The drafting output: a draft's sections, items, flags and citations, its reading order and its word count."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field

from assistant.text import LIST_ITEM, strip_citations
from assistant.types import Citation, RetrievedChunk

__all__ = [
    "CommitmentCheck",
    "Draft",
    "DraftBlock",
    "DraftFlag",
    "DraftItem",
    "DraftPart",
    "DraftSection",
    "FlagKind",
    "Kind",
    "Tone",
    "count_words",
]

Kind = Literal["response", "statement"]
Tone = Literal["formal", "plain"]
FlagKind = Literal[
    "invented_figure",
    "invented_name",
    "no_commitment",
    "no_evidence",
    "over_limit",
    "unsupported",
    "missing_guidance",
    "model_error",
    "commitment_gap",
    "trimmed",
]


class DraftFlag(BaseModel):
    """Something the bid writer must look at: an invented figure, an outcome with no commitment, an overflow."""

    kind: FlagKind
    text: str
    """The offending figure or name, or what is wrong."""
    where: str
    """The section (and part) it appears in."""
    removed: bool = False
    """Whether strict mode took the sentence out of the draft."""
    sentence: str = ""
    """The sentence it appeared in, when there was one."""


class CommitmentCheck(BaseModel):
    """One commitment checked for what evaluators score: what was found for each element, and what is missing."""

    commitment: str
    outcome_id: str
    outcome: str
    """The outcome's name."""
    found: dict[str, str] = Field(default_factory=dict)
    """Element → what showed it ("quantity" → "6", "evidence" → the evidence line)."""
    missing: list[str] = Field(default_factory=list)
    """Elements not found, in checklist order; each also raised a ``commitment_gap`` flag."""


class DraftItem(BaseModel):
    """One paragraph sentence or bullet of the draft; ``text`` carries its ``[n]`` markers."""

    text: str
    bullet: bool = False
    citations: list[int] = Field(default_factory=list)
    origin: Literal["commitment", "input", "template", "guidance", "model"] = "template"
    """``commitment``/``input``: the bidder's words; ``template``: restating them; ``guidance``: quoting the
    corpus; ``model``: a chat model's prose (checked)."""


class DraftPart(BaseModel):
    """A subsection (Heading 2): e.g. "Timeline" of one outcome, or one focus area of a statement."""

    heading: str
    outcome_id: str | None = None
    items: list[DraftItem] = Field(default_factory=list)


class DraftSection(BaseModel):
    """A top-level section (Heading 1): one outcome of a response, or one heading of a statement."""

    heading: str
    outcome_id: str | None = None
    theme: str | None = None
    items: list[DraftItem] = Field(default_factory=list)
    parts: list[DraftPart] = Field(default_factory=list)
    citations: list[int] = Field(default_factory=list)


class DraftBlock(NamedTuple):
    """One block of the draft body in reading order, as exports render it and the word count counts it."""

    kind: Literal["h1", "h2", "theme", "p", "li"]
    text: str


class Draft(BaseModel):
    """A drafted response or statement: sections, global citations, flags and the word count against the limit.

    Also what ``pva draft --json`` prints.
    """

    kind: Kind
    title: str
    buyer: str = ""
    supplier: str | None = None
    question: str | None = None
    summary: str
    sections: list[DraftSection]
    citations: list[Citation] = Field(default_factory=list)
    flags: list[DraftFlag] = Field(default_factory=list)
    word_count: int
    word_limit: int
    backend: str
    strict: bool = True
    outcomes: list[str] = Field(default_factory=list)
    """Ids of the outcomes the draft covers."""
    trimmed: list[str] = Field(default_factory=list)
    """Sentences left out to fit the word limit, most expendable first."""
    checks: list[CommitmentCheck] = Field(default_factory=list)
    """Each commitment checked for a quantity, a time frame, measurement and reporting, evidence and its outcome."""
    checked: list[str] = Field(default_factory=list)
    """What the checks covered, for a bid writer to read beside a clean result."""
    timings_ms: dict[str, float] = Field(default_factory=dict)
    retrieved: list[RetrievedChunk] = Field(default_factory=list, exclude=True)
    """Every chunk retrieval returned while drafting (citations point at these; not serialised)."""

    @property
    def over_limit(self) -> bool:
        """Whether the draft is still longer than the word limit."""
        return self.word_count > self.word_limit

    def blocks(self) -> list[DraftBlock]:
        """The body in reading order: what is exported and what the word count counts.

        The title, the question, the word count line, references and drafting notes are not body text.
        Adjacent paragraph sentences join into one paragraph.
        """
        out: list[DraftBlock] = []
        if self.summary:
            out += [DraftBlock("h1", "Summary"), DraftBlock("p", self.summary)]
        for section in self.sections:
            out.append(DraftBlock("h1", section.heading))
            if section.theme:
                out.append(DraftBlock("theme", f"Theme: {section.theme}"))
            out += _item_blocks(section.items)
            for part in section.parts:
                if part.items:
                    out.append(DraftBlock("h2", part.heading))
                    out += _item_blocks(part.items)
        return out

    def text(self, markers: bool = False) -> str:
        """The body as Markdown text (headings ``##``/``###``), e.g. to check it for invented figures.

        Citation markers are left out unless ``markers``: ``[2]`` is a footnote, not the figure 2.
        """
        prefix = {"h1": "## ", "h2": "### ", "li": LIST_ITEM}
        lines = []
        for block in self.blocks():
            text = block.text if markers else strip_citations(block.text)
            if lines and not (block.kind == "li" and lines[-1].startswith(LIST_ITEM)):
                lines.append("")
            lines.append(prefix.get(block.kind, "") + text)
        return "\n".join(lines)


def _item_blocks(items: Sequence[DraftItem]) -> list[DraftBlock]:
    out: list[DraftBlock] = []
    for item in items:
        if not item.bullet and out and out[-1].kind == "p":
            out[-1] = DraftBlock("p", f"{out[-1].text} {item.text}")
        else:
            out.append(DraftBlock("li" if item.bullet else "p", item.text))
    return out


def count_words(text: str) -> int:
    """Words as a tender portal counts them: whitespace-separated tokens with a letter or digit, markers excluded."""
    return sum(1 for token in strip_citations(text).split() if re.search(r"\w", token))
