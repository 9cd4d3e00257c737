"""Documents uploaded through the app: checked, stored under ``<data dir>/uploads/`` and ingested.

An upload arrives as a temporary file with a name the browser chose, so nothing about it is trusted:

- the name is reduced to a safe base name (no folders, no ``..``, no control or shell characters), so
  ``../../etc/passwd`` is stored as ``uploads/passwd`` at most, never outside the uploads folder;
- the type is decided by the suffix, against the formats the loaders read; anything else is refused with the
  list of accepted types;
- the size is checked with ``os.path.getsize`` *before* anything is read, and the copy stops if the file grows
  past the limit while being copied, so a huge upload never fills memory or the disk;
- then the stored files go through :func:`ingest.ingest_paths`, the same path as ``pva ingest``.

Each file gets one :class:`UploadResult` with a plain message: how many chunks were ingested, or why it
failed and what to do next.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ingest  # ingest.ingest_paths is looked up at each call (tests replace it)
from assistant.config import Settings
from ingest.loaders import slugify

ALLOWED_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".md", ".txt")
"""What the Sources tab accepts (the loaders also read ``.markdown``; uploads keep to the advertised list)."""

_COPY_BLOCK = 1 << 20
MAX_NAME_CHARS = 120


class UploadError(ValueError):
    """An upload that cannot be accepted; the message says why and what to do next."""


@dataclass
class UploadResult:
    """What happened to one uploaded file."""

    name: str
    ok: bool
    message: str
    doc_id: str | None = None
    chunks: int = 0
    stored_as: str | None = None

    def row(self) -> list[str]:
        """The row of the Sources tab's result table: file, result, document id."""
        return [self.name, self.message, self.doc_id or ""]


def uploads_dir(settings: Settings) -> Path:
    """The folder uploaded documents are kept in (so a re-ingest or a maintainer can find them)."""
    return settings.data_dir / "uploads"


def safe_filename(name: str) -> str:
    """A base name safe to store: no directories, no traversal, no hidden files, only plain characters.

    The suffix is kept (lower-cased) because it decides how the file is read.
    """
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^\w\-]+", "-", stem, flags=re.UNICODE)
    stem = re.sub(r"-{2,}", "-", stem).strip(".-_")
    suffix = re.sub(r"[^a-z0-9]", "", suffix.lower())
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1] or "document"
    return f"{stem}.{suffix}" if suffix else stem


def check_upload(path: str | os.PathLike, original_name: str | None, settings: Settings) -> str:
    """Validate one upload without reading it; return the safe name to store it under.

    Raises:
        UploadError: wrong type, empty, too large, or not a file.
    """
    name = safe_filename(original_name or Path(path).name)
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadError(
            f"'{suffix or 'no extension'}' files are not accepted: upload {', '.join(ALLOWED_SUFFIXES)} "
            "(save other formats as PDF or Word first)"
        )
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise UploadError("the uploaded file could not be found on the server: upload it again") from exc
    limit = settings.max_upload_mb * 1024 * 1024
    if size > limit:
        shown = math.ceil(size / 1024 / 1024 * 10) / 10  # rounded up, so it never reads as equal to the limit
        raise UploadError(
            f"the file is {shown:.1f} MB; the limit is {settings.max_upload_mb} MB. Split it into smaller files, "
            "or ask a maintainer to ingest it with `pva ingest` or to raise the limit (PVA_MAX_UPLOAD_MB)."
        )
    if size == 0:
        raise UploadError("the file is empty: check you picked the right file and upload it again")
    return name


def store_upload(path: str | os.PathLike, name: str, settings: Settings) -> Path:
    """Copy the upload into the uploads folder in blocks, stopping if it exceeds the size limit."""
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / name).resolve()
    if target.parent != folder.resolve():  # belt and braces: safe_filename already removed any folders
        raise UploadError("the file name is not allowed: rename the file and upload it again")
    limit = settings.max_upload_mb * 1024 * 1024
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    copied = 0
    try:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            while block := src.read(_COPY_BLOCK):
                copied += len(block)
                if copied > limit:
                    raise UploadError(
                        f"the file is larger than the {settings.max_upload_mb} MB limit (PVA_MAX_UPLOAD_MB): "
                        "split it and upload again"
                    )
                dst.write(block)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _upload_name(item: object) -> tuple[str, str]:
    """(temp path, name the user gave) from whatever the UI hands over: a path, or an object with ``.name``."""
    if isinstance(item, str | os.PathLike):
        return str(item), Path(item).name
    path = getattr(item, "path", None) or getattr(item, "name", None)
    original = getattr(item, "orig_name", None) or (Path(path).name if path else "")
    if isinstance(item, dict):
        path = item.get("path") or item.get("name")
        original = item.get("orig_name") or (Path(path).name if path else "")
    if not path:
        raise UploadError("the upload has no file: pick a file and try again")
    return str(path), str(original)


def ingest_uploads(
    files: Sequence[object],
    settings: Settings,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> list[UploadResult]:
    """Check, store and ingest uploaded files; one result per file, in order. Never raises for a bad file."""
    results: list[UploadResult] = []
    accepted: list[tuple[UploadResult, Path]] = []
    for item in files or []:
        try:
            path, original = _upload_name(item)
        except UploadError as exc:
            results.append(UploadResult(name="(unnamed)", ok=False, message=f"failed: {exc}"))
            continue
        display = safe_filename(original)
        try:
            name = check_upload(path, original, settings)
            stored = store_upload(path, name, settings)
        except UploadError as exc:
            results.append(UploadResult(name=display, ok=False, message=f"failed: {exc}"))
            continue
        result = UploadResult(name=display, ok=True, message="waiting", stored_as=str(stored))
        results.append(result)
        accepted.append((result, stored))
    if not accepted:
        return results
    by_path = {str(stored): result for result, stored in accepted}
    report = ingest.ingest_paths([stored for _, stored in accepted], settings, on_progress=on_progress)
    for file_result in report.files:
        result = by_path.get(file_result.path)
        if result is None:  # pragma: no cover - ingest_paths reports each path it was given
            continue
        if file_result.ok:
            result.doc_id = file_result.doc_id
            result.chunks = file_result.chunks
            if file_result.chunks == 0:
                result.ok = False
                result.message = "failed: no text found in the file: check it is not a scanned image, then try again"
            else:
                plural = "chunk" if file_result.chunks == 1 else "chunks"
                result.message = f"ingested {file_result.chunks} {plural}"
                if not file_result.added and not file_result.updated and not file_result.removed:
                    result.message += " (unchanged: it was already in the index)"
        else:
            result.ok = False
            result.message = f"failed: {file_result.error}"
            Path(file_result.path).unlink(missing_ok=True)
    return results


def remove_upload(doc_id: str, source: str | None, settings: Settings) -> int:
    """Delete the stored copies of an uploaded document (after it is removed from the index); return how many.

    A stored file belongs to the document when it is the document's ``source`` or its name gives the same id,
    so removing a document does not leave a copy that a later re-ingest of the uploads folder would revive.
    """
    folder = uploads_dir(settings)
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and (slugify(path.stem) == doc_id or (source and str(path.resolve()) == source)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
