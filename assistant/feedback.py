"""Thumbs up/down from the chat, kept for maintainers in ``<data dir>/feedback.jsonl``.

Why JSONL rather than SQLite: the log is append-only, read rarely (by a maintainer or the evals), and must
survive a crash mid-write. One record is one line, appended (``O_APPEND``) with a single ``os.write`` and
``fsync``'d before :func:`record_feedback` returns, so a record it returned is on disk. A process killed inside
that write can at worst leave a torn *last* line (a record that was never acknowledged): :func:`read_feedback`
skips it, and the next write cuts it off before appending, so the earlier lines stay intact and every line of
the file is again a complete record. A process-wide lock plus an advisory file lock (``fcntl.flock``, where
available) keep lines from concurrent writers — threads of the app, or a second app process on the same data
dir — from interleaving.

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

from assistant.config import Settings

try:  # POSIX only; on other systems the in-process lock alone serialises writers.
    import fcntl
except ImportError:  # pragma: no cover - not on the Linux CI
    fcntl = None  # type: ignore[assignment]

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 2000
"""Longer comments are cut: the log is for short notes, and one huge line would slow every reader."""

_LOCK = threading.Lock()
_TAIL_BLOCK = 64 * 1024


def feedback_path(settings: Settings) -> Path:
    """Where the feedback log lives: ``<data dir>/feedback.jsonl``."""
    return settings.data_dir / "feedback.jsonl"


@contextmanager
def _exclusive(fd: int) -> Any:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)


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
    settings: Settings,
) -> dict:
    """Append one feedback record (one fsync'd JSON line) and return it."""
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
    with _LOCK:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            with _exclusive(fd):
                _repair_torn_tail(fd)
                written = 0
                while written < len(line):  # one write in practice; the loop only guards against a short write
                    written += os.write(fd, line[written:])
                os.fsync(fd)
        finally:
            os.close(fd)
    return record


def _repair_torn_tail(fd: int) -> None:
    """Make the file end with a complete line before appending (called under the file lock).

    A file that does not end with a newline was cut by a crash mid-write: the unfinished record was never
    acknowledged, so it is cut off (back to the end of the last complete line). A last line that is a whole
    JSON record without its newline (an edit by hand) is kept, and given its newline.
    """
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = size
    while start > 0:  # find the start of the last line, reading backwards in blocks
        block_start = max(0, start - _TAIL_BLOCK)
        newline = os.pread(fd, start - block_start, block_start).rfind(b"\n")
        if newline >= 0:
            start = block_start + newline + 1
            break
        start = block_start
    if _parse(os.pread(fd, size - start, start)) is not None:
        os.write(fd, b"\n")
    else:
        os.ftruncate(fd, start)
        os.fsync(fd)


def _parse(raw: bytes) -> dict | None:
    """One line as a record, or ``None`` when it is torn, corrupt or not a JSON object."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def read_feedback(settings: Settings) -> list[dict]:
    """Every complete record, oldest first; a torn or corrupt line (a crash mid-write) is skipped."""
    path = feedback_path(settings)
    if not path.exists():
        return []
    with path.open("rb") as handle:
        return [record for raw in handle if (record := _parse(raw)) is not None]
