"""The Sources tab's logic: the documents table, a document's sections, uploads and removal, the status line."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import Settings, get_settings
from assistant.services import get_services
from assistant.status import collect_status
from assistant.web.access import ADMIN_ONLY, Access, identity_line

log = logging.getLogger(__name__)

DOCUMENT_HEADERS = ["title", "document id", "chunks", "ingested (UTC)"]
PICK_A_DOCUMENT = "Pick a document to browse its sections."
PICK_TO_REMOVE = "Pick the document to remove first."
NOTHING_REMOVED = "Nothing was removed."


def framework_choices(settings: Settings | None = None) -> list[tuple[str, str]]:
    """(title, document id) pairs of the ingested documents, for the framework filter and pickers."""
    from ingest import list_documents  # deferred: loads LangChain and Chroma (importing app stays cheap)

    return [(d.title, d.doc_id) for d in list_documents(settings or get_settings())]


def documents_table(settings: Settings | None = None) -> list[list[Any]]:
    """Rows of the Sources tab's table: title, id, chunk count, when ingested."""
    from ingest import list_documents  # deferred: loads LangChain and Chroma (importing app stays cheap)

    return [
        [d.title, d.doc_id, d.chunks, d.ingested_at.replace("T", " ").replace("+00:00", "")]
        for d in list_documents(settings or get_settings())
    ]


def document_sections(doc_id: str | None, settings: Settings | None = None) -> str:
    """A document's sections in reading order, each expandable to its text (HTML, escaped)."""
    if not doc_id:
        return PICK_A_DOCUMENT
    store = get_services(settings or get_settings()).store
    found = store.get(where={"doc_id": doc_id}, include=["metadatas", "documents"])
    if not found.ids:
        return f"No document '{html.escape(doc_id)}' in the index: refresh the list."
    rows = sorted(zip(found.metadatas, found.documents, strict=True), key=lambda r: r[0].get("position", 0))
    sections: dict[str, list[str]] = {}
    for meta, text in rows:
        sections.setdefault(str(meta.get("section", "")), []).append(text or "")
    title = html.escape(str(rows[0][0].get("title", doc_id)))
    items = "".join(
        f'<details class="pva-doc-section"><summary>{html.escape(section)}</summary>'
        f'<div class="pva-doc-text">{"<br><br>".join(html.escape(t) for t in texts)}</div></details>'
        for section, texts in sections.items()
    )
    counts = f"{len(sections)} section{'s' * (len(sections) != 1)}, {len(rows)} chunk{'s' * (len(rows) != 1)}"
    return f"<h3>{title}</h3><p>{counts}.</p>{items}"


def status_line(settings: Settings | None = None) -> str:
    """The status line: active chat backend, embedding model and index size."""
    settings = settings or get_settings()
    try:
        status = collect_status(get_services(settings))
    except Exception as exc:  # a broken store must not break the page
        log.exception("status failed", exc_info=exc)
        return f"Chat backend: {settings.chat_backend} · Index: unavailable ({exc.__class__.__name__})"
    embedding = status["embedding model"]
    if embedding == "bundled":
        embedding = "bundled all-MiniLM-L6-v2"
    line = (
        f"Chat backend: **{status['chat backend']}** · Embedding model: **{embedding}** · "
        f"Index: **{status['documents']} documents, {status['chunks']} chunks**"
    )
    if status.get("interrupted ingest", "no") != "no":
        line += " · ⚠ an ingest was interrupted: upload the file again or run `pva ingest`"
    return line


def upload_documents(
    files: Sequence[Any] | None,
    *,
    user: str | None = None,
    access: Access | None = None,
    settings: Settings | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[list[str]], str]:
    """The Sources tab's upload: (per-file result rows, summary message)."""
    from ingest.uploads import ingest_uploads  # deferred: loads LangChain and Chroma (importing app stays cheap)

    access = access or Access()
    if not access.is_admin(user):
        return [], ADMIN_ONLY
    if not files:
        return [], "Choose one or more files first (PDF, Word, HTML, Markdown or text)."
    results = ingest_uploads(files, settings or get_settings(), on_progress=on_progress)
    ok = sum(r.ok for r in results)
    failed = len(results) - ok
    summary = f"{ok} file(s) ingested" + (f", {failed} failed: see the reasons in the table." if failed else ".")
    if ok:
        summary += " You can ask about them in the Chat tab now."
    return [r.row() for r in results], summary


def progress_bar(bar: Callable[..., Any]) -> Callable[[str, int, int], None]:
    """Report an upload on a progress bar called as ``bar(fraction or (done, total), desc=..., unit=...)``: it
    starts at “Checking the files”, then counts each document's chunks as they are embedded."""
    bar(0, desc="Checking the files")

    def on_progress(description: str, done: int, total: int) -> None:
        bar((done, max(total, 1)), desc=f"Embedding {description}", unit="chunks")

    return on_progress


