"""Calibrate the embedding grounding checker on labelled (sentence, passage, supported) pairs.

The pairs are split deterministically into a calibration half and a held-out half by a hash of the id, so
adding a pair never moves the others. On the calibration half a grid
search picks the weight of cosine similarity vs content-word overlap and the threshold that maximise
balanced accuracy (the two labels count equally, whatever their share); ties go to the threshold furthest
from any calibration score, the least brittle choice. The held-out half then says how well that choice
generalises; figures on all pairs are printed too.

Read the held-out figure as optimistic: the checker's signals were designed while looking at the first 147
pairs. The next 30 (notes "fresh: …"), written afterwards and scored before any change, gave a balanced
accuracy of 0.72 where the held-out half then gave 0.92; their failures led to the binding and acronym
checks, and they are in the set now. New pairs written blind are the honest test of a change.

    python -m evals.calibrate            # report; compare with the constants in assistant/grounding.py
    python -m evals.calibrate --write    # also write the chosen constants into assistant/grounding.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from assistant import grounding
from assistant.config import Settings
from assistant.services import get_services

DEFAULT_PAIRS = Path(__file__).parent / "datasets" / "grounding_pairs.jsonl"
GROUNDING_MODULE = Path(__file__).resolve().parent.parent / "assistant" / "grounding.py"
WEIGHTS = [round(i * 0.05, 2) for i in range(21)]


def load_pairs(path: Path | str = DEFAULT_PAIRS) -> list[dict[str, Any]]:
    """The labelled pairs, one JSON object a line (blank lines skipped); checks the fields it relies on."""
    pairs = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        pair = json.loads(line)
        missing = {"id", "sentence", "passage", "supported"} - pair.keys()
        if missing or not isinstance(pair["supported"], bool):
            raise ValueError(f"{path}:{number}: bad pair (missing {sorted(missing)} or non-boolean 'supported')")
        pairs.append(pair)
    ids = [p["id"] for p in pairs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate ids")
    return pairs


def split_pairs(pairs: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(calibration, held_out) by the parity of sha256(id): stable, so adding pairs never moves old ones.

    The halves are not exactly equal in size or label share; balanced accuracy does not mind the latter.
    """
    calibration = [p for p in pairs if int(_hash(p["id"]), 16) % 2 == 0]
    held_out = [p for p in pairs if int(_hash(p["id"]), 16) % 2 == 1]
    return calibration, held_out


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def metrics(labels: Sequence[bool], predictions: Sequence[bool]) -> dict[str, float]:
    """Balanced accuracy, precision and recall of "supported", accuracy and the count."""
    tp = sum(1 for y, p in zip(labels, predictions, strict=True) if y and p)
    tn = sum(1 for y, p in zip(labels, predictions, strict=True) if not y and not p)
    fp = sum(1 for y, p in zip(labels, predictions, strict=True) if not y and p)
    fn = sum(1 for y, p in zip(labels, predictions, strict=True) if y and not p)
    recall = tp / (tp + fn) if tp + fn else 0.0
    specificity = tn / (tn + fp) if tn + fp else 0.0
    return {
        "balanced_accuracy": (recall + specificity) / 2,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": recall,
        "specificity": specificity,
        "accuracy": (tp + tn) / len(labels) if labels else 0.0,
        "n": float(len(labels)),
    }


def _best_threshold(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, float, float]:
    """(balanced accuracy, margin, threshold): candidates are midpoints between neighbouring scores."""
    values = sorted(set(scores))
    candidates = [0.0] + [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)] + [1.0]
    best = (-1.0, -1.0, 0.0)
    for threshold in candidates:
        ba = metrics(labels, [grounding.meets_threshold(s, threshold) for s in scores])["balanced_accuracy"]
        margin = min(abs(s - threshold) for s in scores)
        best = max(best, (round(ba, 9), round(margin, 9), threshold))
    return best


def grid_search(features: Sequence[Any], labels: Sequence[bool]) -> tuple[float, float, float]:
    """(weight, threshold, balanced accuracy) maximising balanced accuracy over :data:`WEIGHTS`."""
    best: tuple[float, float, float, float] | None = None  # (ba, margin, -|w-0.5|, ...) ordering below
    chosen = (0.5, 0.5, 0.0)
    for weight in WEIGHTS:
        scores = [f.combine(weight) for f in features]
        ba, margin, threshold = _best_threshold(scores, labels)
        key = (ba, margin, -abs(weight - 0.5), weight)
        if best is None or key > best:
            best = key
            chosen = (weight, round(threshold, 3), ba)
    return chosen


