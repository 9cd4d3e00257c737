"""Checking a draft's sentences: figures and names the bidder never gave, and guidance its citations do not support."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer import passage_text
from assistant.drafting.outline import Item
from assistant.drafting.overclaim import OverclaimChecker
from assistant.drafting.request import DraftRequest
from assistant.drafting.types import DraftFlag
from assistant.grounding import GroundingChecker, is_supported
from assistant.types import RetrievedChunk

__all__ = ["Checks"]


def _passages(chunks: Sequence[RetrievedChunk]) -> list[str]:
    """The chunks as the sentence verifier reads them, as it does for answers: with their section headings."""
    return [passage_text(chunk.section, chunk.text) for chunk in chunks]


class Checks:
    """The checks of one drafting run and the flags they raise, in order; strict mode drops flagged sentences."""

    def __init__(self, request: DraftRequest, checker: GroundingChecker, strict: bool) -> None:
        self.overclaim = OverclaimChecker(request)
        self.checker = checker
        self.strict = strict
        self.flags: list[DraftFlag] = []

    def invented(self, text: str, sources: Sequence[str], where: str) -> list[DraftFlag]:
        """A flag for each figure or name in ``text`` that neither the input nor the cited ``sources`` contain."""
        return [
            DraftFlag(
                kind="invented_name" if found.kind == "name" else "invented_figure",
                text=found.text,
                where=where,
                removed=self.strict,
                sentence=found.sentence,
            )
            for found in self.overclaim.check(text, sources)
        ]

    def supported(self, text: str, chunks: Sequence[RetrievedChunk]) -> bool:
        """Whether ``chunks`` together support ``text``."""
        return is_supported(self.checker, text, _passages(chunks))[0]

    def best_support(self, text: str, chunks: Sequence[RetrievedChunk]) -> RetrievedChunk | None:
        """The one chunk that supports ``text`` best, when it does."""
        scored = [(self.checker.score(text, _passages([chunk])), chunk) for chunk in chunks]
        best_score, best = max(scored, key=lambda pair: pair[0]) if scored else (0.0, None)
        return best if best is not None and best_score >= self.checker.threshold else None

    def unsupported(self, text: str, where: str, why: str) -> DraftFlag:
        """The flag for a sentence that nothing supports, saying ``why``."""
        return DraftFlag(kind="unsupported", text=why, where=where, removed=self.strict, sentence=text)

    def check_item(self, item: Item, where: str, chunks: dict[str, RetrievedChunk]) -> bool:
        """Over-claim and grounding check of one sentence; records flags and returns whether it stays."""
        if item.checked:
            return True
        item.checked = True
        cited = [chunks[r] for r in item.refs if r in chunks]
        flags = self.invented(item.text, [c.text for c in cited], where)
        if cited and not self.supported(item.text, cited):
            flags.append(self.unsupported(item.text, where, "the cited guidance does not support this sentence"))
        self.flags += flags
        return not (flags and self.strict)
