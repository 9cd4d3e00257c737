"""The logic behind the app's tabs, as plain functions: ``app.py`` only wires Gradio components to these.

Keeping it here (not in ``app.py``) means the same code is exercised by unit tests without a browser, and the
app does nothing the CLI's library functions do not: the chat calls :func:`assistant.answer.ask_stream`, the
Sources tab :mod:`ingest` and :mod:`ingest.uploads`, the Draft tab :func:`assistant.drafting.draft`.

Rendering rules, and why:

- Answers go to a ``gr.Chatbot`` as Markdown with a little HTML. Everything that came from a model or a
  document is HTML-escaped first, so a source or a reply cannot inject markup or script.
- Citations are numbered footnotes, each a ``<details>`` element: the summary names the framework, and
  opening it shows the section path and the quoted passage, so a reader can check a claim in one click.
- Sentences the verifier could not support are wrapped in ``<mark class="pva-unsupported">`` with a ⚠ and a
  note under the answer; in strict mode they were removed, and the note says how many.
- Every error a user can cause (empty or over-long question, a bad form, a disallowed upload) becomes a
  plain message saying what to do next; unexpected errors are logged and shown as a short apology, never
  as a stack trace.
"""

from __future__ import annotations

import hmac
import html
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings, get_settings
from assistant.types import Answer, Citation, message_text

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from assistant.drafting import Draft

log = logging.getLogger(__name__)

EXAMPLE_QUESTIONS = [
    "What are the principles of social value?",
    "What is the Social Value Model?",
    "How should a public body use cost benchmarking?",
    "What are the CIPFA principles of good governance?",
]
"""Shown under the chat box; each is answered by the bundled corpus (checked by the tests)."""

CITATIONS_MARKER = '<div class="pva-citations">'
"""Start of the footnotes block in an assistant message; :func:`clean_history` cuts the message there."""

UNSUPPORTED_NOTE = (
    "⚠ Highlighted sentences could not be verified against the cited passages: check them before relying on them."
)
CHECKING_NOTE = "*Checking every sentence against its sources…*"
UNEXPECTED_ERROR = (
    "⚠ Something went wrong while answering. Try again; if it keeps happening, tell a maintainer "
    "(the details are in the app's log)."
)


# ==========================================================================================================
# Chat
# ==========================================================================================================


_TAG = re.compile(r"<[^>]+>")


def plain_answer_text(rendered: str) -> str:
    """An assistant message as plain text: footnotes and notes cut off, tags removed, entities unescaped."""
    body = rendered.split(CITATIONS_MARKER, 1)[0]
    body = body.replace(CHECKING_NOTE, "")
    body = "\n".join(line for line in body.splitlines() if not line.startswith('<p class="pva-note">'))
    return html.unescape(_TAG.sub("", body)).replace("⚠ ", "").strip()


def clean_history(history: Sequence[Any] | None) -> list[dict[str, str]]:
    """Gradio chat history → ``[{"role", "content"}]`` with plain text, as the answer chain expects.

    The rendered footnotes (HTML) are dropped from assistant turns: they are not part of what was said, and
    the follow-up rewrite should see the answer text only.
    """
    out: list[dict[str, str]] = []
    for message in history or []:
        role = message.get("role") if isinstance(message, Mapping) else getattr(message, "role", None)
        content = message.get("content") if isinstance(message, Mapping) else getattr(message, "content", None)
        if role not in ("user", "assistant"):
            continue
        text = message_text(content)
        if role == "assistant":
            text = plain_answer_text(text)
        if text.strip():
            out.append({"role": role, "content": text.strip()})
    return out


def _display_history(history: Sequence[Any] | None) -> list[dict[str, Any]]:
    """The chatbot's own history, with text parts flattened back to strings so it can be sent back as is."""
    out: list[dict[str, Any]] = []
    for message in history or []:
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        parts = content if isinstance(content, list) else [content]
        if all(isinstance(p, str) or (isinstance(p, Mapping) and p.get("type", "text") == "text") for p in parts):
            content = message_text(content)
        entry = {"role": message.get("role"), "content": content}
        if message.get("metadata"):
            entry["metadata"] = message["metadata"]
        out.append(entry)
    return out


