"""The Chat tab's logic: render an answer and its citations as safe HTML, stream answers, store feedback.

Everything that came from a user, a model or a document is HTML-escaped before it is shown. Citations are numbered
footnotes, each a ``<details id="cite-<message>-<n>">`` element that opens to the section path and the quoted
passage; each ``[n]`` in the text links to its footnote. Sentences the verifier could not support are wrapped in
``<mark class="pva-unsupported">`` with a ⚠ and a note.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from assistant.config import Settings, get_settings
from assistant.feedback import record_feedback
from assistant.text import LIST_ITEM
from assistant.types import Answer, Citation, message_text
from assistant.web.errors import user_error_message

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

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

_TAG = re.compile(r"<[^>]+>")


# ----------------------------------------------------------------------------------------------- history


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
        text = plain_answer_text(text) if role == "assistant" else html.unescape(text)
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


# ----------------------------------------------------------------------------------------------- rendering


def _source_link(source: str) -> str:
    if source.startswith(("http://", "https://")):
        url = html.escape(source, quote=True)
        host = html.escape(urlparse(source).hostname or "link")
        return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{host}</a>'
    return html.escape(Path(source).name) if source else ""


def citation_anchor(message: int | None, n: int) -> str:
    """The id of footnote ``n`` of the chat message at ``message`` (unique within a conversation)."""
    return f"cite-{message if message is not None else 0}-{n}"


def render_citation(citation: Citation, message: int | None = None) -> str:
    """One footnote: ``[n] framework`` that opens to the section path and the quoted passage (all escaped)."""
    title, section = html.escape(citation.title), html.escape(citation.section)
    source = _source_link(citation.source)
    source_line = f" · Source: {source}" if source else ""
    anchor = citation_anchor(message, citation.n)
    return (
        f'<details class="pva-citation" id="{anchor}" data-n="{citation.n}">'
        f"<summary><b>[{citation.n}]</b> {title}</summary>"
        f'<div class="pva-section">Section: {section}</div>'
        f'<blockquote class="pva-quote">{html.escape(citation.quote)}</blockquote>'
        f'<div class="pva-framework"><small>Framework: {title}{source_line}</small></div>'
        "</details>"
    )


def render_citations(citations: Sequence[Citation], message: int | None = None) -> str:
    """The footnotes block under an answer (empty when there is nothing to cite)."""
    if not citations:
        return ""
    items = "".join(render_citation(c, message) for c in citations)
    return f"{CITATIONS_MARKER}<b>Sources</b>{items}</div>"


def _marks(numbers: Sequence[int], message: int | None) -> str:
    return "".join(
        f'<sup class="pva-ref"><a href="#{citation_anchor(message, n)}" title="Open source {n}">[{n}]</a></sup>'
        for n in numbers
    )


def render_answer_text(answer: Answer, message: int | None = None) -> str:
    """The answer body with citation marks (links to the footnotes of the chat message at ``message``),
    unsupported sentences highlighted, lists kept as lists."""
    if not answer.sentences:
        return html.escape(answer.answer)
    lines: list[str] = []
    for sentence in answer.sentences:
        is_item = sentence.text.startswith(LIST_ITEM)
        text = html.escape(sentence.text.removeprefix(LIST_ITEM))
        if not sentence.supported:
            text = (
                f'<mark class="pva-unsupported" title="Not supported by the cited passages: check it">⚠ {text}</mark>'
            )
        text = f"{text} {_marks(sentence.citations, message)}".rstrip()
        if is_item:
            if lines and not lines[-1].startswith(LIST_ITEM):
                lines.append("")
            lines.append(f"{LIST_ITEM}{text}")
        elif lines and lines[-1] and not lines[-1].startswith(LIST_ITEM):
            lines[-1] = f"{lines[-1]} {text}"
        else:
            if lines:
                lines.append("")
            lines.append(text)
    return "\n".join(lines).strip()


def removed_count(answer: Answer) -> int:
    """How many sentences strict grounding removed from ``answer``."""
    return max(answer.grounding.total - len(answer.sentences), 0) if answer.sentences else 0


def render_answer(answer: Answer, message: int | None = None) -> str:
    """The whole assistant message at position ``message`` of the chat: body, notes about unverified sentences,
    then the footnotes."""
    if answer.refused:
        return html.escape(answer.answer)
    parts = [render_answer_text(answer, message)]
    if any(not s.supported for s in answer.sentences):
        parts.append(f'<p class="pva-note">{UNSUPPORTED_NOTE}</p>')
    removed = removed_count(answer)
    if removed:
        parts.append(
            f'<p class="pva-note">{removed} sentence(s) were left out because the cited passages did not '
            "support them.</p>"
        )
    footnotes = render_citations(answer.citations, message)
    if footnotes:
        parts.append(footnotes)
    return "\n\n".join(parts)


def source_line(citation: Mapping[str, Any]) -> str:
    """One numbered source as plain text: ``[n] framework — section: “quote”``, then its link when it has one."""
    title, section, quote = (citation.get(key, "") for key in ("title", "section", "quote"))
    line = f"[{citation.get('n')}] {title} — {section}: “{quote}”"
    source = str(citation.get("source") or "")
    return f"{line} {source}" if source.startswith(("http://", "https://")) else line


def answer_as_text(answer: str, citations: Sequence[Mapping[str, Any]]) -> str:
    """An answer as clean text: its words with the [n] markers, then the numbered sources (no HTML)."""
    if not citations:
        return answer
    sources = "\n".join(source_line(c) for c in citations)
    return f"{answer}\n\nSources:\n{sources}"


def answer_markdown(answer: Answer) -> str:
    """The answer as plain text with a numbered source list (for the API; no HTML)."""
    if answer.refused:
        return answer.answer
    return answer_as_text(answer.answer, [c.model_dump(mode="json") for c in answer.citations])


def turn_text(turn: Mapping[str, Any] | None) -> str:
    """What “Copy answer” copies for a chat turn: the answer and its numbered sources, as clean text."""
    if not turn:
        return ""
    return answer_as_text(str(turn.get("answer", "")), list(turn.get("citations") or []))


# ----------------------------------------------------------------------------------------------- questions


SHOWN_QUESTION_CHARS = 300
"""An over-long question is shown by its start and its length, not echoed whole."""


def question_bubble(message: str, settings: Settings | None = None) -> str:
    """The user's message as the chat shows it: escaped (shown as typed, never as HTML), and cut to its start
    with its length when it is over the question limit."""
    limit = (settings or get_settings()).max_question_chars
    text = message.strip()
    if len(text) > limit:
        text = f"{text[:SHOWN_QUESTION_CHARS].rstrip()}… ({len(text):,} characters)"
    return html.escape(text, quote=False)


# ----------------------------------------------------------------------------------------------- answering


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
        return asdict(self)


def _turn(answer: Answer, index: int, history: list[dict[str, str]]) -> ChatTurn:
    return ChatTurn(
        index=index,
        question=answer.question,
        answer=answer.answer,
        citations=[c.model_dump(mode="json") for c in answer.citations],
        backend=answer.backend,
        refused=answer.refused,
        history=history,
    )


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
    from assistant.answer import ask_stream  # deferred: loads LangChain and Chroma (importing app stays cheap)

    settings = settings or get_settings()
    shown = _display_history(history)
    question = message_text(message)
    bubble = {"role": "user", "content": question_bubble(question, settings)}
    messages = [*shown, bubble] if question.strip() else shown
    plain_history = clean_history(history)
    streamed = ""
    try:
        events = ask_stream(
            question, plain_history, settings=settings, backend=backend, doc_ids=_doc_ids(framework), llm=llm
        )
        for event in events:
            if event.kind == "token":
                streamed += event.text
                yield [*messages, {"role": "assistant", "content": html.escape(streamed) + " ▍"}]
                continue
            if event.kind == "final" and event.answer is not None:
                if streamed:
                    checking = f"{html.escape(streamed)}\n\n{CHECKING_NOTE}"
                    yield [*messages, {"role": "assistant", "content": checking}]
                rendered = render_answer(event.answer, len(messages))
                final = [*messages, {"role": "assistant", "content": rendered}]
                if on_answer is not None:
                    on_answer(event.answer, _turn(event.answer, len(final) - 1, plain_history))
                yield final
                return
    except Exception as exc:  # every failure becomes a readable message in the chat
        yield [*messages, {"role": "assistant", "content": html.escape(user_error_message(exc))}]


def chat_session(
    message: str,
    history: list[Any] | None,
    framework: Any,
    turns: Sequence[Mapping] | None,
    *,
    settings: Settings | None = None,
) -> Iterator[tuple[list[dict[str, Any]], list[Mapping]]]:
    """:func:`respond` for one session: (messages, turns) as it streams, the answered turn added to the turns.

    The question is shown at once, before retrieval starts.
    """
    kept = list(turns or [])
    if message.strip():
        yield [*(history or []), {"role": "user", "content": question_bubble(message, settings)}], kept
    for messages in respond(
        message, history, framework, settings=settings, on_answer=lambda _answer, turn: kept.append(turn.as_dict())
    ):
        yield messages, kept


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
    from assistant.answer import ask  # deferred: loads LangChain and Chroma (importing app stays cheap)

    answer = ask(question, None, settings=settings or get_settings(), backend=backend, doc_ids=_doc_ids(frameworks))
    return answer_markdown(answer), [c.model_dump(mode="json") for c in answer.citations], answer.refused


# ----------------------------------------------------------------------------------------------- feedback


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
        settings=settings or get_settings(),
    )
    rating_word = "“helpful”" if record["rating"] == "up" else "“not helpful”"
    extra = " and your comment" if record["comment"] else ""
    return f"Thank you: your rating {rating_word}{extra} was saved for the maintainers."


def rate_turn(
    rating: Any,
    turns: Sequence[Mapping],
    comment: str = "",
    index: int | Sequence[int] | None = None,
    *,
    user: str | None = None,
    settings: Settings | None = None,
) -> tuple[str, str]:
    """Rate the turn at ``index`` (the latest when ``None``): (message to show, the comment box's new text).

    ``index`` is the rated message's position, or [message, part] as the chat sends it for a message in parts.
    The comment is cleared once it is saved, and kept when there was nothing to rate.
    """
    if isinstance(index, Sequence):
        index = index[0] if index else None
    turn = find_turn(turns, index)
    message = give_feedback(rating, turn, comment, user=user, settings=settings)
    return message, comment if turn is None else ""
