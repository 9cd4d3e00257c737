"""Drafting cases: draft each request through :func:`assistant.drafting.draft` and score the draft."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from assistant.config import Settings
from assistant.drafting import draft
from assistant.services import get_services
from assistant.text import plain_lines
from evals import metrics as m
from evals.dataset import DraftCase
from evals.results import DraftResult


def quote_is_valid(quote: str, document: str) -> bool:
    """Whether every piece of a citation quote (pieces joined by " … ") occurs verbatim in the cited document."""
    pieces = [p for p in (quote or "").split("…") if p.strip(" .")]
    plain = plain_lines(document or "")
    return bool(pieces) and all(m.contains(plain, piece.strip(" .")) for piece in pieces)


def _request_numbers(request: dict[str, Any]) -> set[str]:
    """Every number written anywhere in the request: these are the bidder's own figures."""
    numbers: set[str] = set()
    stack: list[Any] = [request]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            numbers |= m.numbers_in(str(value))
    return numbers


def score_draft(case: DraftCase, made: Any, documents: Callable[[str], str]) -> DraftResult:
    """Score one :class:`assistant.drafting.Draft` against its case.

    - outcome coverage: the case's outcomes that got a section (a response) or a part (a statement) of their own;
    - invented figures: numbers in the draft body found neither in the request, the case's allowed figures
      nor the documents the draft cites;
    - citation validity: citations whose quote occurs verbatim in the cited document;
    - word limit: the draft's own word count against its limit;
    - expected flags (e.g. ``no_commitment``) must be raised.
    """
    result = DraftResult(id=case.id, request=case.request, outcomes_expected=list(case.outcomes))
    result.text = made.text()
    sectioned = {s.outcome_id for s in made.sections if s.outcome_id and (s.items or s.parts)}
    sectioned |= {p.outcome_id for s in made.sections for p in s.parts if p.outcome_id and p.items}
    result.outcomes_covered = [o for o in case.outcomes if o in sectioned]
    result.outcome_coverage = len(result.outcomes_covered) / len(case.outcomes) if case.outcomes else None
    result.citations = [c.model_dump(mode="json") for c in made.citations]
    cited_docs = {c.doc_id for c in made.citations}
    result.citations_valid = sum(quote_is_valid(c.quote, documents(c.doc_id)) for c in made.citations)
    allowed = _request_numbers(case.request) | set(case.figures)
    for doc_id in cited_docs:
        allowed |= m.numbers_in(documents(doc_id))
    result.figures = sorted(m.numbers_in(result.text))
    result.invented_figures = sorted(set(result.figures) - allowed)
    result.word_count, result.word_limit = made.word_count, made.word_limit
    result.within_limit = made.word_count <= made.word_limit
    result.flags = [f"{f.kind}: {f.text} ({f.where})" for f in made.flags]
    raised = {f.kind for f in made.flags}
    reasons = []
    if result.outcome_coverage is not None and result.outcome_coverage < 1.0:
        missing = [o for o in case.outcomes if o not in result.outcomes_covered]
        reasons.append(f"outcomes without a section: {', '.join(missing)}")
    if result.invented_figures:
        reasons.append(f"figures in neither the request nor the cited sources: {', '.join(result.invented_figures)}")
    if result.citations_valid < len(result.citations):
        reasons.append(
            f"{len(result.citations) - result.citations_valid} citation quote(s) not found in the cited document"
        )
    if not result.within_limit:
        reasons.append(f"{result.word_count} words, over the limit of {result.word_limit}")
    missing_flags = [f for f in case.flags if f not in raised]
    if missing_flags:
        reasons.append(f"expected flag(s) not raised: {', '.join(missing_flags)}")
    result.reasons = reasons
    result.passed = not reasons
    return result


def evaluate_drafts(
    cases: Sequence[DraftCase], settings: Settings, backend: str, llm: Any = None
) -> tuple[dict[str, Any], list[DraftResult]]:
    """Draft every case with :func:`assistant.drafting.draft` and score it."""
    if not cases:
        return {"status": "skipped: no drafting cases"}, []
    store = get_services(settings).store

    @lru_cache(maxsize=64)
    def documents(doc_id: str) -> str:
        got = store.get(where={"doc_id": doc_id}, include=["documents"])
        return "\n\n".join(got.documents or [])

    results: list[DraftResult] = []
    for case in cases:
        started = time.perf_counter()
        try:
            made = draft(case.request, settings=settings, backend=backend, llm=llm)
        except Exception as exc:  # a bad request or a drafting failure is a failed case, not a crashed run
            error = f"{exc.__class__.__name__}: {exc}"
            results.append(DraftResult(id=case.id, request=case.request, error=error, reasons=[f"error: {error}"]))
            continue
        result = score_draft(case, made, documents)
        result.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        results.append(result)
    ok = [r for r in results if not r.error]
    all_citations = sum(len(r.citations) for r in ok)
    figures = sum(len(r.figures) for r in ok)
    invented = sum(len(r.invented_figures) for r in ok)
    summary = {
        "status": "ok",
        "n": float(len(results)),
        "pass_rate": m.share(r.passed for r in results),
        "outcome_coverage": m.mean(r.outcome_coverage for r in ok),
        "invented_figure_rate": invented / figures if figures else 0.0,
        "drafts_with_invented_figure": m.share(bool(r.invented_figures) for r in ok),
        "citation_validity": sum(r.citations_valid for r in ok) / all_citations if all_citations else None,
        "within_word_limit": m.share(r.within_limit for r in ok),
        "errors": float(len(results) - len(ok)),
        "p50_ms": m.percentile([r.latency_ms for r in ok if r.latency_ms is not None], 50),
    }
    return summary, results
