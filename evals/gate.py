"""The gate: thresholds from one config file and a per-case comparison with a committed baseline.

A run fails the gate when a metric is below its ``min`` (or above its ``max``) in ``evals/thresholds.yaml``
for the backend, or when a case that passed in the baseline fails now. Metrics are named by their dotted
path in the results (``answers.groundedness``, ``retrieval.hybrid.mrr``, ``checker.verifier.balanced_accuracy``);
a metric a run does not produce (drafting skipped, no judge) is reported as "n/a" and does not fail the gate.

A baseline is the trimmed result of a reference run (:func:`make_baseline`): its summary and, per case,
pass/fail with the few figures a comparison needs. Case-level comparison is what catches a regression that
an average hides: one question that used to be answered and now is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from evals import metrics as m
from evals.results import EvalResult
from evals.runner import DEFAULT_RULES

THRESHOLDS = Path(__file__).parent / "thresholds.yaml"
BASELINE_FIELDS = ("kind", "passed", "refused", "coverage", "groundedness", "reasons")


def load_thresholds(backend: str, path: Path | str = THRESHOLDS) -> dict[str, Any]:
    """The thresholds for ``backend``: the file's ``defaults`` overlaid with ``backends.<backend>``.

    Returns ``{"case": {...rules...}, "min": {metric: value}, "max": {metric: value}}``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"thresholds file not found: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with 'defaults' and 'backends'")
    defaults = data.get("defaults") or {}
    specific = (data.get("backends") or {}).get(backend) or {}
    merged: dict[str, Any] = {"case": {**DEFAULT_RULES}, "min": {}, "max": {}}
    for layer in (defaults, specific):
        for key in ("case", "min", "max"):
            value = layer.get(key) or {}
            if not isinstance(value, dict):
                raise ValueError(f"{path}: '{key}' must be a mapping")
            merged[key].update(value)
    return merged


def check_thresholds(flat: dict[str, float | None], thresholds: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per threshold: metric, bound, limit, value and status (``ok`` / ``below`` / ``above`` / ``n/a``)."""
    rows = []
    for bound in ("min", "max"):
        for metric, limit in (thresholds.get(bound) or {}).items():
            value = flat.get(metric)
            if value is None:
                status = "n/a"
            elif bound == "min":
                status = "ok" if value >= float(limit) - 1e-9 else "below"
            else:
                status = "ok" if value <= float(limit) + 1e-9 else "above"
            rows.append({"metric": metric, "bound": bound, "limit": float(limit), "value": value, "status": status})
    return rows


def make_baseline(result: EvalResult) -> dict[str, Any]:
    """The part of a result a later run is compared with: meta, summary, per-kind figures, per-case outcome."""
    return {
        "meta": {key: result.meta.get(key) for key in ("backend", "cases", "limit", "k", "verifier", "date", "commit")},
        "summary": result.summary,
        "by_kind": result.by_kind,
        "checker": {"metrics": result.checker.get("metrics", {})},
        "drafts": result.drafts,
        "cases": {c.id: {field: getattr(c, field) for field in BASELINE_FIELDS} for c in result.cases},
        "draft_cases": {d.id: {"passed": d.passed, "reasons": d.reasons} for d in result.draft_cases},
    }


def load_baseline(path: Path | str) -> dict[str, Any]:
    """A baseline file (or a full results JSON, whose case list is indexed by id)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"baseline not found: {path} (write one with `pva eval --write-baseline {path}`)")
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("cases", "draft_cases"):
        if isinstance(data.get(key), list):
            data[key] = {c["id"]: c for c in data[key]}
    return data


def compare(result: EvalResult, baseline: dict[str, Any]) -> dict[str, Any]:
    """Per case ``improved`` / ``regressed`` / ``same`` / ``new`` against the baseline, and metric deltas.

    Cases only in the baseline are ignored (a subset run); a case is regressed when it passed there and fails
    now, improved the other way round.
    """
    before = baseline.get("cases") or {}
    rows = []
    for case in result.cases:
        old = before.get(case.id)
        if old is None:
            status = "new"
        elif old.get("passed") and not case.passed:
            status = "regressed"
        elif not old.get("passed") and case.passed:
            status = "improved"
        else:
            status = "same"
        rows.append(
            {
                "id": case.id,
                "kind": case.kind,
                "status": status,
                "was_passed": None if old is None else bool(old.get("passed")),
                "passed": case.passed,
                "was_coverage": None if old is None else old.get("coverage"),
                "coverage": case.coverage,
                "was_reasons": [] if old is None else old.get("reasons", []),
            }
        )
    old_drafts = baseline.get("draft_cases") or {}
    draft_rows = []
    for draft in result.draft_cases:
        old = old_drafts.get(draft.id)
        was = None if old is None else bool(old.get("passed"))
        status = (
            "new"
            if was is None
            else "regressed"
            if was and not draft.passed
            else "improved"
            if draft.passed and not was
            else "same"
        )
        draft_rows.append({"id": draft.id, "status": status, "was_passed": was, "passed": draft.passed})
    now_flat = result.flat_metrics()
    then_flat = m.flatten(
        {
            **(baseline.get("summary") or {}),
            "checker": (baseline.get("checker") or {}).get("metrics", {}),
            "drafts": baseline.get("drafts") or {},
        }
    )
    deltas = {
        name: {
            "baseline": then_flat.get(name),
            "now": value,
            "delta": None if value is None or then_flat.get(name) is None else value - then_flat[name],
        }
        for name, value in now_flat.items()
    }
    regressed = [r["id"] for r in rows + draft_rows if r["status"] == "regressed"]
    improved = [r["id"] for r in rows + draft_rows if r["status"] == "improved"]
    base_meta = baseline.get("meta") or {}
    warnings = []
    if base_meta.get("backend") and base_meta.get("backend") != result.meta.get("backend"):
        warnings.append(
            f"baseline was made with backend '{base_meta.get('backend')}', this run used '{result.meta.get('backend')}'"
        )
    return {
        "cases": rows,
        "draft_cases": draft_rows,
        "metrics": deltas,
        "regressed": regressed,
        "improved": improved,
        "baseline_meta": base_meta,
        "warnings": warnings,
    }


def apply_gate(
    result: EvalResult,
    thresholds: dict[str, Any] | None = None,
    baseline: dict[str, Any] | None = None,
    baseline_path: str | None = None,
) -> bool:
    """Check thresholds and compare with the baseline; store the outcome in ``result.gate``; True if it passes."""
    rows = check_thresholds(result.flat_metrics(), thresholds or {})
    failures = [r for r in rows if r["status"] in ("below", "above")]
    comparison = compare(result, baseline) if baseline is not None else None
    regressed = comparison["regressed"] if comparison else []
    passed = not failures and not regressed
    reasons = [
        f"{r['metric']} = {r['value']:.3f} is {r['status']} the {r['bound']} of {r['limit']:g}" for r in failures
    ]
    reasons += [f"case {case_id} regressed against the baseline" for case_id in regressed]
    result.gate = {
        "passed": passed,
        "thresholds": rows,
        "comparison": comparison,
        "baseline": baseline_path,
        "reasons": reasons,
    }
    return passed
