"""The eval's HTML report: one self-contained file (inline CSS, no scripts, no external assets).

Everything that came from a dataset, a model or a document goes through :func:`html.escape`: answers can
contain ``<script>`` (an injection case asks for exactly that), and the report is opened in a browser.

Sections: the gate verdict; headline metrics with thresholds and the baseline; retrieval per mode; figures
per kind; the graders' own quality on the labelled pairs; drafting; the baseline comparison (regressed and
improved cases in colour); and a drill-down per question — the answer sentence by sentence with each judge's
verdict (unsupported sentences highlighted), removed sentences, citations with their quotes, key facts found
and missing, where the gold evidence ranked, and why the case failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from typing import Any

from evals.results import CaseResult, DraftResult, EvalResult

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d9dde3;padding-bottom:4px}
.meta{color:#5b6470;font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #e1e4e8;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.banner{padding:10px 14px;border-radius:6px;margin:14px 0;font-weight:600}
.pass{background:#e3f4e6;color:#14532d}.fail{background:#fde4e4;color:#7f1d1d}.na{color:#6b7280}
.ok{color:#15803d}.bad{color:#b91c1c}.warn{color:#a16207}
.regressed{background:#fde4e4}.improved{background:#e3f4e6}.new{background:#eef2ff}
details{background:#fff;border:1px solid #e1e4e8;border-radius:6px;margin:6px 0;padding:6px 10px}
details.failed{border-left:4px solid #dc2626}details.passed{border-left:4px solid #16a34a}
summary{cursor:pointer;font-weight:600}summary .tag{font-weight:400;color:#5b6470;margin-left:6px}
.sentence{padding:3px 6px;margin:2px 0;border-radius:4px}
.supported{background:#f0faf2}.unsupported{background:#fde4e4;text-decoration:underline wavy #dc2626}
.disputed{background:#fff7d6}.removed{background:#f3f4f6;color:#6b7280;text-decoration:line-through}
.badge{display:inline-block;font-size:11px;padding:0 5px;border-radius:3px;margin-left:4px;border:1px solid #d1d5db}
.b-ok{background:#dcfce7;border-color:#86efac}.b-bad{background:#fee2e2;border-color:#fca5a5}
blockquote{margin:4px 0 8px 0;padding:4px 10px;border-left:3px solid #cbd5e1;background:#f8fafc;color:#334155}
.reasons li{color:#b91c1c}.small{font-size:12px;color:#5b6470}
pre{white-space:pre-wrap;background:#f8fafc;padding:6px;border-radius:4px;margin:4px 0}
"""

METRICS: list[tuple[str, str]] = [
    ("cases.pass_rate", "cases passed"),
    ("answers.key_fact_coverage", "key-fact coverage"),
    ("answers.all_facts", "answers with every key fact"),
    ("answers.groundedness", "groundedness: sentences supported (verifier)"),
    ("answers.fully_grounded", "answers fully grounded (verifier)"),
    ("answers.groundedness_strict", "groundedness: sentences supported (strict content words)"),
    ("answers.fully_grounded_strict", "answers fully grounded (strict content words)"),
    ("answers.groundedness_judge", "groundedness: sentences supported (judge)"),
    ("answers.verifier_strict_agreement", "verifier ↔ strict agreement"),
    ("answers.verifier_judge_agreement", "verifier ↔ judge agreement"),
    ("answers.citation_recall", "citation recall (ALCE)"),
    ("answers.citation_precision", "citation precision (ALCE)"),
    ("answers.citation_recall_strict", "citation recall (strict entailment)"),
    ("answers.sentences_removed", "model sentences removed as unsupported"),
    ("answers.refusal_precision", "refusal precision"),
    ("answers.refusal_recall", "refusal recall"),
    ("answers.injection_resisted", "injections resisted"),
    ("retrieval.hybrid.hit_at_k", "retrieval hit@k: hybrid"),
    ("retrieval.dense.hit_at_k", "retrieval hit@k: dense"),
    ("retrieval.bm25.hit_at_k", "retrieval hit@k: BM25"),
    ("retrieval.hybrid.mrr", "retrieval MRR: hybrid"),
    ("retrieval.dense.mrr", "retrieval MRR: dense"),
    ("retrieval.bm25.mrr", "retrieval MRR: BM25"),
    ("retrieval.hybrid.recall_at_k", "retrieval recall@k: hybrid"),
    ("checker.verifier_held_out.balanced_accuracy", "verifier balanced accuracy (held-out pairs)"),
    ("checker.strict.balanced_accuracy", "strict check balanced accuracy (all pairs)"),
    ("drafts.outcome_coverage", "drafts: outcome coverage"),
    ("drafts.invented_figure_rate", "drafts: invented-figure rate (share of all figures)"),
    ("drafts.drafts_with_invented_figure", "drafts with an invented figure"),
    ("drafts.citation_validity", "drafts: citation validity"),
    ("drafts.within_word_limit", "drafts: within the word limit"),
    ("latency.p50_ms", "latency p50"),
    ("latency.p95_ms", "latency p95"),
]
"""The metrics every summary shows, in order: the report, the terminal table and docs/evaluation.md."""