def _source_link(source: str) -> str:
    if source.startswith(("http://", "https://")):
        from urllib.parse import urlparse

        url = html.escape(source, quote=True)
        host = html.escape(urlparse(source).hostname or "link")
        return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{host}</a>'
    return html.escape(Path(source).name) if source else ""


def render_citation(citation: Citation) -> str:
    """One footnote: ``[n] framework`` that opens to the section path and the quoted passage (all escaped)."""
    title, section = html.escape(citation.title), html.escape(citation.section)
    source = _source_link(citation.source)
    source_line = f" · Source: {source}" if source else ""
    return (
        f'<details class="pva-citation" data-n="{citation.n}"><summary><b>[{citation.n}]</b> {title}</summary>'
        f'<div class="pva-section">Section: {section}</div>'
        f'<blockquote class="pva-quote">{html.escape(citation.quote)}</blockquote>'
        f'<div class="pva-framework"><small>Framework: {title}{source_line}</small></div>'
        "</details>"
    )


def render_citations(citations: Sequence[Citation]) -> str:
    """The footnotes block under an answer (empty when there is nothing to cite)."""
    if not citations:
        return ""
    items = "".join(render_citation(c) for c in citations)
    return f"{CITATIONS_MARKER}<b>Sources</b>{items}</div>"


def _marks(numbers: Sequence[int]) -> str:
    return "".join(f'<sup class="pva-ref">[{n}]</sup>' for n in numbers)


def render_answer_text(answer: Answer) -> str:
    """The answer body with citation marks, unsupported sentences highlighted, lists kept as lists."""
    if not answer.sentences:
        return html.escape(answer.answer)
    lines: list[str] = []
    for sentence in answer.sentences:
        is_item = sentence.text.startswith("- ")
        text = html.escape(sentence.text.removeprefix("- "))
        if not sentence.supported:
            text = (
                f'<mark class="pva-unsupported" title="Not supported by the cited passages: check it">⚠ {text}</mark>'
            )
        text = f"{text} {_marks(sentence.citations)}".rstrip()
        if is_item:
            if lines and not lines[-1].startswith("- "):
                lines.append("")
            lines.append(f"- {text}")
        elif lines and lines[-1] and not lines[-1].startswith("- "):
            lines[-1] = f"{lines[-1]} {text}"
        else:
            if lines:
                lines.append("")
            lines.append(text)
    return "\n".join(lines).strip()


def removed_count(answer: Answer) -> int:
    """How many sentences strict grounding removed from ``answer``."""
    return max(answer.grounding.total - len(answer.sentences), 0) if answer.sentences else 0


def render_answer(answer: Answer) -> str:
    """The whole assistant message: body, notes about unverified sentences, then the footnotes."""
    if answer.refused:
        return html.escape(answer.answer)
    parts = [render_answer_text(answer)]
    if any(not s.supported for s in answer.sentences):
        parts.append(f'<p class="pva-note">{UNSUPPORTED_NOTE}</p>')
    removed = removed_count(answer)
    if removed:
        parts.append(
            f'<p class="pva-note">{removed} sentence(s) were left out because the cited passages did not '
            "support them.</p>"
        )
    footnotes = render_citations(answer.citations)
    if footnotes:
        parts.append(footnotes)
    return "\n\n".join(parts)


def answer_markdown(answer: Answer) -> str:
    """The answer as plain Markdown with a numbered source list (for the API and copying; no HTML)."""
    if answer.refused or not answer.citations:
        return answer.answer
    sources = "\n".join(f"[{c.n}] {c.title} › {c.section}: “{c.quote}”" for c in answer.citations)
    return f"{answer.answer}\n\nSources:\n{sources}"


def _doc_ids(framework: Any) -> list[str] | None:
    if not framework:
        return None
    if isinstance(framework, str):
        return [framework]
    return [str(f) for f in framework if f] or None


