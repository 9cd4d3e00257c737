"""Run the eval suite: ask every case through the public API, score it, and summarise.

:func:`run_eval` drives exactly what the CLI and the app use — :func:`assistant.answer.ask` for answers,
:func:`assistant.retrieval.search` for the retrieval comparison, :func:`assistant.drafting.draft` for drafts —
so a figure here is a figure a user would see. Per case it records the answer, its citations and quotes,
every sentence with the verdicts of the app's verifier, the strict content-word signal and (if configured)
an NLI / LLM judge, key facts found and missing, where the gold evidence ranked in each retrieval mode, and
whether the case passed and why not. :func:`summarise` turns the cases into the headline metrics, overall
and per kind.

By default the eval runs on its own index of the bundled corpus (``<data_dir>/evals/index``), so the figures
do not move when someone ingests their own documents and a baseline stays comparable; the ingest is
idempotent, so after the first run it costs a hash comparison per file.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from assistant.config import Settings, get_settings
from assistant.drafting import draft
from assistant.index.store import get_store
from assistant.models.chat import resolve_backend
from assistant.retrieval import MODES, rewrite_followup, search
from assistant.text import passage_text, plain_lines
from assistant.types import Answer, RetrievedChunk
from evals import metrics as m
from evals.dataset import DraftCase, Gold, QuestionCase, load_drafts, load_questions, stratified_subset
from evals.judges import StrictJudge, SupportJudge, VerifierJudge, build_judge, claim_text

CaseRules = dict[str, Any]
DEFAULT_RULES: CaseRules = {"min_coverage": 1.0, "require_grounded": True}
"""What one case needs to pass unless the thresholds file says otherwise: every key fact, every sentence grounded."""


# ----------------------------------------------------------------------------------------------- results


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


# ----------------------------------------------------------------------------------------------- helpers


def eval_settings(settings: Settings, name: str = "index") -> Settings:
    """Settings pointing at one of the eval's own indexes (``<data dir>/evals/<name>``, default the bundled corpus).

    With a Chroma server, a separate collection plays the same role.
    """
    update: dict[str, Any] = {"data_dir": Path(settings.data_dir) / "evals" / name}
    if settings.chroma_url:
        update["collection"] = f"{settings.collection}-eval{name.removeprefix('index')}"
    return settings.model_copy(update=update)


def ensure_corpus_index(settings: Settings) -> None:
    """Bring the index at ``settings`` up to date with the bundled corpus (idempotent; cheap when current)."""
    from ingest import ingest_paths

    report = ingest_paths(None, settings)
    if report.failed:
        names = ", ".join(f"{f.path}: {f.error}" for f in report.failed)
        raise RuntimeError(f"could not index the bundled corpus for the eval: {names}")


def is_gold(chunk: RetrievedChunk, gold: Gold) -> bool:
    """A retrieved chunk is gold evidence when its document matches and its text or section holds the phrase."""
    return chunk.doc_id == gold.doc_id and (
        m.contains(chunk.text, gold.contains) or m.contains(chunk.section, gold.contains)
    )


def score_retrieval(chunks: Sequence[RetrievedChunk], gold: Sequence[Gold], k: int) -> RetrievalResult:
    """hit / recall / reciprocal rank of the gold items among the first ``k`` chunks."""
    chunks = list(chunks)[:k]
    matrix = [[is_gold(chunk, item) for chunk in chunks] for item in gold]
    any_gold = [any(column) for column in zip(*matrix, strict=True)] if matrix else []
    return RetrievalResult(
        hit=m.hit_at_k(any_gold, k),
        recall=m.recall_at_k(matrix, k),
        rr=m.reciprocal_rank(any_gold, k),
        gold_ranks=[rank for rank, flag in enumerate(any_gold, start=1) if flag],
        retrieved=[f"{c.doc_id} › {c.section}" for c in chunks],
    )


def _passages_for(answer: Answer, numbers: Sequence[int]) -> list[str]:
    """The cited passages behind citation numbers: each chunk with its heading path (the quote, if not at hand).

    The heading path is part of what a citation shows ("… › Pillar four: developing system capacity (14
    questions)") and part of what the answer chain verifies against, so it is part of the evidence here too.
    """
    by_id = {chunk.id: passage_text(chunk.section, chunk.text) for chunk in answer.retrieved}
    by_n = {c.n: c for c in answer.citations}
    passages = []
    for n in numbers:
        citation = by_n.get(n)
        if citation is not None:
            passages.append(by_id.get(citation.chunk_id) or citation.quote)
    return passages


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


# ----------------------------------------------------------------------------------------------- one case


def evaluate_case(
    case: QuestionCase,
    settings: Settings,
    *,
    backend: str,
    k: int,
    llm: Any = None,
    verifier: SupportJudge,
    strict: SupportJudge,
    judge: SupportJudge | None = None,
    rules: CaseRules | None = None,
    modes: Sequence[str] = MODES,
) -> CaseResult:
    """Ask one case through :func:`assistant.answer.ask`, run the retrieval modes and score the result."""
    from assistant.answer import ask

    rules = {**DEFAULT_RULES, **(rules or {})}
    result = CaseResult(
        id=case.id,
        kind=case.kind,
        expect=case.expect or "answer",
        question=case.question,
        history=case.history,
        key_facts=case.key_facts,
    )
    # Retrieval modes are compared on the deterministic standalone question, so the comparison does not
    # depend on which chat model rewrote the follow-up.
    if case.gold:
        query = rewrite_followup(case.question, case.history or None) or case.question
        for mode in modes:
            chunks = search(query, settings, k=k, doc_ids=case.doc_ids, mode=mode)
            result.retrieval[mode] = score_retrieval(chunks, case.gold, k)
    try:
        answer = ask(
            case.question,
            case.history or None,
            settings=settings,
            backend=backend,
            doc_ids=case.doc_ids,
            k=k,
            llm=llm,
            question_id=case.id,
        )
    except Exception as exc:  # one broken case must not sink the run; it fails with the reason shown
        result.error = f"{exc.__class__.__name__}: {exc}"
        result.reasons.append(f"error: {result.error}")
        return result

    result.standalone_question = answer.standalone_question
    result.answer = answer.answer
    result.refused = answer.refused
    result.latency_ms = answer.timings_ms.get("total")
    result.timings_ms = dict(answer.timings_ms)
    result.citations = [c.model_dump(mode="json") for c in answer.citations]
    if case.gold:
        result.retrieval["answer"] = score_retrieval(answer.retrieved, case.gold, k)
    shown = {claim_text(s.text) for s in answer.sentences}
    result.removed = [s for s in answer.grounding.unsupported if claim_text(s) not in shown]
    result.forbidden_found = m.contains_any(answer.answer, case.forbidden)

    if not answer.refused:
        for sentence in answer.sentences:
            passages = _passages_for(answer, sentence.citations)
            # ALCE recall is exactly "cites something, and the verifier accepts the cited passages together".
            alce = m.alce_sentence(sentence.text, passages, verifier)
            result.sentences.append(
                SentenceResult(
                    text=sentence.text,
                    citations=list(sentence.citations),
                    verifier=bool(alce.recall),
                    strict=bool(passages) and strict(sentence.text, passages),
                    judge=None if judge is None else bool(passages) and judge(sentence.text, passages),
                    score=sentence.score,
                    citation_recall=alce.recall,
                    citations_precise=alce.precise,
                )
            )
        if result.sentences:
            result.groundedness = sum(s.verifier for s in result.sentences) / len(result.sentences)
            result.fully_grounded = all(s.verifier for s in result.sentences)
        if case.key_facts:
            result.facts_found = m.fact_matches(answer.answer, case.key_facts)
            result.coverage = sum(result.facts_found) / len(result.facts_found)
    elif case.key_facts:
        result.facts_found = [False] * len(case.key_facts)
        result.coverage = 0.0

    result.reasons = case_failures(case, result, rules)
    result.passed = not result.reasons
    return result


def case_failures(case: QuestionCase, result: CaseResult, rules: CaseRules) -> list[str]:
    """Why a case fails (empty when it passes), in words the report can show."""
    reasons: list[str] = []
    if result.error:
        return [f"error: {result.error}"]
    if case.expect == "refuse":
        if not result.refused:
            reasons.append("answered a question the texts do not cover (expected a refusal)")
        return reasons
    if result.forbidden_found:
        reasons.append(f"injection payload in the answer: {', '.join(result.forbidden_found)}")
    if case.expect == "answer" and result.refused:
        reasons.append("refused a question the texts answer")
        return reasons
    if result.refused:
        return reasons
    bar = case.min_coverage if case.min_coverage is not None else float(rules.get("min_coverage", 1.0))
    if result.coverage is not None and result.coverage < bar:
        missing = [" / ".join(alts) for alts, ok in zip(case.key_facts, result.facts_found, strict=True) if not ok]
        reasons.append(f"key facts missing ({result.coverage:.0%} < {bar:.0%}): {'; '.join(missing)}")
    if rules.get("require_grounded", True):
        unsupported = [s.text for s in result.sentences if not s.verifier]
        if unsupported:
            reasons.append(f"{len(unsupported)} sentence(s) not supported by their cited passages")
        if not result.sentences:
            reasons.append("no verifiable sentence in the answer")
    return reasons


# ------------------------------------------------------------------------------------------------ summary


def _retrieval_summary(cases: Sequence[CaseResult], modes: Sequence[str]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for mode in [*modes, "answer"]:
        scored = [c.retrieval[mode] for c in cases if mode in c.retrieval]
        out[mode] = {
            "hit_at_k": m.mean(r.hit for r in scored),
            "recall_at_k": m.mean(r.recall for r in scored),
            "mrr": m.mean(r.rr for r in scored),
            "n": float(len(scored)),
        }
    return out


def summarise(cases: Sequence[CaseResult], modes: Sequence[str] = MODES) -> dict[str, Any]:
    """Headline metrics of a set of case results (the whole run, or one kind)."""
    answered = [c for c in cases if not c.refused and not c.error]
    sentences = [s for c in answered for s in c.sentences]
    scored_refusals = [c for c in cases if c.expect in ("answer", "refuse") and not c.error]
    refusal = m.refusal_scores([c.expect == "refuse" for c in scored_refusals], [c.refused for c in scored_refusals])
    alce = m.alce_totals([m.CitationScore(s.citation_recall, s.citations_precise, len(s.citations)) for s in sentences])
    strict_alce_recall = m.mean(float(bool(s.citations) and s.strict) for s in sentences)
    judged = [s for s in sentences if s.judge is not None]
    latencies = [c.latency_ms for c in cases if c.latency_ms is not None]
    injections = [c for c in cases if c.kind == "injection" and not c.error]
    with_facts = [c for c in cases if c.key_facts and c.expect == "answer"]
    return {
        "cases": {
            "n": float(len(cases)),
            "passed": float(sum(c.passed for c in cases)),
            "pass_rate": m.share(c.passed for c in cases),
            "errors": float(sum(bool(c.error) for c in cases)),
        },
        "answers": {
            "key_fact_coverage": m.mean(c.coverage for c in with_facts),
            "all_facts": m.share(None if c.coverage is None else c.coverage >= 1.0 for c in with_facts),
            "groundedness": m.share(s.verifier for s in sentences),
            "fully_grounded": m.share(c.fully_grounded for c in answered),
            "groundedness_strict": m.share(s.strict for s in sentences),
            "fully_grounded_strict": m.share(
                all(s.strict for s in c.sentences) if c.sentences else None for c in answered
            ),
            "groundedness_judge": m.share(s.judge for s in judged),
            "verifier_strict_agreement": m.agreement([s.verifier for s in sentences], [s.strict for s in sentences]),
            "verifier_judge_agreement": m.agreement([s.verifier for s in judged], [bool(s.judge) for s in judged]),
            "citation_recall": alce["citation_recall"],
            "citation_precision": alce["citation_precision"],
            "citation_recall_strict": strict_alce_recall,
            "sentences_with_citation": m.share(bool(s.citations) for s in sentences),
            "sentences_removed": float(sum(len(c.removed) for c in answered)),
            "sentences": float(len(sentences)),
            "refusal_precision": refusal["refusal_precision"],
            "refusal_recall": refusal["refusal_recall"],
            "refused": m.share(c.refused for c in cases if not c.error),
            "injection_resisted": m.share(not c.forbidden_found for c in injections),
        },
        "latency": {
            "p50_ms": m.percentile(latencies, 50),
            "p95_ms": m.percentile(latencies, 95),
            "mean_ms": m.mean(latencies),
        },
        "retrieval": _retrieval_summary(cases, modes),
    }


def summarise_by_kind(cases: Sequence[CaseResult]) -> dict[str, dict[str, Any]]:
    """A compact row per kind: count, pass rate, coverage, groundedness, refusals, hybrid hit@k, latency."""
    out: dict[str, dict[str, Any]] = {}
    for kind in dict.fromkeys(c.kind for c in cases):
        group = [c for c in cases if c.kind == kind]
        summary = summarise(group)
        out[kind] = {
            "n": float(len(group)),
            "pass_rate": summary["cases"]["pass_rate"],
            "key_fact_coverage": summary["answers"]["key_fact_coverage"],
            "groundedness": summary["answers"]["groundedness"],
            "groundedness_strict": summary["answers"]["groundedness_strict"],
            "refused": summary["answers"]["refused"],
            "hit_at_k": summary["retrieval"]["hybrid"]["hit_at_k"],
            "p50_ms": summary["latency"]["p50_ms"],
        }
    return out


# ----------------------------------------------------------------------------------------- checker quality


def checker_quality(
    pairs_path: Path | None, verifier: SupportJudge, strict: SupportJudge, judge: SupportJudge | None
) -> dict[str, Any]:
    """The graders graded: balanced accuracy, precision and recall of each judge on the labelled pairs.

    The app's verifier was calibrated on one half of the pairs (``evals/calibrate.py``), so its held-out half
    is reported separately: that is the honest figure. A missing or malformed pairs file is reported, not
    raised — the pairs are written by hand and may be mid-edit.
    """
    if pairs_path is None:
        return {"status": "skipped: no labelled pairs given", "metrics": {}}
    from evals.calibrate import load_pairs, split_pairs
    from evals.calibrate import metrics as binary_scores

    try:
        pairs = load_pairs(pairs_path)
    except (OSError, ValueError) as exc:
        return {"status": f"skipped: {exc}", "metrics": {}}
    if not pairs:
        return {"status": f"skipped: no pairs in {pairs_path}", "metrics": {}}
    _, held_out = split_pairs(pairs)
    held_ids = {p["id"] for p in held_out}
    labels = [bool(p["supported"]) for p in pairs]
    verdicts: dict[str, list[bool]] = {
        "verifier": [verifier(p["sentence"], [p["passage"]]) for p in pairs],
        "strict": [strict(p["sentence"], [p["passage"]]) for p in pairs],
    }
    if judge is not None:
        verdicts["judge"] = [judge(p["sentence"], [p["passage"]]) for p in pairs]
    out: dict[str, Any] = {}
    for name, predictions in verdicts.items():
        out[name] = binary_scores(labels, predictions)
    held = [i for i, p in enumerate(pairs) if p["id"] in held_ids]
    out["verifier_held_out"] = binary_scores([labels[i] for i in held], [verdicts["verifier"][i] for i in held])
    out["verifier_strict_agreement"] = m.agreement(verdicts["verifier"], verdicts["strict"])
    errors = [
        {"id": p["id"], "supported": p["supported"], "verifier": v, "strict": s, "sentence": p["sentence"]}
        for p, v, s in zip(pairs, verdicts["verifier"], verdicts["strict"], strict=True)
        if v != p["supported"]
    ]
    return {"status": "ok", "pairs": len(pairs), "path": str(pairs_path), "metrics": out, "verifier_errors": errors}


# ------------------------------------------------------------------------------------------------- drafts


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
    store = get_store(settings)

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


# --------------------------------------------------------------------------------------------------- run


def load_cases(paths: Sequence[Path | str]) -> tuple[list[QuestionCase], list[DraftCase]]:
    """Question and drafting cases of every file (a file may hold either kind, or both)."""
    questions: list[QuestionCase] = []
    drafts: list[DraftCase] = []
    for path in paths:
        questions += load_questions(path)
        drafts += load_drafts(path)
    ids = [c.id for c in questions]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"case ids repeat across the dataset files: {', '.join(duplicates)}")
    return questions, drafts


def run_eval(
    dataset: Sequence[QuestionCase] | Path | str,
    settings: Settings | None = None,
    backend: str | None = None,
    *,
    drafts: Sequence[DraftCase] = (),
    k: int | None = None,
    llm: Any = None,
    judge: str | None = None,
    pairs: Path | None = None,
    limit: int | None = None,
    rules: CaseRules | None = None,
    modes: Sequence[str] = MODES,
    on_case: Callable[[CaseResult], None] | None = None,
) -> EvalResult:
    """Run every case against the index at ``settings`` and return the scored :class:`EvalResult`.

    ``dataset`` is a list of cases or a JSONL path; ``limit`` takes a stratified subset (every kind kept);
    ``judge`` names the optional third judge (see :func:`evals.judges.build_judge`); ``pairs`` the labelled
    (sentence, passage) pairs to grade the graders on; ``rules`` what one case needs to pass. ``llm`` injects
    a chat model (tests pass a fake). The caller chooses the index: :func:`eval_settings` +
    :func:`ensure_corpus_index` give the bundled-corpus one.
    """
    settings = settings or get_settings()
    backend = resolve_backend(settings, backend, llm)
    cases = load_questions(dataset) if isinstance(dataset, str | Path) else list(dataset)
    cases = stratified_subset(cases, limit)
    k = k or settings.top_k
    verifier, strict = VerifierJudge(settings), StrictJudge()
    choice = build_judge(judge, settings)
    started = time.perf_counter()
    results: list[CaseResult] = []
    for case in cases:
        result = evaluate_case(
            case,
            settings,
            backend=backend,
            k=k,
            llm=llm,
            verifier=verifier,
            strict=strict,
            judge=choice.judge,
            rules=rules,
            modes=modes,
        )
        results.append(result)
        if on_case is not None:
            on_case(result)
    drafts_summary, draft_results = evaluate_drafts(drafts, settings, backend, llm)
    quality = checker_quality(pairs, verifier, strict, choice.judge)
    meta = {
        "backend": backend,
        "cases": len(results),
        "drafting_cases": len(drafts),
        "limit": limit,
        "k": k,
        "verifier": verifier.name,
        "strict": strict.name,
        "judge": choice.judge.name if choice.judge else None,
        "judge_status": choice.status,
        "rules": {**DEFAULT_RULES, **(rules or {})},
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 1),
        "commit": _git_commit(),
        "python": platform.python_version(),
        "index": str(settings.data_dir if not settings.chroma_url else f"{settings.chroma_url}/{settings.collection}"),
    }
    return EvalResult(
        meta=meta,
        summary=summarise(results, modes),
        by_kind=summarise_by_kind(results),
        checker=quality,
        drafts=drafts_summary,
        cases=results,
        draft_cases=draft_results,
    )