def calibrate(pairs_path: Path | str = DEFAULT_PAIRS, embeddings: Any = None) -> dict[str, Any]:
    """Fit weight and threshold on the calibration half; report metrics on held-out and all pairs.

    Returns ``weight``, ``threshold``, ``calibration`` / ``held_out`` / ``all`` metric dicts, the
    misclassified pairs per half, and the figures of the constants currently in ``assistant.grounding``.
    """
    pairs = load_pairs(pairs_path)
    checker = grounding.EmbeddingChecker(embeddings or get_services(Settings()).embeddings)
    checker.warm([p["sentence"] for p in pairs], sorted({p["passage"] for p in pairs}))  # one batched encode
    features = {p["id"]: checker.features(p["sentence"], [p["passage"]]) for p in pairs}
    calibration, held_out = split_pairs(pairs)

    weight, threshold, _ = grid_search([features[p["id"]] for p in calibration], [p["supported"] for p in calibration])

    def evaluate(subset: Sequence[dict[str, Any]], w: float, t: float) -> tuple[dict[str, float], list[dict]]:
        scores = [features[p["id"]].combine(w) for p in subset]
        predictions = [grounding.meets_threshold(s, t) for s in scores]
        wrong = [
            {"id": p["id"], "supported": p["supported"], "score": round(s, 3), "note": p.get("note", "")}
            for p, s, pred in zip(subset, scores, predictions, strict=True)
            if pred != p["supported"]
        ]
        return metrics([p["supported"] for p in subset], predictions), wrong

    result: dict[str, Any] = {"weight": weight, "threshold": threshold, "date": dt.date.today().isoformat()}
    result["pairs"] = {"all": len(pairs), "calibration": len(calibration), "held_out": len(held_out)}
    for name, subset in (("calibration", calibration), ("held_out", held_out), ("all", pairs)):
        result[name], result[f"{name}_errors"] = evaluate(subset, weight, threshold)
    current_w, current_t = grounding.EMBEDDING_WEIGHT, grounding.EMBEDDING_THRESHOLD
    result["current"] = {
        "weight": current_w,
        "threshold": current_t,
        "held_out": evaluate(held_out, current_w, current_t)[0],
        "all": evaluate(pairs, current_w, current_t)[0],
    }
    return result


_BLOCK = re.compile(
    r"(# --- calibrated constants \(written by evals/calibrate.py; do not edit by hand\) ---\n)(.*?)"
    r"(# --- end calibrated constants ---)",
    re.S,
)


def write_constants(result: dict[str, Any], module: Path = GROUNDING_MODULE) -> None:
    """Replace the calibrated-constants block of ``assistant/grounding.py`` with the chosen values."""
    held, every = result["held_out"], result["all"]
    n = result["pairs"]
    body = (
        f"# Calibrated {result['date']} on evals/datasets/grounding_pairs.jsonl ({n['calibration']} calibration / "
        f"{n['held_out']} held-out pairs).\n"
        f"# Held-out: balanced accuracy {held['balanced_accuracy']:.3f}, precision {held['precision']:.3f}, "
        f"recall {held['recall']:.3f}.\n"
        f"# All {n['all']} pairs: balanced accuracy {every['balanced_accuracy']:.3f}, "
        f"precision {every['precision']:.3f}, recall {every['recall']:.3f}.\n"
        f"EMBEDDING_WEIGHT = {result['weight']}\n"
        '"""Weight of the cosine similarity in the support score; the rest goes to content-word overlap."""\n'
        f"EMBEDDING_THRESHOLD = {result['threshold']}\n"
        '"""Support score at or above which the embedding checker counts a sentence as grounded."""\n'
    )
    text = module.read_text(encoding="utf-8")
    updated, count = _BLOCK.subn(lambda m: m.group(1) + body + m.group(3), text)
    if count != 1:
        raise RuntimeError(f"calibrated-constants block not found in {module}")
    module.write_text(updated, encoding="utf-8")


def _print_report(result: dict[str, Any]) -> None:
    console = Console() if sys.stdout.isatty() else Console(width=130)
    table = Table(title=f"Embedding grounding checker — weight {result['weight']}, threshold {result['threshold']}")
    for column in ("pairs", "n", "balanced acc.", "precision", "recall", "specificity"):
        table.add_column(column, justify="right" if column != "pairs" else "left")
    rows = [("calibration", result["calibration"]), ("held-out", result["held_out"]), ("all", result["all"])]
    current = result["current"]
    label = f"(module: w={current['weight']}, t={current['threshold']})"
    rows += [(f"held-out {label}", current["held_out"]), (f"all {label}", current["all"])]
    for name, m in rows:
        table.add_row(
            name,
            str(int(m["n"])),
            f"{m['balanced_accuracy']:.3f}",
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['specificity']:.3f}",
        )
    console.print(table)
    errors = Table(title="Held-out pairs the chosen constants get wrong")
    errors.add_column("id", no_wrap=True)
    for column in ("label", "score", "note"):
        errors.add_column(column)
    for e in result["held_out_errors"]:
        errors.add_row(e["id"], "supported" if e["supported"] else "unsupported", f"{e['score']:.3f}", e["note"])
    console.print(errors)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS, help="labelled pairs (JSONL)")
    parser.add_argument("--write", action="store_true", help="write the chosen constants into assistant/grounding.py")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of tables")
    args = parser.parse_args(argv)
    result = calibrate(args.pairs)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_report(result)
    if args.write:
        write_constants(result)
        constants = f"EMBEDDING_WEIGHT={result['weight']} EMBEDDING_THRESHOLD={result['threshold']}"
        print(f"wrote {constants} to {GROUNDING_MODULE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