@dataclass
class ChatTurn:
    """One answered question, kept per session so feedback can store what was actually shown."""

    index: int
    """Position of the assistant message in the chat history."""
    question: str
    answer: str
    citations: list[dict]
    backend: str
    refused: bool
    history: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "question": self.question,
            "answer": self.answer,
            "citations": self.citations,
            "backend": self.backend,
            "refused": self.refused,
            "history": self.history,
        }


def user_error_message(exc: Exception) -> str:
    """A one-line, actionable message for an error the user can fix, or a generic apology (logged) otherwise."""
    from assistant.answer import InvalidQuestionError

    try:
        from assistant.models.chat import ChatModelError
    except ImportError:  # pragma: no cover
        ChatModelError = RuntimeError  # noqa: N806
    if isinstance(exc, InvalidQuestionError):
        text = str(exc)
        return f"⚠ {text[:1].upper()}{text[1:]}"
    if isinstance(exc, ChatModelError):
        return f"⚠ The chat model is not available: {exc}"
    log.exception("unexpected error in the app", exc_info=exc)
    return UNEXPECTED_ERROR


def respond(
    message: str,
    history: Sequence[Any] | None,
    framework: Any = None,
    *,
    settings: Settings | None = None,
    backend: str | None = None,
    llm: BaseChatModel | None = None,
    on_answer: Callable[[Answer, ChatTurn], None] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The chat: yield the whole message list as the answer streams in, ending with the rendered answer.

    ``framework`` is a document id or a list of them (the framework filter; empty = all). ``on_answer`` is
    called with the final :class:`Answer` and its :class:`ChatTurn`, so the app can keep it for feedback.
    """
    from assistant.answer import ask_stream

    settings = settings or get_settings()
    shown = _display_history(history)
    question = message_text(message)
    messages = [*shown, {"role": "user", "content": question}] if question.strip() else shown
    plain_history = clean_history(history)
    streamed = ""
    try:
        events = ask_stream(
            question,
            plain_history,
            settings=settings,
            backend=backend,
            doc_ids=_doc_ids(framework),
            llm=llm,
        )
        for event in events:
            if event.kind == "token":
                streamed += event.text
                yield [*messages, {"role": "assistant", "content": html.escape(streamed) + " ▍"}]
                continue
            if event.kind == "final" and event.answer is not None:
                if streamed:
                    yield [
                        *messages,
                        {"role": "assistant", "content": f"{html.escape(streamed)}\n\n{CHECKING_NOTE}"},
                    ]
                answer = event.answer
                final = [*messages, {"role": "assistant", "content": render_answer(answer)}]
                if on_answer is not None:
                    turn = ChatTurn(
                        index=len(final) - 1,
                        question=answer.question,
                        answer=answer.answer,
                        citations=[c.model_dump(mode="json") for c in answer.citations],
                        backend=answer.backend,
                        refused=answer.refused,
                        history=plain_history,
                    )
                    on_answer(answer, turn)
                yield final
                return
    except Exception as exc:  # every failure becomes a readable message in the chat
        yield [*messages, {"role": "assistant", "content": html.escape(user_error_message(exc))}]


def ask_for_api(
    question: str,
    frameworks: Sequence[str] | str | None = None,
    *,
    settings: Settings | None = None,
    backend: str | None = None,
) -> tuple[str, list[dict], bool]:
    """The ``/ask`` endpoint: (answer as Markdown with its sources, citations as JSON, refused).

    Raises:
        assistant.answer.InvalidQuestionError: empty or over-long question (the message says how to fix it).
    """
    from assistant.answer import ask

    answer = ask(question, None, settings=settings or get_settings(), backend=backend, doc_ids=_doc_ids(frameworks))
    return answer_markdown(answer), [c.model_dump(mode="json") for c in answer.citations], answer.refused


# ==========================================================================================================
# Feedback
# ==========================================================================================================


def find_turn(turns: Sequence[Mapping], index: int | None = None) -> Mapping | None:
    """The turn whose assistant message is at ``index`` (the latest turn when ``index`` is ``None``)."""
    if not turns:
        return None
    if index is None:
        return turns[-1]
    for turn in reversed(turns):
        if turn.get("index") == index:
            return turn
    return None


def give_feedback(
    rating: Any,
    turn: Mapping | None,
    comment: str = "",
    *,
    user: str | None = None,
    settings: Settings | None = None,
) -> str:
    """Store a rating of ``turn`` (with the optional comment); return the message to show the user."""
    from assistant.feedback import record_feedback

    if turn is None:
        return "Ask a question first, then rate its answer."
    record = record_feedback(
        rating,
        question=str(turn.get("question", "")),
        answer=str(turn.get("answer", "")),
        citations=list(turn.get("citations") or []),
        backend=str(turn.get("backend", "")),
        history=list(turn.get("history") or []),
        comment=comment,
        user=user,
        settings=settings,
    )
    rating_word = "“helpful”" if record["rating"] == "up" else "“not helpful”"
    extra = " and your comment" if record["comment"] else ""
    return f"Thank you: your rating {rating_word}{extra} was saved for the maintainers."


# ==========================================================================================================
# Sources, status
# ==========================================================================================================


def framework_choices(settings: Settings | None = None) -> list[tuple[str, str]]:
    """(title, document id) pairs of the ingested documents, for the framework filter and pickers."""
    from ingest import list_documents

    return [(d.title, d.doc_id) for d in list_documents(settings or get_settings())]


DOCUMENT_HEADERS = ["title", "document id", "chunks", "ingested (UTC)"]


def documents_table(settings: Settings | None = None) -> list[list[Any]]:
    """Rows of the Sources tab's table: title, id, chunk count, when ingested."""
    from ingest import list_documents

    return [
        [d.title, d.doc_id, d.chunks, d.ingested_at.replace("T", " ").replace("+00:00", "")]
        for d in list_documents(settings or get_settings())
    ]


def document_sections(doc_id: str | None, settings: Settings | None = None) -> str:
    """A document's sections in reading order, each expandable to its text (HTML, escaped)."""
    from assistant.index.store import get_store

    if not doc_id:
        return "Pick a document to browse its sections."
    store = get_store(settings or get_settings())
    found = store.collection.get(where={"doc_id": doc_id}, include=["metadatas", "documents"])
    if not found["ids"]:
        return f"No document '{html.escape(doc_id)}' in the index: refresh the list."
    rows = sorted(zip(found["metadatas"], found["documents"], strict=True), key=lambda r: r[0].get("position", 0))
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
    from assistant.status import collect_status

    settings = settings or get_settings()
    try:
        status = collect_status(settings)
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


# ==========================================================================================================
# Access (optional login)
# ==========================================================================================================


@dataclass(frozen=True)
class Access:
    """Who may log in, and who may change the index. No users configured = no login, everyone may."""

    users: Mapping[str, str] = field(default_factory=dict)
    admins: frozenset[str] = frozenset()

    @property
    def enabled(self) -> bool:
        return bool(self.users)

    def check(self, username: str, password: str) -> bool:
        """Gradio's ``auth`` callable: a constant-time password comparison."""
        expected = self.users.get(username)
        return expected is not None and hmac.compare_digest(expected.encode(), (password or "").encode())

    def is_admin(self, username: str | None) -> bool:
        """May this user upload and remove documents? Everyone may when login is off."""
        return not self.enabled or (username is not None and username in self.admins)


def parse_logins(lines: Sequence[str], where: str) -> tuple[dict[str, str], set[str]]:
    """Parse ``user:password[:admin]`` entries; raise ``ValueError`` naming the bad entry and the format."""
    users: dict[str, str] = {}
    admins: set[str] = set()
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, password = line.partition(":")
        admin = password.endswith(":admin")
        if admin:
            password = password.removesuffix(":admin")
        if not sep or not name.strip() or not password:
            raise ValueError(
                f"{where}, entry {number}: expected `user:password` or `user:password:admin`, got {line[:40]!r}"
            )
        users[name.strip()] = password
        if admin:
            admins.add(name.strip())
    return users, admins


def load_access(settings: Settings | None = None) -> Access:
    """Logins from ``PVA_AUTH_FILE`` and ``PVA_AUTH_USERS``; admins from ``:admin`` entries and ``PVA_ADMIN_USERS``.

    Raises:
        ValueError: the login file is missing or has a malformed entry (the message names it).
    """
    settings = settings or get_settings()
    users: dict[str, str] = {}
    admins: set[str] = set()
    if settings.auth_file is not None:
        try:
            lines = Path(settings.auth_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(
                f"cannot read the login file {settings.auth_file} ({exc.strerror}): fix PVA_AUTH_FILE or unset it"
            ) from exc
        found, found_admins = parse_logins(lines, str(settings.auth_file))
        users.update(found)
        admins |= found_admins
    if settings.auth_users is not None:
        secret = settings.auth_users
        entries = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
        found, found_admins = parse_logins(entries.split(","), "PVA_AUTH_USERS")
        users.update(found)
        admins |= found_admins
    admins |= {name.strip() for name in settings.admin_users.split(",") if name.strip()}
    return Access(users=users, admins=frozenset(admins))


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def exposure_warning(host: str, access: Access) -> str | None:
    """The warning printed when the app is reachable from other machines with no login, else ``None``."""
    if host in LOOPBACK_HOSTS or access.enabled:
        return None
    return (
        f"warning: serving on {host} without a login: anyone who can reach this machine can read, upload and "
        "remove documents. Set PVA_AUTH_FILE (lines user:password[:admin]) to require one."
    )


ADMIN_ONLY = "Only administrators may change the documents: ask an administrator to upload or remove it for you."


def upload_documents(
    files: Sequence[Any] | None,
    *,
    user: str | None = None,
    access: Access | None = None,
    settings: Settings | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> tuple[list[list[str]], str]:
    """The Sources tab's upload: (per-file result rows, summary message)."""
    from ingest.uploads import ingest_uploads

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


def remove_document_action(
    doc_id: str | None,
    *,
    user: str | None = None,
    access: Access | None = None,
    settings: Settings | None = None,
) -> str:
    """Remove a document (and its uploaded copy); return what happened, in words."""
    from ingest import list_documents, remove_document
    from ingest.uploads import remove_upload

    access = access or Access()
    settings = settings or get_settings()
    if not access.is_admin(user):
        return ADMIN_ONLY
    if not doc_id:
        return "Pick the document to remove first."
    info = next((d for d in list_documents(settings) if d.doc_id == doc_id), None)
    removed = remove_document(doc_id, settings)
    if not removed:
        return f"No document '{doc_id}' in the index: refresh the list."
    remove_upload(doc_id, info.source if info else None, settings)
    return f"Removed '{doc_id}' ({removed} chunks). Upload the file again to bring it back."


# ==========================================================================================================
# Draft
# ==========================================================================================================


def outcome_choices() -> list[tuple[str, str]]:
    """(label, outcome id) of every Social Value Model outcome, labelled with its theme."""
    from assistant.catalogue import load_catalogue

    return [(f"{o.name} ({t.name})", o.id) for t, o in load_catalogue().all_outcomes()]


def theme_choices() -> list[tuple[str, str]]:
    """(name, theme id) of every Social Value Model theme."""
    from assistant.catalogue import load_catalogue

    return [(t.name, t.id) for t in load_catalogue().themes]


def split_lines(text: str | None) -> list[str]:
    """Non-empty lines of a multi-line box, bullet markers removed ("- 6 apprenticeships" → "6 apprenticeships")."""
    out = []
    for line in (text or "").splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line).strip()
        if line:
            out.append(line)
    return out


def draft_form_to_request(
    *,
    kind: str,
    title: str,
    buyer: str,
    supplier: str,
    description: str,
    question: str,
    themes: Sequence[str] | None,
    outcomes: Sequence[str] | None,
    commitments: Mapping[str, str],
    evidence: str,
    resources: str,
    reporting: str,
    word_limit: Any,
    tone: str,
) -> dict[str, Any]:
    """The drafting form's fields as the mapping :func:`assistant.drafting.parse_request` validates.

    Commitments typed for an outcome that is no longer ticked are ignored (the box is hidden then), so
    unticking an outcome never produces a confusing "commitments for an unchosen outcome" error.
    """
    chosen = [o for o in outcomes or [] if o]
    data: dict[str, Any] = {
        "kind": kind or "response",
        "title": title or "",
        "buyer": buyer or "",
        "supplier": supplier or None,
        "description": description or "",
        "question": question or None,
        "themes": [t for t in themes or [] if t],
        "outcomes": chosen,
        "commitments": {o: split_lines(commitments.get(o)) for o in chosen if split_lines(commitments.get(o))},
        "evidence": split_lines(evidence),
        "resources": split_lines(resources),
        "reporting": (reporting or "").strip() or None,
        "word_limit": int(word_limit) if isinstance(word_limit, float) and word_limit.is_integer() else word_limit,
        "tone": tone or "formal",
    }
    return data


@dataclass
class DraftView:
    """What the Draft tab shows: the draft, its word count against the limit, flags and the two files."""

    markdown: str
    word_count: str
    flags: str
    docx_path: str | None = None
    md_path: str | None = None
    ok: bool = True

    @property
    def files(self) -> list[str]:
        return [p for p in (self.docx_path, self.md_path) if p]


def word_count_line(draft: Draft) -> str:
    """“412 / 500 words ✓” or “620 / 500 words — 120 over the limit”."""
    if draft.over_limit:
        over = draft.word_count - draft.word_limit
        return f"⚠ **{draft.word_count} / {draft.word_limit} words** — {over} over the limit"
    return f"✓ **{draft.word_count} / {draft.word_limit} words**"


def render_flags(draft: Draft) -> str:
    """The over-claim and coverage flags, as a Markdown list a bid writer works through before submitting."""
    if not draft.flags:
        return "✓ No over-claims found: every figure, date and name comes from your input or a cited source."
    lines = ["**Check before submitting:**", ""]
    for flag in draft.flags:
        state = " — *removed from the draft*" if flag.removed else ""
        sentence = f" (in: “{flag.sentence}”)" if flag.sentence and flag.sentence != flag.text else ""
        kind = flag.kind.replace("_", " ")
        lines.append(f"- ⚠ **{kind}**: {flag.text} [{flag.where}]{state}{sentence}")
    return "\n".join(lines)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "draft"


DRAFT_MAX_AGE_S = 24 * 3600
"""Draft files are downloads, not records: they are deleted a day after they were made."""


def prune_old_drafts(out_dir: Path, max_age_s: float = DRAFT_MAX_AGE_S) -> int:
    """Delete draft folders older than ``max_age_s`` under ``out_dir``; return how many were deleted."""
    import shutil
    import time

    if not out_dir.is_dir():
        return 0
    cutoff = time.time() - max_age_s
    removed = 0
    for folder in out_dir.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def run_draft(
    form: Mapping[str, Any],
    out_dir: Path,
    *,
    settings: Settings | None = None,
    backend: str | None = None,
    llm: BaseChatModel | None = None,
) -> DraftView:
    """Draft from the form, write the .docx and .md under ``out_dir/<random>/``, and return what to show.

    Form errors come back as a message in ``markdown`` with ``ok=False`` (never an exception).
    """
    from assistant.drafting import DraftError, draft, to_docx, to_markdown

    try:
        result = draft(form, settings=settings or get_settings(), backend=backend, llm=llm)
    except DraftError as exc:
        return DraftView(markdown=f"⚠ {exc}", word_count="", flags="", ok=False)
    except Exception as exc:
        return DraftView(markdown=user_error_message(exc), word_count="", flags="", ok=False)
    prune_old_drafts(Path(out_dir))
    folder = Path(out_dir) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    name = _slug(result.title)
    markdown = to_markdown(result)
    md_path = folder / f"{name}.md"
    md_path.write_text(markdown, encoding="utf-8")
    docx_path = to_docx(result, folder / f"{name}.docx")
    return DraftView(
        markdown=markdown,
        word_count=word_count_line(result),
        flags=render_flags(result),
        docx_path=str(docx_path),
        md_path=str(md_path),
    )