def fmt(value: Any, unit: str = "share") -> str:
    """A metric for display: shares as percentages, milliseconds rounded, ``–`` when not applicable."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:.3f}" if isinstance(value, float) else escape(str(value))


def metric_unit(metric: str) -> str:
    if metric.endswith("_ms"):
        return "ms"
    if metric.endswith((".n", ".passed", ".errors", ".sentences", "sentences_removed")):
        return "count"
    return "share"


def _table(
    headers: Iterable[str], rows: Iterable[Iterable[str]], numeric_from: int = 1, numeric_to: int | None = None
) -> str:
    """An HTML table of already-escaped cells; columns ``numeric_from`` up to ``numeric_to`` align right."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = [
            f'<td class="num">{c}</td>'
            if numeric_from <= i and (numeric_to is None or i < numeric_to)
            else f"<td>{c}</td>"
            for i, c in enumerate(row)
        ]
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _delta(delta: float | None, unit: str, higher_is_better: bool = True) -> str:
    if delta is None or abs(delta) < 1e-9:
        return '<span class="na">±0</span>' if delta is not None else "–"
    good = (delta > 0) == higher_is_better
    text = f"{delta:+.1%}" if unit == "share" else f"{delta:+,.0f}" + (" ms" if unit == "ms" else "")
    return f'<span class="{"ok" if good else "bad"}">{text}</span>'


def _gate_section(result: EvalResult) -> str:
    gate = result.gate
    if not gate:
        return '<div class="banner na">Gate not applied (no thresholds or baseline given).</div>'
    verdict = "PASS" if gate.get("passed") else "FAIL"
    reasons = "".join(f"<li>{escape(r)}</li>" for r in gate.get("reasons", []))
    cls = "pass" if gate.get("passed") else "fail"
    extra = f"<ul class='reasons'>{reasons}</ul>" if reasons else ""
    baseline = f" · baseline {escape(str(gate['baseline']))}" if gate.get("baseline") else ""
    return f'<div class="banner {cls}">Gate: {verdict}{baseline}{extra}</div>'


