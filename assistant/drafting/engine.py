"""The drafting run: retrieve the guidance, compose the template, add checked model prose, check every sentence,
trim to the word limit and number the citations."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel

from assistant.config import Settings
from assistant.drafting.checklist import check_commitments
from assistant.drafting.checks import Checks
from assistant.drafting.compose import Composer
from assistant.drafting.guidance import Guidance, retrieve
from assistant.drafting.outline import Item, Section, count, describe_cuts, trim, walk
from assistant.drafting.prose import Prose
from assistant.drafting.request import DraftError, DraftRequest, parse_request
from assistant.drafting.types import CommitmentCheck, Draft, DraftFlag, DraftItem, DraftPart, DraftSection
from assistant.grounding import GroundingChecker, best_quote
from assistant.index.store import Store
from assistant.services import Services, services_for
from assistant.types import Citation, RetrievedChunk

__all__ = ["CHECKED", "Tools", "draft"]

CHECKED = [
    "every figure, date and name against your input and the sources cited",
    "every guidance sentence against the passage it cites",
    "each commitment for a quantity, a time frame, measurement and reporting, evidence behind it and a link to its "
    "outcome",
]
"""What a draft's checks cover: shown beside a clean result, so a tick says what it ticked."""


@dataclass(frozen=True)
class Tools:
    """The expensive parts a drafting run uses, fetched once and passed down."""

    llm: BaseChatModel | None
    checker: GroundingChecker
    store: Store
    embeddings: Embeddings

    @classmethod
    def build(cls, services: Services, backend: str, llm: BaseChatModel | None = None) -> Tools:
        """The parts of ``services``; ``llm`` (when given) is used instead of the ``backend``'s model."""
        llm = llm if llm is not None else services.chat_model(backend)
        return cls(llm, services.checker, services.store, services.embeddings)


