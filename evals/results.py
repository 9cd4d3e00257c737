"""What an eval run records: per-sentence, per-case, per-draft and whole-run results (the report's input)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from evals import metrics as m


class SentenceResult(BaseModel):
    """One sentence of an answer with its citations and each judge's verdict."""

    text: str
    citations: list[int] = Field(default_factory=list)
    verifier: bool
    strict: bool
    judge: bool | None = None
    score: float = 0.0
    citation_recall: int = 0
    citations_precise: int = 0


class RetrievalResult(BaseModel):
    """Where the gold evidence ranked among the retrieved chunks of one mode."""

    hit: float
    recall: float
    rr: float
    gold_ranks: list[int] = Field(default_factory=list)
    """1-based ranks of the retrieved chunks that matched any gold item."""
    retrieved: list[str] = Field(default_factory=list)
    """``doc_id › section`` of each retrieved chunk, in rank order (for the drill-down)."""


class CaseResult(BaseModel):
    """Everything the report shows about one question case."""

    id: str
    kind: str
    expect: str
    question: str
    history: list[dict[str, Any]] = Field(default_factory=list)
    standalone_question: str | None = None
    answer: str = ""
    refused: bool = False
    citations: list[dict[str, Any]] = Field(default_factory=list)
    sentences: list[SentenceResult] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    """Sentences the model wrote that the answer chain removed as unsupported (strict mode)."""
    key_facts: list[list[str]] = Field(default_factory=list)
    facts_found: list[bool] = Field(default_factory=list)
    coverage: float | None = None
    groundedness: float | None = None
    fully_grounded: bool | None = None
    forbidden_found: list[str] = Field(default_factory=list)
    retrieval: dict[str, RetrievalResult] = Field(default_factory=dict)
    latency_ms: float | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
    passed: bool = False
    reasons: list[str] = Field(default_factory=list)
    error: str | None = None


class DraftResult(BaseModel):
    """One drafting case: the draft's figures and whether it passed."""

    id: str
    request: dict[str, Any]
    text: str = ""
    outcomes_expected: list[str] = Field(default_factory=list)
    outcomes_covered: list[str] = Field(default_factory=list)
    outcome_coverage: float | None = None
    figures: list[str] = Field(default_factory=list)
    invented_figures: list[str] = Field(default_factory=list)
    citations: list[dict[str, Any]] = Field(default_factory=list)
    citations_valid: int = 0
    word_count: int = 0
    word_limit: int | None = None
    within_limit: bool | None = None
    flags: list[str] = Field(default_factory=list)
    latency_ms: float | None = None
    passed: bool = False
    reasons: list[str] = Field(default_factory=list)
    error: str | None = None


class EvalResult(BaseModel):
    """A whole run: what was run, headline metrics, per-kind metrics, checker quality, drafts and cases.

    ``gate`` is filled by :func:`evals.gate.apply_gate` (thresholds and baseline comparison).
    """

    meta: dict[str, Any]
    summary: dict[str, Any]
    by_kind: dict[str, dict[str, Any]]
    checker: dict[str, Any]
    drafts: dict[str, Any]
    cases: list[CaseResult]
    draft_cases: list[DraftResult] = Field(default_factory=list)
    gate: dict[str, Any] = Field(default_factory=dict)

    def flat_metrics(self) -> dict[str, float | None]:
        """All numeric metrics as dotted names (``answers.groundedness``), as thresholds name them."""
        return m.flatten({**self.summary, "checker": self.checker.get("metrics", {}), "drafts": self.drafts})