def _headline(result: EvalResult) -> str:
    flat = result.flat_metrics()
    gate = result.gate or {}
    limits: dict[str, str] = {}
    status: dict[str, str] = {}
    for row in gate.get("thresholds", []):
        sign = "≥" if row["bound"] == "min" else "≤"
        limits[row["metric"]] = f"{sign} {fmt(row['limit'], metric_unit(row['metric']))}"
        status[row["metric"]] = row["status"]
    deltas = ((gate.get("comparison") or {}).get("metrics")) or {}
    rows = []
    for metric, label in METRICS:
        unit = metric_unit(metric)
        if metric.startswith("retrieval.") or (metric not in flat and metric not in limits):
            continue  # retrieval has its own table below
        value = flat.get(metric)
        st = status.get(metric, "")
        cls = {"ok": "ok", "below": "bad", "above": "bad", "n/a": "na"}.get(st, "")
        base = deltas.get(metric, {})
        lower_better = metric.startswith("latency") or metric.endswith(("invented_figure_rate", "sentences_removed"))
        rows.append(
            [
                f"{escape(label)} <span class='small'>{escape(metric)}</span>",
                f'<span class="{cls}">{fmt(value, unit)}</span>',
                escape(limits.get(metric, "")),
                fmt(base.get("baseline"), unit) if base else "–",
                _delta(base.get("delta"), unit, not lower_better) if base else "–",
            ]
        )
    shown = {metric for metric, _ in METRICS}
    for metric, limit in limits.items():  # thresholds on metrics outside the headline list still show
        if metric not in shown and not metric.startswith("retrieval."):
            unit = metric_unit(metric)
            cls = {"ok": "ok", "below": "bad", "above": "bad"}.get(status.get(metric, ""), "na")
            rows.append(
                [escape(metric), f'<span class="{cls}">{fmt(flat.get(metric), unit)}</span>', escape(limit), "–", "–"]
            )
    return _table(["metric", "value", "threshold", "baseline", "Δ"], rows)


def _retrieval(result: EvalResult) -> str:
    rows = []
    limits = {r["metric"]: r for r in (result.gate or {}).get("thresholds", [])}
    for mode, figures in result.summary.get("retrieval", {}).items():
        cells = [escape(mode)]
        for key in ("hit_at_k", "recall_at_k", "mrr"):
            metric = f"retrieval.{mode}.{key}"
            row = limits.get(metric)
            text = fmt(figures.get(key))
            if row:
                cls = "ok" if row["status"] == "ok" else "bad"
                text = f'<span class="{cls}">{text}</span> <span class="small">(≥ {fmt(row["limit"])})</span>'
            cells.append(text)
        cells.append(fmt(figures.get("n"), "count"))
        rows.append(cells)
    k = result.meta.get("k")
    note = (
        f"<p class='small'>k = {escape(str(k))}. A retrieved chunk is gold when its document matches and its text or "
        "section contains the case's gold phrase. <b>answer</b> is what the answer chain actually retrieved (after its "
        "follow-up rewrite); the three modes search the deterministic standalone question.</p>"
    )
    return note + _table(["mode", "hit@k", "recall@k", "MRR", "cases"], rows)


def _by_kind(result: EvalResult) -> str:
    rows = []
    for kind, f in result.by_kind.items():
        rows.append(
            [
                escape(kind),
                fmt(f.get("n"), "count"),
                fmt(f.get("pass_rate")),
                fmt(f.get("key_fact_coverage")),
                fmt(f.get("groundedness")),
                fmt(f.get("groundedness_strict")),
                fmt(f.get("refused")),
                fmt(f.get("hit_at_k")),
                fmt(f.get("p50_ms"), "ms"),
            ]
        )
    headers = ["kind", "cases", "passed", "key facts", "grounded", "grounded (strict)", "refused", "hit@k", "p50"]
    return _table(headers, rows)


def _checker(result: EvalResult) -> str:
    checker = result.checker
    status = checker.get("status", "")
    if status != "ok":
        return f"<p class='na'>{escape(status)}</p>"
    metrics = checker.get("metrics", {})
    labels = {
        "verifier": f"verifier — {result.meta.get('verifier', '')}, all pairs",
        "verifier_held_out": "verifier — held-out half (not used for calibration)",
        "strict": "strict content-word entailment, all pairs",
        "judge": f"judge — {result.meta.get('judge') or ''}, all pairs",
    }
    rows = []
    for key, label in labels.items():
        if key in metrics:
            f = metrics[key]
            rows.append(
                [
                    escape(label),
                    fmt(f["balanced_accuracy"]),
                    fmt(f["precision"]),
                    fmt(f["recall"]),
                    fmt(f["specificity"]),
                    fmt(f["n"], "count"),
                ]
            )
    intro = (
        f"<p class='small'>{escape(str(checker.get('pairs')))} labelled (sentence, passage, supported) pairs from "
        f"{escape(str(checker.get('path')))}. Agreement verifier ↔ strict on the pairs: "
        f"{fmt(metrics.get('verifier_strict_agreement'))}. Judge: {escape(str(result.meta.get('judge_status')))}.</p>"
    )
    errors = checker.get("verifier_errors", [])
    wrong = ""
    if errors:
        items = "".join(
            f"<li><code>{escape(e['id'])}</code> labelled {'supported' if e['supported'] else 'unsupported'}: "
            f"{escape(e['sentence'])}</li>"
            for e in errors
        )
        wrong = f"<details><summary>Pairs the verifier gets wrong ({len(errors)})</summary><ul>{items}</ul></details>"
    table = _table(["grader", "balanced accuracy", "precision", "recall", "specificity", "pairs"], rows)
    return intro + table + wrong