class _Numbering:
    """Turns working items into public ones, numbering the chunks they cite by first use."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.claims: dict[str, list[Item]] = {}

    def item(self, raw: Item) -> DraftItem:
        numbers = []
        for ref in raw.refs:
            numbers.append(self.numbers.setdefault(ref, len(self.numbers) + 1))
            self.claims.setdefault(ref, []).append(raw)
        marks = "".join(f"[{n}]" for n in numbers)
        text = f"{raw.text} {marks}".rstrip()
        return DraftItem(text=text, bullet=raw.bullet, citations=numbers, origin=raw.origin)  # type: ignore[arg-type]

    def section(self, section: Section) -> DraftSection | None:
        """The public section, or ``None`` when nothing in it is left."""
        items = [self.item(i) for i in section.items]
        parts = [
            DraftPart(heading=p.heading, outcome_id=p.outcome_id, items=[self.item(i) for i in p.items])
            for p in section.parts
        ]
        parts = [p for p in parts if p.items]
        if not items and not parts:
            return None
        cited = sorted({n for i in items + [i for p in parts for i in p.items] for n in i.citations})
        return DraftSection(
            heading=section.heading,
            outcome_id=section.outcome_id,
            theme=section.theme,
            items=items,
            parts=parts,
            citations=cited,
        )

    def citations(self, retrieved: Mapping[str, RetrievedChunk], embeddings: Embeddings) -> list[Citation]:
        """One citation per numbered chunk, quoting what the first three sentences citing it rely on."""
        out = []
        for chunk_id, n in self.numbers.items():
            chunk = retrieved[chunk_id]
            quotes: list[str] = []
            for raw in self.claims[chunk_id][:3]:
                quote = raw.quotes.get(chunk_id) or best_quote(raw.text, chunk.text, embeddings)
                if quote and quote not in quotes:
                    quotes.append(quote)
            out.append(Citation.from_chunk(n, chunk, quotes))
        return out


def _dedupe(flags: Sequence[DraftFlag]) -> list[DraftFlag]:
    seen: set[tuple] = set()
    out = []
    for flag in flags:
        key = (flag.kind, flag.text, flag.where, flag.sentence)
        if key not in seen:
            seen.add(key)
            out.append(flag)
    return out


class Engine:
    """One drafting run: composes, adds checked model prose, checks everything, trims, numbers citations."""

    def __init__(self, request: DraftRequest, settings: Settings, tools: Tools, backend: str, strict: bool) -> None:
        self.request = request
        self.settings = settings
        self.tools = tools
        self.backend = backend
        self.checks = Checks(request, tools.checker, strict)

    def run(self) -> Draft:
        """Draft the request; raises :class:`DraftError` when the index is empty."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        if self.tools.store.count() == 0:
            raise DraftError(
                "the index is empty: run `pva ingest` to index the bundled framework texts, then draft again"
            )
        guidance = retrieve(self.request, self.settings)
        timings["retrieve"] = (time.perf_counter() - started) * 1000
        composer = Composer(self.request, guidance)
        sections = composer.statement() if self.request.kind == "statement" else composer.response()
        summary = Section("Summary", items=composer.summary())  # after the sections: it says what they hold
        self.checks.flags += composer.flags
        if self.tools.llm is not None:
            generating = time.perf_counter()
            Prose(self.request, self.tools.llm, self.settings.max_tokens, self.checks).add(sections, guidance)
            timings["generate"] = (time.perf_counter() - generating) * 1000
        checked_at = time.perf_counter()
        for container, where in walk(summary, sections):
            container.items = [i for i in container.items if self.checks.check_item(i, where, guidance.retrieved)]
        timings["verify"] = (time.perf_counter() - checked_at) * 1000
        cuts = trim(summary, sections, self.request.word_limit)
        if cuts:
            self.checks.flags.append(
                DraftFlag(kind="trimmed", text=describe_cuts(cuts, self.request.word_limit), where="whole draft")
            )
        commitment_checks, gaps = check_commitments(self.request)
        self.checks.flags += gaps
        words = count(summary, sections)
        if words > self.request.word_limit:
            self.checks.flags.append(
                DraftFlag(
                    kind="over_limit",
                    text=f"the draft is {words} words against a limit of {self.request.word_limit} "
                    f"({words - self.request.word_limit} over) even with the guidance and delivery detail trimmed: "
                    "shorten the commitments or raise the word limit",
                    where="whole draft",
                )
            )
        draft = self.publish(summary, sections, guidance, words, [c.item.text for c in cuts], commitment_checks)
        timings["total"] = (time.perf_counter() - started) * 1000
        draft.timings_ms = {key: round(value, 1) for key, value in timings.items()}
        return draft

    def publish(
        self,
        summary: Section,
        sections: list[Section],
        guidance: Guidance,
        words: int,
        trimmed: list[str],
        commitment_checks: list[CommitmentCheck],
    ) -> Draft:
        """Number the citations by first use and build the public :class:`Draft`."""
        numbering = _Numbering()
        summary_items = [numbering.item(i) for i in summary.items]
        public = [s for s in (numbering.section(section) for section in sections) if s is not None]
        covered = [s.outcome_id for s in public if s.outcome_id]
        covered += [p.outcome_id for s in public for p in s.parts if p.outcome_id and p.outcome_id not in covered]
        if self.request.kind == "statement":
            covered = [o for o in covered if self.request.commitments.get(o)]
        return Draft(
            kind=self.request.kind,
            title=self.request.title,
            buyer=self.request.buyer,
            supplier=self.request.supplier,
            question=self.request.question,
            summary=" ".join(i.text for i in summary_items),
            sections=public,
            citations=numbering.citations(guidance.retrieved, self.tools.embeddings),
            flags=_dedupe(self.checks.flags),
            word_count=words,
            word_limit=self.request.word_limit,
            backend=self.backend,
            strict=self.checks.strict,
            outcomes=covered,
            trimmed=trimmed,
            checks=commitment_checks,
            checked=CHECKED,
            retrieved=list(guidance.retrieved.values()),
        )


def draft(
    request: DraftRequest | Mapping[str, Any],
    settings: Settings | None = None,
    backend: str | None = None,
    llm: BaseChatModel | None = None,
    *,
    strict: bool = True,
    services: Services | None = None,
) -> Draft:
    """Draft a social value response or statement from ``request``.

    ``backend`` overrides ``settings.chat_backend`` (``extractive`` = no chat model: templates and quotes);
    ``llm`` injects a chat model directly, as :func:`assistant.answer.ask` does (tests pass a fake).
    ``strict`` (the default) removes every sentence with an invented figure or name or unsupported guidance;
    with ``strict=False`` they stay in the draft and are only flagged.

    Raises:
        DraftInputError: ``request`` is a mapping with invalid fields.
        DraftError: the index is empty.
        assistant.models.chat.ChatModelError: the chosen chat backend cannot be built.
    """
    request = parse_request(request)
    services = services_for(settings, services)
    settings = services.settings
    backend = backend or ("fake" if llm is not None else settings.chat_backend)
    return Engine(request, settings, Tools.build(services, backend, llm), backend, strict).run()
