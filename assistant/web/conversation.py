"""Conversations kept in the user's browser: save, list and reopen them, and export one as Markdown or Word."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docx import Document

from assistant.config import Settings, get_settings
from assistant.web.chat import clean_history, source_line, turn_text
from assistant.web.draft_form import prune_old_drafts

MAX_SAVED = 20
"""Conversations kept per browser, newest first (the browser's storage is small)."""

TITLE_CHARS = 70
EXPORT_TITLE = "Conversation with the Public Value Assistant"

Conversation = dict[str, Any]
"""``{"id", "title", "updated", "messages", "turns"}``: the chat as shown, and its answered turns."""


def browser_secret(settings: Settings | None = None) -> str:
    """The key the browser's saved conversations are encrypted with, kept in the data dir so they survive
    a restart of the app (a new key would make every saved conversation unreadable)."""
    path = (settings or get_settings()).data_dir / "browser-state.key"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        path.touch(mode=0o600)
        path.write_text(key, encoding="utf-8")
        return key


def conversation_title(messages: Sequence[Mapping[str, Any]]) -> str:
    """A conversation's name: the start of its first question."""
    first = next((m["content"] for m in clean_history(messages) if m["role"] == "user"), "")
    first = " ".join(first.split())
    return first if len(first) <= TITLE_CHARS else f"{first[:TITLE_CHARS].rstrip()}…"


def save_conversation(
    saved: Sequence[Conversation] | None,
    conversation_id: str | None,
    messages: Sequence[Mapping[str, Any]] | None,
    turns: Sequence[Mapping[str, Any]] | None,
) -> tuple[list[Conversation], str | None]:
    """Store the current chat in the saved list (newest first, at most :data:`MAX_SAVED`): (list, its id)."""
    kept = [c for c in saved or [] if isinstance(c, Mapping) and c.get("id")]
    if not messages:
        return kept, conversation_id
    conversation_id = conversation_id or uuid.uuid4().hex
    current: Conversation = {
        "id": conversation_id,
        "title": conversation_title(messages) or "Conversation",
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "messages": list(messages),
        "turns": list(turns or []),
    }
    others = [c for c in kept if c["id"] != conversation_id]
    return [current, *others][:MAX_SAVED], conversation_id


def conversation_choices(saved: Sequence[Conversation] | None) -> list[tuple[str, str]]:
    """(label, id) of each saved conversation, newest first: its title and when it was last used."""
    return [
        (f"{c.get('title', 'Conversation')} · {str(c.get('updated', ''))[:16].replace('T', ' ')}", c["id"])
        for c in saved or []
        if isinstance(c, Mapping) and c.get("id")
    ]


def find_conversation(saved: Sequence[Conversation] | None, conversation_id: str | None) -> Conversation | None:
    """The saved conversation with this id, or ``None``."""
    return next((c for c in saved or [] if isinstance(c, Mapping) and c.get("id") == conversation_id), None)


def reopen(saved: Sequence[Conversation] | None, conversation_id: str | None) -> tuple[list, list, str | None]:
    """(messages, turns, id) of the saved conversation to show: the latest when no id is given (as after a
    reload), nothing when there is none or the id is unknown."""
    found = find_conversation(saved, conversation_id) if conversation_id else next(iter(saved or []), None)
    if not isinstance(found, Mapping):
        return [], [], None
    return list(found.get("messages") or []), list(found.get("turns") or []), found["id"]


@dataclass(frozen=True)
class ConversationView:
    """What follows the chat: the open conversation's id, the text “Copy answer” copies, its downloads (after the
    first answer) and the list of saved conversations."""

    conversation_id: str | None
    answered: bool
    copy_text: str = ""
    md_path: str | None = None
    docx_path: str | None = None
    choices: list[tuple[str, str]] | None = None


def conversation_view(
    saved: Sequence[Conversation] | None,
    conversation_id: str | None,
    turns: Sequence[Mapping[str, Any]] | None,
    out_dir: Path,
) -> ConversationView:
    """The view of the open conversation, its downloads written under ``out_dir`` (see :func:`export_conversation`)."""
    md_path, docx_path = export_conversation(turns, out_dir)
    return ConversationView(
        conversation_id=conversation_id,
        answered=bool(turns),
        copy_text=turn_text(turns[-1]) if turns else "",
        md_path=md_path,
        docx_path=docx_path,
        choices=conversation_choices(saved),
    )


# ----------------------------------------------------------------------------------------------- export


def conversation_markdown(turns: Sequence[Mapping[str, Any]], title: str = EXPORT_TITLE) -> str:
    """The answered questions of a conversation as Markdown: each question, its answer, its numbered sources."""
    lines = [f"# {title}", ""]
    for number, turn in enumerate(turns, 1):
        lines += [f"## {number}. {' '.join(str(turn.get('question', '')).split())}", "", str(turn.get("answer", ""))]
        citations = list(turn.get("citations") or [])
        if citations:
            lines += ["", "**Sources**", "", *(f"- {source_line(c)}" for c in citations)]
        lines.append("")
    return "\n".join(lines)


def conversation_docx(turns: Sequence[Mapping[str, Any]], path: Path, title: str = EXPORT_TITLE) -> Path:
    """The conversation as a Word document (built-in styles only), written at ``path``."""
    document = Document()
    document.core_properties.title = title
    document.add_heading(title, level=0)
    for number, turn in enumerate(turns, 1):
        document.add_heading(f"{number}. {' '.join(str(turn.get('question', '')).split())}", level=1)
        for paragraph in str(turn.get("answer", "")).split("\n\n"):
            document.add_paragraph(paragraph.strip())
        citations = list(turn.get("citations") or [])
        if citations:
            document.add_heading("Sources", level=2)
            for citation in citations:
                document.add_paragraph(source_line(citation), style="List Bullet")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def export_conversation(turns: Sequence[Mapping[str, Any]] | None, out_dir: Path) -> tuple[str | None, str | None]:
    """Write the conversation as ``.md`` and ``.docx`` in a new folder under ``out_dir``: (md path, docx path).

    Nothing is written (``None, None``) before the first answer; folders older than a day are deleted.
    """
    if not turns:
        return None, None
    prune_old_drafts(Path(out_dir))
    folder = Path(out_dir) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    md_path = folder / "conversation.md"
    md_path.write_text(conversation_markdown(turns), encoding="utf-8")
    docx_path = conversation_docx(turns, folder / "conversation.docx")
    return str(md_path), str(docx_path)