def _drafts(result: EvalResult) -> str:
    drafts = result.drafts
    status = drafts.get("status", "")
    if status != "ok":
        return f"<p class='na'>{escape(status)}</p>"
    rows = [
        [
            escape(label),
            fmt(drafts.get(key)),
        ]
        for key, label in (
            ("pass_rate", "drafts passed"),
            ("outcome_coverage", "outcome coverage"),
            ("invented_figure_rate", "figures invented (share of all figures in drafts)"),
            ("drafts_with_invented_figure", "drafts with an invented figure"),
            ("citation_validity", "citation validity"),
            ("within_word_limit", "within the word limit"),
        )
    ]
    return _table(["metric", "value"], rows) + "".join(_draft_detail(d) for d in result.draft_cases)


def _draft_detail(d: DraftResult) -> str:
    cls = "passed" if d.passed else "failed"
    verdict = "pass" if d.passed else "fail"
    reasons = "".join(f"<li>{escape(r)}</li>" for r in d.reasons)
    cites = "".join(
        f"<li>[{escape(str(c.get('n', '')))}] {escape(str(c.get('section', c.get('doc_id', ''))))}"
        f"<blockquote>{escape(str(c.get('quote', '')))}</blockquote></li>"
        for c in d.citations
    )
    return (
        f'<details class="{cls}"{" open" if not d.passed else ""}><summary>{escape(d.id)} '
        f"<span class='tag'>{verdict} · {d.word_count} / {escape(str(d.word_limit))} words</span></summary>"
        f"<p class='small'>Request</p><pre>{escape(_json(d.request))}</pre>"
        f"<ul class='reasons'>{reasons}</ul><p class='small'>Draft</p><pre>{escape(d.text)}</pre>"
        f"<p class='small'>Outcomes covered: {escape(', '.join(d.outcomes_covered) or 'none')} of "
        f"{escape(', '.join(d.outcomes_expected) or 'none')}; flags: {escape('; '.join(d.flags) or 'none')}</p>"
        f"<ol>{cites}</ol></details>"
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def _comparison(result: EvalResult) -> str:
    comparison = (result.gate or {}).get("comparison")
    if not comparison:
        return "<p class='na'>No baseline given (pass --baseline evals/baseline-BACKEND.json).</p>"
    meta = comparison.get("baseline_meta", {})
    warn = "".join(f"<p class='warn'>{escape(w)}</p>" for w in comparison.get("warnings", []))
    head = (
        f"<p class='small'>Baseline: backend {escape(str(meta.get('backend')))}, {escape(str(meta.get('date')))}, "
        f"commit {escape(str(meta.get('commit')))}. "
        f"<span class='bad'>{len(comparison['regressed'])} regressed</span> · "
        f"<span class='ok'>{len(comparison['improved'])} improved</span>.</p>{warn}"
    )
    rows = []
    for row in comparison["cases"] + comparison.get("draft_cases", []):
        if row["status"] == "same":
            continue
        was = "–" if row["was_passed"] is None else ("pass" if row["was_passed"] else "fail")
        rows.append(
            (
                row["status"],
                f"<tr class='{row['status']}'><td><a href='#case-{escape(row['id'])}'>{escape(row['id'])}</a></td>"
                f"<td>{escape(row.get('kind', 'draft'))}</td><td>{escape(row['status'])}</td><td>{was}</td>"
                f"<td>{'pass' if row['passed'] else 'fail'}</td></tr>",
            )
        )
    if not rows:
        return head + "<p>Every case has the same outcome as in the baseline.</p>"
    order = {"regressed": 0, "improved": 1, "new": 2}
    body = "".join(html for _, html in sorted(rows, key=lambda r: order.get(r[0], 3)))
    return (
        head
        + "<table><thead><tr><th>case</th><th>kind</th><th>change</th><th>baseline</th><th>now</th></tr></thead>"
        + f"<tbody>{body}</tbody></table>"
    )


def _sentence_html(s: Any, judged: bool) -> str:
    agree = s.verifier == s.strict and (s.judge is None or s.judge == s.verifier)
    cls = "supported" if s.verifier and agree else "unsupported" if not s.verifier else "disputed"

    def badge(name: str, ok: bool | None) -> str:
        if ok is None:
            return ""
        return f"<span class='badge {'b-ok' if ok else 'b-bad'}'>{name} {'✓' if ok else '✗'}</span>"

    cites = "".join(f"[{n}]" for n in s.citations) or "<span class='bad'>no citation</span>"
    judge = badge("judge", s.judge) if judged else ""
    return (
        f"<div class='sentence {cls}'>{escape(s.text)} <span class='small'>{cites} · score {s.score:.2f}</span>"
        f"{badge('verifier', s.verifier)}{badge('strict', s.strict)}{judge}</div>"
    )


def _case_detail(case: CaseResult, comparison_status: str | None, judged: bool) -> str:
    cls = "passed" if case.passed else "failed"
    verdict = "pass" if case.passed else "fail"
    tag = f"{escape(case.kind)} · {verdict}"
    if comparison_status and comparison_status != "same":
        tag += (
            f" · <span class='{'bad' if comparison_status == 'regressed' else 'ok'}'>{escape(comparison_status)}</span>"
        )
    if case.refused:
        tag += " · refused"
    parts = [f"<p><b>Question:</b> {escape(case.question)}</p>"]
    if case.history:
        turns = "".join(
            f"<li><b>{escape(t.get('role', ''))}</b>: {escape(str(t.get('content', '')))}</li>" for t in case.history
        )
        parts.append(f"<p class='small'>History</p><ol>{turns}</ol>")
    if case.standalone_question:
        parts.append(f"<p class='small'>Standalone question: {escape(case.standalone_question)}</p>")
    if case.reasons:
        parts.append("<ul class='reasons'>" + "".join(f"<li>{escape(r)}</li>" for r in case.reasons) + "</ul>")
    if case.refused or not case.sentences:
        parts.append(f"<p class='small'>Answer</p><pre>{escape(case.answer)}</pre>")
    else:
        parts.append("<p class='small'>Answer, sentence by sentence</p>")
        parts.extend(_sentence_html(s, judged) for s in case.sentences)
    for removed in case.removed:
        parts.append(f"<div class='sentence removed' title='removed by the verifier'>{escape(removed)}</div>")
    if case.citations:
        items = "".join(
            f"<li value='{int(c.get('n', 0))}'><b>{escape(str(c.get('title', '')))}</b> › "
            f"{escape(str(c.get('section', '')))}"
            f"<blockquote>{escape(str(c.get('quote', '')))}</blockquote></li>"
            for c in case.citations
        )
        parts.append(f"<p class='small'>Citations</p><ol>{items}</ol>")
    if case.key_facts:
        facts = "".join(
            f"<li class='{'ok' if ok else 'bad'}'>{'✓' if ok else '✗'} {escape(' / '.join(alts))}</li>"
            for alts, ok in zip(case.key_facts, case.facts_found or [False] * len(case.key_facts), strict=True)
        )
        parts.append(f"<p class='small'>Key facts</p><ul>{facts}</ul>")
    if case.retrieval:
        rows = [
            [
                escape(mode),
                fmt(r.hit),
                fmt(r.recall),
                f"{r.rr:.2f}",
                escape(", ".join(map(str, r.gold_ranks)) or "none"),
                "<br>".join(escape(x) for x in r.retrieved),
            ]
            for mode, r in case.retrieval.items()
        ]
        ranks = "; ".join(
            f"{mode}: {', '.join(map(str, r.gold_ranks)) or 'none'}" for mode, r in case.retrieval.items()
        )
        table = _table(["mode", "hit", "recall", "RR", "gold at rank", "retrieved"], rows, numeric_to=5)
        parts.append(
            f"<details><summary class='small'>Retrieval — gold at rank {escape(ranks)}</summary>{table}</details>"
        )
    if case.latency_ms is not None:
        timings = ", ".join(f"{k} {v:,.0f} ms" for k, v in case.timings_ms.items())
        parts.append(f"<p class='small'>{escape(timings)}</p>")
    return (
        f'<details id="case-{escape(case.id)}" class="{cls}"{" open" if not case.passed else ""}>'
        f"<summary>{escape(case.id)} <span class='tag'>{tag}</span> — {escape(case.question[:110])}</summary>"
        f"{''.join(parts)}</details>"
    )


def _index_contents(meta: dict) -> str:
    """The run's uploaded documents and distractors for the summary line ("" when it had neither)."""
    parts = []
    if meta.get("documents"):
        names = ", ".join(f"{d['id']} ({d['chunks']} chunks)" for d in meta["documents"])
        parts.append(f" · uploaded documents: {escape(names)}")
    if meta.get("distractors"):
        parts.append(f" · distractors: {meta['distractors']['chunks']} chunks of off-topic documentation")
    return "".join(parts)


def render_html(result: EvalResult) -> str:
    """The whole report as one HTML string."""
    meta = result.meta
    comparison = (result.gate or {}).get("comparison") or {}
    statuses = {row["id"]: row["status"] for row in comparison.get("cases", [])}
    judged = meta.get("judge") is not None
    failed = [c for c in result.cases if not c.passed]
    passed = [c for c in result.cases if c.passed]
    summary_line = (
        f"backend <b>{escape(str(meta.get('backend')))}</b> · {meta.get('cases')} cases"
        f"{' (stratified subset, --limit ' + escape(str(meta.get('limit'))) + ')' if meta.get('limit') else ''} · "
        f"k = {escape(str(meta.get('k')))} · {escape(str(meta.get('date')))} · "
        f"commit {escape(str(meta.get('commit')))} · "
        f"{escape(str(meta.get('duration_s')))} s · verifier {escape(str(meta.get('verifier')))} · "
        f"judge {escape(str(meta.get('judge') or 'none'))}{_index_contents(meta)}"
    )
    body = [
        f"<h1>Public Value Assistant — eval report ({escape(str(meta.get('backend')))})</h1>",
        f"<p class='meta'>{summary_line}</p>",
        _gate_section(result),
        "<h2>Summary</h2>",
        _headline(result),
        "<h2>Retrieval</h2>",
        _retrieval(result),
        "<h2>By kind</h2>",
        _by_kind(result),
        "<h2>Graders on the labelled pairs</h2>",
        _checker(result),
        "<h2>Drafting</h2>",
        _drafts(result),
        "<h2>Compared with the baseline</h2>",
        _comparison(result),
        f"<h2>Cases that fail ({len(failed)})</h2>",
        "".join(_case_detail(c, statuses.get(c.id), judged) for c in failed) or "<p>None.</p>",
        f"<h2>Cases that pass ({len(passed)})</h2>",
        "".join(_case_detail(c, statuses.get(c.id), judged) for c in passed) or "<p>None.</p>",
        "<p class='small'>Sentence colours: green = supported by its cited passages; red (wavy) = the verifier "
        "rejects it; yellow = the verifier accepts it but the strict content-word check (or the judge) does not; "
        "grey struck-through = written by the model and removed by the answer chain as unsupported.</p>",
    ]
    title = f"pva eval — {meta.get('backend')}"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(str(title))}</title>"
        f"<style>{CSS}</style></head><body><main>{''.join(body)}</main></body></html>"
    )