def remove_document_action(
    doc_id: str | None,
    *,
    user: str | None = None,
    access: Access | None = None,
    settings: Settings | None = None,
) -> str:
    """Remove a document (and its uploaded copy); return what happened, in words."""
    # Deferred: these load LangChain and Chroma (importing app stays cheap).
    from ingest import list_documents, remove_document
    from ingest.uploads import remove_upload

    access = access or Access()
    settings = settings or get_settings()
    if not access.is_admin(user):
        return ADMIN_ONLY
    if not doc_id:
        return PICK_TO_REMOVE
    info = next((d for d in list_documents(settings) if d.doc_id == doc_id), None)
    removed = remove_document(doc_id, settings)
    if not removed:
        return f"No document '{doc_id}' in the index: refresh the list."
    remove_upload(doc_id, info.source if info else None, settings)
    return f"Removed '{doc_id}' ({removed} chunks). Upload the file again to bring it back."


def removal_prompt(
    doc_id: str | None,
    *,
    user: str | None = None,
    access: Access | None = None,
    settings: Settings | None = None,
) -> tuple[str, bool]:
    """The question asked before a removal, naming the document and its chunk count: (message, ask to confirm)."""
    from ingest import list_documents  # deferred: loads LangChain and Chroma (importing app stays cheap)

    if not (access or Access()).is_admin(user):
        return ADMIN_ONLY, False
    if not doc_id:
        return PICK_TO_REMOVE, False
    info = next((d for d in list_documents(settings or get_settings()) if d.doc_id == doc_id), None)
    if info is None:
        return f"No document '{html.escape(doc_id)}' in the index: refresh the list.", False
    chunks = f"{info.chunks} chunk{'s' * (info.chunks != 1)}"
    return (
        f"Remove **{html.escape(info.title)}** (`{html.escape(doc_id)}`, {chunks}) from the index? Answers will no "
        "longer cite it. A bundled framework can be brought back with “Restore the bundled frameworks”; "
        "an uploaded file must be uploaded again.",
        True,
    )


def removal_step(
    doc_id: str | None,
    *,
    user: str | None = None,
    access: Access | None = None,
    settings: Settings | None = None,
) -> tuple[str, bool, str]:
    """The first step of a removal: (question to confirm, whether to ask it, message instead of asking)."""
    prompt, ask = removal_prompt(doc_id, user=user, access=access, settings=settings)
    return (prompt, True, "") if ask else ("", False, prompt)


def restore_corpus(
    *,
    user: str | None = None,
    access: Access | None = None,
    settings: Settings | None = None,
) -> str:
    """Ingest the bundled corpus again (bringing back any framework that was removed); return what happened."""
    from ingest import ingest_paths  # deferred: loads LangChain and Chroma (importing app stays cheap)

    if not (access or Access()).is_admin(user):
        return ADMIN_ONLY
    report = ingest_paths(None, settings or get_settings())
    restored = sum(1 for f in report.files if f.ok and (f.added or f.updated))
    if report.failed:
        names = ", ".join(Path(f.path).name for f in report.failed)
        return f"⚠ Restored {restored} framework(s), but some files failed ({names}): tell a maintainer."
    if not restored:
        return "Every bundled framework is already in the index: nothing to restore."
    return f"Restored {restored} bundled framework(s): they can be cited again."


def admin_note(user: str | None, access: Access) -> str:
    """Why a user cannot change the documents (empty for those who can)."""
    if access.is_admin(user):
        return ""
    return (
        "Only administrators can add or remove documents"
        + (f" (you are logged in as **{html.escape(user)}**)" if user else "")
        + ". Ask an administrator to upload or remove one for you."
    )


@dataclass(frozen=True)
class PageState:
    """What the page shows of the index and the user: refreshed on load and after each change to the index."""

    status: str
    choices: list[tuple[str, str]]
    """(title, document id) of each document, for the pickers."""
    documents: list[list[Any]]
    identity: str
    admin_note: str
    """Why this user may not change the documents; empty when they may (then the admin area shows)."""


def page_state(user: str | None, access: Access, settings: Settings | None = None) -> PageState:
    """The status line, the documents (as choices and as a table), who is logged in, and what they may change."""
    settings = settings or get_settings()
    return PageState(
        status=status_line(settings),
        choices=framework_choices(settings),
        documents=documents_table(settings),
        identity=identity_line(user, access),
        admin_note=admin_note(user, access),
    )


def check_chosen_files(files: Sequence[Any] | None, settings: Settings | None = None) -> tuple[list[str], str]:
    """Files just put in the upload box: (the ones that can be ingested, a message naming each one refused and why)."""
    from ingest.uploads import UploadError, check_upload  # deferred: loads LangChain and Chroma

    settings = settings or get_settings()
    kept: list[str] = []
    refused: list[str] = []
    for item in files or []:
        path = str(getattr(item, "name", item))
        try:
            check_upload(path, Path(path).name, settings)
        except UploadError as exc:
            refused.append(f"**{html.escape(Path(path).name)}** was not added: {exc}.")
        else:
            kept.append(path)
    return kept, "\n\n".join(f"⚠ {line}" for line in refused)
