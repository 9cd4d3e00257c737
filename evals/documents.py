"""Put real documents into an eval index: a dataset's own documents, uploaded as a user would, and distractors.

A dataset's documents (:class:`evals.dataset.DocumentSpec`) are copied out of the Debian package that ships
them (a ``.gz`` decompressed, as a user would before uploading), named ``<id><suffix>`` and handed to
:func:`ingest.uploads.ingest_uploads`, the function behind the app's upload button. Distractors are pages of
Python's own HTML documentation (``python3-doc``): real, off-topic text of more than 1,000 chunks put into the
same index, so retrieval has to find the answer among many passages that do not hold it. Both go through the
idempotent ingest, so with the same data dir a second run embeds nothing.
"""

from __future__ import annotations

import gzip
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.config import Settings
from evals.dataset import DocumentSpec
from ingest import ingest_paths
from ingest.uploads import ingest_uploads

DISTRACTOR_DIR = Path("/usr/share/doc/python3/html/library")
DISTRACTOR_PACKAGE = "python3-doc"
DISTRACTOR_PAGES = ("os", "multiprocessing", "datetime", "ssl", "unittest", "argparse")
"""Six long reference pages of the Python library docs: about 1,300 chunks at 256 tokens."""


class DocumentsMissing(FileNotFoundError):
    """A document the eval needs is not installed; the message names the package to install."""


def _missing(path: Path, package: str | None) -> DocumentsMissing:
    how = f": install it with `apt-get install -y {package}`" if package else ""
    return DocumentsMissing(f"{path} not found{how}")


def copy_out(source: Path, target: Path, package: str | None = None) -> Path:
    """Copy ``source`` to ``target``, decompressing a ``.gz``; an unchanged target is left alone."""
    if not source.is_file():
        raise _missing(source, package)
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rb") as src:
        data = src.read()
    if not target.is_file() or target.read_bytes() != data:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return target


def upload_documents(specs: Sequence[DocumentSpec], settings: Settings) -> list[dict[str, Any]]:
    """Upload every document through :func:`ingest_uploads`; one row per document (id, chunks, message).

    Raises:
        DocumentsMissing: a document's file is not installed.
        RuntimeError: an upload failed, or came out under another document id than the dataset expects.
    """
    if not specs:
        return []
    with tempfile.TemporaryDirectory(prefix="pva-eval-upload-") as folder:
        staged = [copy_out(Path(s.path), Path(folder) / f"{s.id}{s.suffix}", s.package) for s in specs]
        results = ingest_uploads(staged, settings)
    rows = []
    for spec, result in zip(specs, results, strict=True):
        if not result.ok:
            raise RuntimeError(f"could not upload {spec.path} for the eval: {result.message}")
        if result.doc_id != spec.id:
            raise RuntimeError(f"{spec.path} was uploaded as '{result.doc_id}', not '{spec.id}' as the dataset says")
        rows.append({"id": spec.id, "path": spec.path, "chunks": result.chunks, "message": result.message})
    return rows


def ingest_distractors(
    settings: Settings, source: Path = DISTRACTOR_DIR, pages: Sequence[str] = DISTRACTOR_PAGES
) -> dict[str, Any]:
    """Ingest the distractor pages into the index at ``settings``; return how many documents and chunks.

    The pages are copied under ``<data dir>/distractors/`` as ``python-<page>.html`` (so a report names them
    for what they are); unchanged chunks are not embedded again.
    """
    folder = Path(settings.data_dir) / "distractors"
    files = [copy_out(source / f"{page}.html", folder / f"python-{page}.html", DISTRACTOR_PACKAGE) for page in pages]
    report = ingest_paths(files, settings)
    if report.failed:
        names = ", ".join(f"{f.path}: {f.error}" for f in report.failed)
        raise RuntimeError(f"could not ingest the distractors: {names}")
    return {"documents": len(files), "chunks": report.total("chunks"), "added": report.total("added")}
