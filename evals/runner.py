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
from pathlib import Path
from typing import Any

from assistant.answer import ask
from assistant.config import Settings, get_settings
from assistant.followup import rewrite_followup
from assistant.models.chat import resolve_backend
from assistant.retrieval import MODES, search
from assistant.text import passage_text
from assistant.types import Answer, RetrievedChunk
from evals import metrics as m
from evals.calibrate import load_pairs, split_pairs
from evals.calibrate import metrics as binary_scores
from evals.dataset import DraftCase, Gold, QuestionCase, load_drafts, load_questions, stratified_subset
from evals.drafts import evaluate_drafts
from evals.judges import StrictJudge, SupportJudge, VerifierJudge, build_judge, claim_text
from evals.results import CaseResult, EvalResult, RetrievalResult, SentenceResult
from ingest import ingest_paths

CaseRules = dict[str, Any]
DEFAULT_RULES: CaseRules = {"min_coverage": 1.0, "require_grounded": True}
"""What one case needs to pass unless the thresholds file says otherwise: every key fact, every sentence grounded."""


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
        result.sentences = _judge_sentences(answer, verifier, strict, judge)
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


def _judge_sentences(
    answer: Answer, verifier: SupportJudge, strict: SupportJudge, judge: SupportJudge | None
) -> list[SentenceResult]:
    """Every sentence of the answer with each judge's verdict on the passages it cites."""
    results = []
    for sentence in answer.sentences:
        passages = _passages_for(answer, sentence.citations)
        # ALCE recall is exactly "cites something, and the verifier accepts the cited passages together".
        alce = m.alce_sentence(sentence.text, passages, verifier)
        results.append(
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
    return results


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
