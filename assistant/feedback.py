"""Thumbs up/down from the chat, kept for maintainers in ``<data dir>/feedback.jsonl``.

Why JSONL rather than SQLite: the log is append-only, read rarely (by a maintainer or the evals), and must
survive a crash mid-write. One record is one line written with a single ``write`` and ``fsync``'d, so a crash
can at worst leave a torn *last* line, which :func:`read_feedback` skips. A process-wide lock plus an advisory
file lock (``fcntl.flock``, where available) keep lines from concurrent writers — threads of the app, or a
second app process on the same data dir — from interleaving.

Each record: ``{"ts", "rating": "up"|"down", "comment", "question", "answer", "citations", "backend",
"history"}`` (plus ``"user"`` when login is on).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.config import Settings, get_settings

try:  # POSIX only; on other systems the in-process lock alone serialises writers.
    import fcntl
except ImportError:  # pragma: no cover - not on the Linux CI
    fcntl = None  # type: ignore[assignment]

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000
"""Longer comments are cut: the log is for short notes, and one huge line would slow every reader."""

_LOCK = threading.Lock()


def feedback_path(settings: Settings | None = None) -> Path:
    """Where the feedback log lives: ``<data dir>/feedback.jsonl``."""
    return (settings or get_settings()).data_dir / "feedback.jsonl"


@contextmanager
def _exclusive(handle) -> Any:
    if fcntl is not None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    try:
        yield
    finally:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def normalise_rating(rating: Any) -> Rating:
    """Accept the UI's many spellings of a rating (``True``/``"Like"``/``"👍"``/``"up"``) and return up/down."""
    if rating is True or (isinstance(rating, str) and rating.strip().lower() in {"up", "like", "liked", "👍", "+1"}):
        return "up"
    if rating is False or (
        isinstance(rating, str) and rating.strip().lower() in {"down", "dislike", "disliked", "👎", "-1"}
    ):
        return "down"
    raise ValueError(f"unknown rating {rating!r}: use 'up' or 'down'")


def record_feedback(
    rating: Any,
    *,
    question: str,
    answer: str,
    citations: Sequence[dict] | None = None,
    backend: str = "",
    history: Sequence[dict] | None = None,
    comment: str = "",
    user: str | None = None,
    settings: Settings | None = None,
) -> dict:
    """Append one feedback record (one fsync'd JSON line) and return it."""
    settings = settings or get_settings()
    record: dict[str, Any] = {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": normalise_rating(rating),
        "comment": (comment or "").strip()[:MAX_COMMENT_CHARS],
        "question": question,
        "answer": answer,
        "citations": list(citations or []),
        "backend": backend,
        "history": list(history or []),
    }
    if user:
        record["user"] = user
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    path = feedback_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, path.open("ab") as handle, _exclusive(handle):
        _repair_torn_tail(handle)
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return record


def _repair_torn_tail(handle) -> None:
    """If a crash left the file without a final newline, add one so the next record starts on its own line."""
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return
    with open(handle.name, "rb") as reader:
        reader.seek(size - 1)
        if reader.read(1) != b"\n":
            handle.write(b"\n")


def read_feedback(settings: Settings | None = None) -> list[dict]:
    """Every complete record, oldest first; a torn or corrupt line (a crash mid-write) is skipped."""
    path = feedback_path(settings)
    if not path.exists():
        return []
    records: list[dict] = []
    with path.open("rb") as handle:
        for raw in handle:
            try:
                record = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(record, dict):
                records.append(record)
    return records
