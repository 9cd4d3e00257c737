"""``pva eval --from-feedback``: turn thumbs-down feedback from the app into draft cases for review.

The app appends one JSON line per rating to ``<data_dir>/feedback.jsonl``::

    {"ts": "...", "rating": "down", "comment": "...", "question": "...", "answer": "...",
     "citations": [...], "backend": "local", "history": [...]}

Every down-vote becomes a case of kind ``review`` in ``evals/datasets/from-feedback-<date>.jsonl``, carrying
the question, the history and (under ``feedback``) what the user saw and said. A maintainer then decides
what it is — a fact, an out-of-scope question, an injection — adds the gold evidence and key facts, and moves
it into ``questions.jsonl``. Case ids hash the timestamp and question, so running the command twice does
not duplicate a case; a down-vote without a question is counted and skipped rather than stopping the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.feedback import feedback_path, read_feedback
from evals.dataset import DATASETS_DIR, QuestionCase

REVIEW_NOTE = "set kind, gold and key_facts, then move the case to questions.jsonl"


@dataclass(frozen=True)
class FeedbackImport:
    """What an import did: the file written (or None), cases added, down-votes already there, unusable ones."""

    path: Path | None
    added: int
    existing: int
    skipped: int
    down_votes: int


def case_from_feedback(entry: dict[str, Any]) -> QuestionCase:
    """A ``review`` case from one feedback entry (raises ``ValueError`` if it has no usable question)."""
    question = str(entry.get("question") or "").strip()
    if not question:
        raise ValueError("feedback entry without a question")
    history = [
        {"role": turn["role"], "content": turn["content"]}
        for turn in entry.get("history") or []
        if isinstance(turn, dict) and turn.get("role") in ("user", "assistant") and isinstance(turn.get("content"), str)
    ]
    digest = hashlib.sha256(f"{entry.get('ts', '')}\n{question}".encode()).hexdigest()[:10]
    comment = str(entry.get("comment") or "").strip()
    return QuestionCase(
        id=f"fb-{digest}",
        kind="review",
        question=question,
        history=history,
        notes=f"thumbs-down{': ' + comment if comment else ''} — {REVIEW_NOTE}",
        feedback={
            "ts": entry.get("ts"),
            "rating": entry.get("rating"),
            "comment": comment,
            "answer": entry.get("answer"),
            "citations": entry.get("citations") or [],
            "backend": entry.get("backend"),
        },
    )


def import_feedback(settings: Settings, out_dir: Path = DATASETS_DIR, today: dt.date | None = None) -> FeedbackImport:
    """Write the down-votes in the app's feedback log as review cases; skip those already imported.

    The log is read with :func:`assistant.feedback.read_feedback` (the app's own reader, which skips a torn
    last line). Cases already present in any ``from-feedback-*.jsonl`` of ``out_dir`` are not written again;
    nothing is written when there is nothing new.
    """
    source = feedback_path(settings)
    if not source.exists():
        raise FileNotFoundError(f"no feedback yet: {source} does not exist (the app writes it on a thumbs up/down)")
    out_dir = Path(out_dir)
    known: set[str] = set()
    for existing in out_dir.glob("from-feedback-*.jsonl"):
        for line in existing.read_text(encoding="utf-8").splitlines():
            try:
                known.add(json.loads(line)["id"])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    new: list[QuestionCase] = []
    skipped = down = existing_count = 0
    for entry in read_feedback(settings):
        if str(entry.get("rating", "")).lower() != "down":
            continue
        down += 1
        try:
            case = case_from_feedback(entry)
        except ValueError:
            skipped += 1
            continue
        if case.id in known:
            existing_count += 1
            continue
        known.add(case.id)
        new.append(case)
    if not new:
        return FeedbackImport(None, 0, existing_count, skipped, down)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"from-feedback-{(today or dt.date.today()).isoformat()}.jsonl"
    with target.open("a", encoding="utf-8") as handle:
        for case in new:
            handle.write(json.dumps(case.model_dump(mode="json", exclude_none=True), ensure_ascii=False) + "\n")
    return FeedbackImport(target, len(new), existing_count, skipped, down)
