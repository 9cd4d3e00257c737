"""The Gradio app: Chat, Draft and Sources tabs over the same library functions as the ``pva`` CLI.

Run it with ``python app.py`` or ``pva serve`` (both call :func:`main`): the index is built from the bundled
corpus if it is missing, the models are loaded once, then the app serves on ``PVA_HOST``:``PVA_PORT``
(127.0.0.1:7860 by default). Set ``PVA_AUTH_FILE`` (lines ``user:password[:admin]``) or ``PVA_AUTH_USERS`` to
require a login; then only admins may upload or remove documents.

This file is Gradio only: the page is assembled from one builder per tab, and every behaviour lives in
:mod:`assistant.web` (plain functions, unit-tested without a browser). Importing this module is cheap — Gradio
is imported and the UI built only when :func:`build_app` runs (or ``app.demo`` is first read, for
``gradio app.py``).

Named API endpoints for ``gradio_client``: ``/chat`` (the streamed chat), ``/ask`` (question, frameworks →
answer Markdown, citations, refused), ``/draft`` (the drafting form → draft, word count, flags, files),
``/upload``, ``/remove``, ``/restore``, ``/documents``, ``/sections``, ``/status``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import assistant  # noqa: F401  (sets the offline switches, incl. GRADIO_ANALYTICS_ENABLED=False, before Gradio loads)
from assistant.config import Settings, get_settings
from assistant.web import chat, conversation, draft_form, page, sources
from assistant.web.access import Access, exposure_warning, identity_line, load_access
from assistant.web.errors import user_error_message
from assistant.web.startup import prepare, start_warm_up

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger("pva.app")

EXAMPLE_DRAFT = Path(__file__).resolve().parent / "examples" / "response.yaml"
CSS = page.CSS  # the page's style (kept in assistant.web.page with its script)

INTRO = (
    "# Public Value Assistant\n"
    "Ask about good governance, public value and social value in the public sector, or draft a social value "
    "response for a tender."
)
CHAT_INTRO = (
    "Answers come only from the framework texts listed under Sources: each one quotes the passages it uses "
    "and numbers them — press a number such as **[1]** to read the passage. If the texts don't cover a question, "
    "the assistant says so instead of guessing."
)
ABOUT = (
    "The assistant searches the framework texts for the passages closest to your question, answers from them, "
    "and checks every sentence against the passages it cites: a sentence it cannot check is highlighted with ⚠ "
    "or left out. Rate an answer with the thumbs under it; ratings help the maintainers improve it."
)


def gradio_temp_dir(settings: Settings) -> Path:
    """Where Gradio keeps uploads and files it serves: under the data dir, like all other state."""
    return (settings.data_dir / "gradio").resolve()


def _prepare_gradio_env(settings: Settings) -> None:
    """Point Gradio's temp dir into the data dir. Must run before ``import gradio`` (read at import time)."""
    os.environ.setdefault("GRADIO_TEMP_DIR", str(gradio_temp_dir(settings)))
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def _import_gradio(settings: Settings) -> None:
    """Import Gradio as this module's ``gr``, once its temp dir points into the data dir.

    Deferred for start-up time and for ``GRADIO_TEMP_DIR``; a module global, because Gradio reads the
    handlers' ``gr.Request`` / ``gr.LikeData`` annotations from this module's namespace.
    """
    global gr
    _prepare_gradio_env(settings)
    import gradio as gr


def _drafts_dir() -> Path:
    """Drafts are written inside Gradio's temp dir, which Gradio serves as files the app created."""
    return Path(os.environ["GRADIO_TEMP_DIR"]) / "drafts"


def _exports_dir() -> Path:
    """Conversation downloads, like drafts, are written inside Gradio's temp dir."""
    return Path(os.environ["GRADIO_TEMP_DIR"]) / "conversations"


def _user(request: Any) -> str | None:
    return getattr(request, "username", None) if request is not None else None


# ==========================================================================================================
# Handlers: what the page's events call, bound to one app's settings and logins
# ==========================================================================================================


@dataclass(frozen=True, eq=False)
class Handlers:
    """The event handlers of one app. Gradio names the API parameters after the methods' parameters."""

    settings: Settings
    access: Access

    @property
    def chat_limit(self) -> int:
        """How many questions are answered at once (the chat and ``/ask`` share the limit)."""
        return max(self.settings.app_concurrency, 1)

    def refresh(self, request: gr.Request) -> tuple:
        """Status line, document lists, who is logged in, and the document controls this user may use."""
        choices = sources.framework_choices(self.settings)
        user = _user(request)
        note = sources.admin_note(user, self.access)
        return (
            sources.status_line(self.settings),
            gr.update(choices=choices),
            gr.update(choices=choices),
            gr.update(choices=choices),
            sources.documents_table(self.settings),
            identity_line(user, self.access),
            gr.update(visible=not note),
            gr.update(value=note, visible=bool(note)),
        )

    def answer(
        self, message: str, history: list, framework: list | None, session_turns: list
    ) -> Iterator[tuple[str, list, list]]:
        """Answer a question in the chat (streams; the answer ends with numbered, expandable sources)."""
        for messages, turns in chat.chat_session(message, history, framework, session_turns, settings=self.settings):
            yield "", messages, turns

    def ask(self, question: str, frameworks: list[str] | None = None) -> tuple[str, list[dict], bool]:
        """Answer one question: (answer Markdown with its sources, citations JSON, refused)."""
        from assistant.answer import InvalidQuestionError  # deferred: loads LangChain and Chroma

        try:
            return chat.ask_for_api(question, frameworks, settings=self.settings)
        except InvalidQuestionError as exc:
            raise gr.Error(user_error_message(exc).removeprefix("⚠ ")) from None

    def rate_message(
        self, data: gr.LikeData, comment: str, session_turns: list, request: gr.Request
    ) -> tuple[str, str]:
        """Store the rating of the answer whose thumbs up or down was pressed, with the optional comment."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        return chat.rate_turn(data.liked, session_turns, comment, index, user=_user(request), settings=self.settings)

    def draft(self, **fields: Any) -> tuple:
        """Draft a social value response or statement: (draft Markdown, word count, flags, [.docx, .md])."""
        view = draft_form.run_draft(draft_form.fields_to_request(fields), _drafts_dir(), settings=self.settings)
        return (
            view.markdown,
            view.word_count,
            view.flags,
            gr.update(value=view.files or None, visible=view.ok),
            gr.update(value=view.docx_path, visible=view.ok),
            gr.update(value=view.md_path, visible=view.ok),
        )

    def sections(self, doc_id: str | None) -> str:
        """A document's sections in reading order, each expandable to its text."""
        return sources.document_sections(doc_id, self.settings)

    def check_files(self, files: list[str] | None) -> tuple[list[str] | None, str]:
        """Files just chosen for upload: keep those that can be ingested, say why the others were not."""
        kept, message = sources.check_chosen_files(files, self.settings)
        return kept or None, message

    def upload(self, files: list[str] | None, request: gr.Request, progress: gr.Progress) -> tuple:
        """Ingest uploaded documents, reporting progress: (result rows, message, cleared upload box)."""

        def on_progress(description: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=f"Embedding {description}", unit="chunks")

        progress(0, desc="Checking the files")
        rows, message = sources.upload_documents(
            files, user=_user(request), access=self.access, settings=self.settings, on_progress=on_progress
        )
        return rows, message, None

    def confirm_removal(self, doc_id: str | None, request: gr.Request) -> tuple:
        """First step of a removal: name the document and its size, and ask to confirm."""
        prompt, ask = sources.removal_prompt(doc_id, user=_user(request), access=self.access, settings=self.settings)
        return (prompt if ask else "", gr.update(visible=ask), "" if ask else prompt)

    def remove(self, doc_id: str | None, request: gr.Request) -> tuple:
        """Remove a document from the index (admins only when login is on)."""
        message = sources.remove_document_action(
            doc_id, user=_user(request), access=self.access, settings=self.settings
        )
        return message, gr.update(value=None), ""

    def restore(self, request: gr.Request) -> str:
        """Ingest the bundled frameworks again, bringing back any that was removed."""
        return sources.restore_corpus(user=_user(request), access=self.access, settings=self.settings)

    def status(self) -> str:
        """The status line: chat backend, embedding model, index size."""
        return sources.status_line(self.settings)

    def documents(self) -> list[list]:
        """The ingested documents: [title, document id, chunks, ingested]."""
        return sources.documents_table(self.settings)


# ----------------------------------------------------------------------------------------------- conversations


def _conversation_view(saved: list | None, conversation_id: str | None, turns: list | None) -> tuple:
    """What follows the chat: [id, text “Copy answer” copies, its button, .md, .docx, comment row, saved list]."""
    md_path, docx_path = conversation.export_conversation(turns, _exports_dir())
    answered = bool(turns)
    choices = conversation.conversation_choices(saved)
    return (
        conversation_id,
        chat.turn_text(turns[-1]) if turns else "",
        gr.update(visible=answered),
        gr.update(value=md_path, visible=answered),
        gr.update(value=docx_path, visible=answered),
        gr.update(visible=answered),
        gr.update(choices=choices, value=conversation_id, visible=bool(choices)),
    )


def keep_conversation(messages: list, turns: list, saved: list | None, conversation_id: str | None) -> tuple:
    """After an answer: save the conversation in the browser and offer it to copy and download."""
    saved, conversation_id = conversation.save_conversation(saved, conversation_id, messages, turns)
    return (saved, *_conversation_view(saved, conversation_id, turns))


def open_conversation(conversation_id: str | None, saved: list | None) -> tuple:
    """Show a saved conversation (the latest when ``conversation_id`` is empty, as after a reload)."""
    found = conversation.find_conversation(saved, conversation_id) if conversation_id else None
    found = found or (None if conversation_id else next(iter(saved or []), None))
    if found is None:
        return ([], [], *_conversation_view(saved, None, []))
    turns = list(found.get("turns") or [])
    return (list(found.get("messages") or []), turns, *_conversation_view(saved, found["id"], turns))


def new_conversation(saved: list | None) -> tuple:
    """A new, empty conversation (the saved ones stay in the list): also clears the comment and its message."""
    return ([], [], *_conversation_view(saved, None, []), "", "")


def filter_outcomes(themes: list[str] | None, outcomes: list[str] | None) -> dict:
    """Offer only the outcomes under the chosen themes, and untick the others."""
    choices = draft_form.outcomes_for_themes(themes)
    if not themes:
        return gr.update(choices=choices)
    allowed = {outcome_id for _, outcome_id in choices}
    return gr.update(choices=choices, value=[o for o in outcomes or [] if o in allowed])


def show_commitments(outcomes: list[str] | None) -> list[dict]:
    """Show the commitments box of each ticked outcome, hide the others."""
    return [gr.update(visible=outcome_id in (outcomes or [])) for _, outcome_id in draft_form.outcome_choices()]


def fill_example() -> list[Any]:
    """The drafting form filled in from ``examples/response.yaml``, in :func:`draft_form.field_names` order."""
    values = draft_form.example_fields(EXAMPLE_DRAFT)
    chosen = values["outcomes"]
    return [values[name] for name in draft_form.FORM_FIELDS] + [
        gr.update(value=values[draft_form.commitment_field(outcome_id)], visible=outcome_id in chosen)
        for _, outcome_id in draft_form.outcome_choices()
    ]


# ==========================================================================================================
# The page: one builder per tab
# ==========================================================================================================


@dataclass
class ChatTab:
    """The Chat tab's parts the page fills in when it loads."""

    frameworks: gr.Dropdown
    reopen_inputs: list[Any]
    """What :func:`open_conversation` reads on load (no id: the latest saved conversation)."""
    reopen_outputs: list[Any]


def build_chat_tab(handlers: Handlers, choices: list[tuple[str, str]]) -> ChatTab:
    """The Chat tab: the streamed chat, example questions, ratings, saved conversations."""
    with gr.Tab("Chat", id="chat"):
        turns = gr.State([])
        conversation_id = gr.State(None)
        saved = gr.BrowserState(
            [], storage_key="pva-conversations", secret=conversation.browser_secret(handlers.settings)
        )
        gr.Markdown(CHAT_INTRO, elem_id="pva-chat-intro")
        chatbot = gr.Chatbot(
            label="Conversation",
            height=None,
            min_height=200,
            max_height=560,
            buttons=[],  # the built-in copy would copy the HTML: “Copy answer” copies clean text instead
            feedback_options=("Like", "Dislike"),
            placeholder="Your answers appear here, each with its numbered sources.",
            elem_id="pva-chat",
        )
        with gr.Row():
            question = gr.Textbox(
                placeholder="Ask a question, e.g. “What are the principles of social value?”",
                show_label=False,
                scale=8,
                lines=1,
                elem_id="pva-question",
            )
            ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="pva-ask")
        gr.Examples(chat.EXAMPLE_QUESTIONS, inputs=question, label="Example questions")
        with gr.Row(visible=False, elem_id="pva-feedback") as feedback_row:
            comment = gr.Textbox(
                label="Comment on an answer (optional)",
                info="Type it, then press thumbs up or down under the answer: the comment is saved with your rating.",
                lines=1,
                scale=3,
                elem_id="pva-comment",
            )
            feedback_message = gr.Markdown(elem_id="pva-feedback-message")
        with gr.Row(equal_height=True):
            clear = gr.Button("New conversation", size="sm", scale=0, min_width=150, elem_id="pva-clear")
            copy = gr.Button("Copy answer", size="sm", scale=0, min_width=120, visible=False, elem_id="pva-copy")
            md_button, docx_button = (
                gr.DownloadButton(
                    f"Download conversation ({suffix})",
                    size="sm",
                    scale=0,
                    min_width=200,
                    visible=False,
                    elem_id=f"pva-chat-{suffix[1:]}",
                )
                for suffix in (".md", ".docx")
            )
        copy_text = gr.Textbox(visible="hidden", elem_id="pva-copy-text")
        past = gr.Dropdown(
            choices=[], value=None, label="Your conversations (kept in this browser)", visible=False, elem_id="pva-past"
        )
        with gr.Accordion("Search only some frameworks", open=False):
            frameworks = gr.Dropdown(
                choices=choices,
                value=[],
                multiselect=True,
                allow_custom_value=True,
                label="Frameworks",
                info="Only search these texts (leave empty to search all of them).",
                elem_id="pva-frameworks",
            )

    view = [conversation_id, copy_text, copy, md_button, docx_button, feedback_row, past]
    asked = gr.on(
        [question.submit, ask_button.click],
        handlers.answer,
        [question, chatbot, frameworks, turns],
        [question, chatbot, turns],
        api_name="chat",
        concurrency_limit=handlers.chat_limit,
        concurrency_id="chat",
        show_progress="minimal",
    )
    asked.then(keep_conversation, [chatbot, turns, saved, conversation_id], [saved, *view], api_visibility="private")
    chatbot.like(handlers.rate_message, [comment, turns], [feedback_message, comment], api_visibility="private")
    copy.click(None, [copy_text], None, js=page.COPY_JS)
    clear.click(new_conversation, [saved], [chatbot, turns, *view, feedback_message, comment], api_visibility="private")
    chatbot.clear(
        new_conversation, [saved], [chatbot, turns, *view, feedback_message, comment], api_visibility="private"
    )
    past.input(open_conversation, [past, saved], [chatbot, turns, *view], api_visibility="private")
    return ChatTab(frameworks, [conversation_id, saved], [chatbot, turns, *view])


def _word_limit_box() -> gr.Number:
    """The word limit, with its range on the input (the draft event skips Gradio's range check: see there)."""
    from assistant.drafting.request import MAX_WORD_LIMIT, MIN_WORD_LIMIT  # deferred: loads LangChain

    return gr.Number(
        value=500,
        label=f"Word limit ({MIN_WORD_LIMIT}–{MAX_WORD_LIMIT:,})",
        precision=0,
        minimum=MIN_WORD_LIMIT,
        maximum=MAX_WORD_LIMIT,
        elem_id="pva-limit",
    )


def _draft_form() -> tuple[dict[str, gr.components.Component], gr.Button, gr.Button]:
    """The drafting form's fields (by :func:`draft_form.field_names` name), the example and Draft buttons."""
    example = gr.Button("Fill in the example", size="sm", visible=EXAMPLE_DRAFT.exists(), elem_id="pva-draft-example")
    fields: dict[str, gr.components.Component] = {}
    with gr.Row():
        fields["kind"] = gr.Radio(
            [("Tender response", "response"), ("Social value statement", "statement")],
            value="response",
            label="What to draft",
        )
        fields["tone"] = gr.Radio([("Formal", "formal"), ("Plain", "plain")], value="formal", label="Tone")
        fields["word_limit"] = _word_limit_box()
    # Text boxes start as "" so that every /draft parameter is optional for API clients.
    fields["title"] = gr.Textbox("", label="Tender or contract title", elem_id="pva-title")
    with gr.Row():
        fields["buyer"] = gr.Textbox("", label="Buyer (the public body)", elem_id="pva-buyer")
        fields["supplier"] = gr.Textbox("", label="Your organisation (optional)")
    fields["description"] = gr.Textbox("", label="Contract description (optional)", lines=2)
    fields["question"] = gr.Textbox("", label="The tender question (optional)", lines=2)
    fields["themes"] = gr.Dropdown(
        draft_form.theme_choices(),
        value=[],
        multiselect=True,
        label="Themes (optional)",
        info="Narrows the outcomes to these Social Value Model themes.",
    )
    fields["outcomes"] = gr.CheckboxGroup(
        draft_form.outcome_choices(), value=[], label="Policy outcomes", elem_id="pva-outcomes"
    )
    with gr.Column():
        for label, outcome_id in draft_form.outcome_choices():
            fields[draft_form.commitment_field(outcome_id)] = gr.Textbox(
                "",
                label=f"Commitments for: {label}",
                info="One commitment a line, in your own words, with its numbers and dates.",
                lines=3,
                visible=False,
                elem_id=f"pva-commit-{outcome_id}",
            )
    fields["evidence"] = gr.Textbox("", label="Evidence or case studies (optional, one a line)", lines=2)
    fields["resources"] = gr.Textbox("", label="Resources available (statements; optional, one a line)", lines=2)
    fields["reporting"] = gr.Textbox("", label="How progress is reported (optional)")
    button = gr.Button("Draft", variant="primary", elem_id="pva-draft")
    return {name: fields[name] for name in draft_form.field_names()}, example, button


def _draft_result() -> list[gr.components.Component]:
    """Where the draft appears: [draft, word count, flags, files, .docx button, .md button]."""
    gr.Markdown(
        "### Your draft\nFill in the form and press **Draft**; the word count, the "
        "over-claim check and the downloads appear here."
    )
    word_count = gr.Markdown(elem_id="pva-wordcount")
    flags = gr.Markdown(elem_id="pva-flags")
    with gr.Row():
        docx_button = gr.DownloadButton("Download .docx", visible=False, elem_id="pva-docx")
        md_button = gr.DownloadButton("Download .md", visible=False, elem_id="pva-md")
    output = gr.Markdown(elem_id="pva-draft-output")
    files = gr.File(label="Files", file_count="multiple", visible=False, interactive=False)
    return [output, word_count, flags, files, docx_button, md_button]


def build_draft_tab(handlers: Handlers) -> None:
    """The Draft tab: the form (outcomes, then a commitments box per ticked outcome) and the draft with its files."""
    with gr.Tab("Draft", id="draft"):
        gr.Markdown(
            "Draft a social value response to a tender question, or a social value statement. "
            "Pick the Social Value Model outcomes, then type your organisation's own commitments for "
            "each: the draft is built from them and never invents figures."
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, elem_id="pva-draft-form"):
                fields, example, button = _draft_form()
            with gr.Column(scale=6, elem_id="pva-draft-result"):
                result = _draft_result()

    themes, outcomes = fields["themes"], fields["outcomes"]
    boxes = [fields[draft_form.commitment_field(o)] for _, o in draft_form.outcome_choices()]
    themes.change(filter_outcomes, [themes, outcomes], [outcomes], api_visibility="private")
    outcomes.change(show_commitments, [outcomes], boxes, api_visibility="private")
    button.click(
        handlers.draft,
        inputs_kwargs=fields,
        outputs=result,
        api_name="draft",
        # The form's raw values go to the handler, which checks them all and says in the page what to fix:
        # Gradio's own checks (a word limit out of range) would raise an error popup and leave the old draft.
        preprocess=False,
        concurrency_limit=2,
        concurrency_id="draft",
    )
    example.click(fill_example, None, list(fields.values()), api_visibility="private")


@dataclass
class SourcesTab:
    """The Sources tab's parts the page refreshes, and the events after which it does."""

    documents: gr.Dataframe
    pickers: list[gr.Dropdown]
    """The browsing picker and the removal picker (their choices are the documents)."""
    admin_area: gr.Column
    admin_note: gr.Markdown
    refresh_button: gr.Button
    changed: list[Any]
    """The upload, remove and restore events (the page refreshes after them)."""


def _upload_area(handlers: Handlers) -> list[Any]:
    """Adding documents: the upload box (files are checked as soon as they are chosen), Ingest, the results."""
    gr.Markdown(
        f"### Add documents\nPDF, Word (.docx), HTML, Markdown or text, up to {handlers.settings.max_upload_mb} "
        "MB each. Headings are kept, so citations can name the section."
    )
    # No Gradio file_types: it would turn a wrong file into an error badge. The page script narrows the file
    # picker to these types, and check_files explains any other file in words.
    uploads = gr.File(label="Upload", file_count="multiple", type="filepath", elem_id="pva-upload")
    ingest_button = gr.Button("Ingest", variant="primary", elem_id="pva-ingest")
    upload_message = gr.Markdown(elem_id="pva-upload-message")
    upload_results = gr.Dataframe(
        headers=["file", "result", "document id"],
        value=[],
        interactive=False,
        label="Upload results",
        column_widths=["25%", "55%", "20%"],
        wrap=True,
        elem_id="pva-upload-results",
    )

    def upload(files: list[str] | None, request: gr.Request, progress=gr.Progress()):  # noqa: B008 (Gradio injects it)
        """Ingest uploaded documents; one result row per file."""
        # Nested, not a Handlers method: Gradio spots the progress bar by this default, which needs Gradio loaded.
        return handlers.upload(files, request, progress)

    uploads.upload(handlers.check_files, [uploads], [uploads, upload_message], api_visibility="private")
    uploaded = ingest_button.click(
        upload,
        [uploads],
        [upload_results, upload_message, uploads],
        api_name="upload",
        concurrency_limit=1,
        concurrency_id="index",
    )
    return [uploaded]


def _remove_area(handlers: Handlers, choices: list[tuple[str, str]]) -> tuple[gr.Dropdown, list[Any]]:
    """Removing a document (asked to confirm, naming it) and restoring the bundled frameworks."""
    gr.Markdown("### Remove a document")
    with gr.Row(equal_height=True):
        picker = gr.Dropdown(
            choices=choices,
            value=None,
            label="Document to remove",
            allow_custom_value=True,  # the choices follow the index; the handler checks the id
            elem_id="pva-remove-picker",
        )
        ask = gr.Button("Remove…", variant="stop", size="md", elem_id="pva-remove-ask")
    with gr.Column(visible=False, elem_id="pva-remove-confirm") as confirm:
        prompt = gr.Markdown(elem_id="pva-remove-prompt")
        with gr.Row():
            yes = gr.Button("Yes, remove it", variant="stop", elem_id="pva-remove")
            cancel = gr.Button("Cancel", elem_id="pva-remove-cancel")
    message = gr.Markdown(elem_id="pva-remove-message")
    gr.Markdown(
        "### Restore the bundled frameworks\nRemoved a framework by mistake? Index the bundled texts again "
        "(uploaded documents are not touched)."
    )
    restore = gr.Button("Restore the bundled frameworks", elem_id="pva-restore")
    restore_message = gr.Markdown(elem_id="pva-restore-message")

    hide = gr.update(visible=False)
    ask.click(handlers.confirm_removal, [picker], [prompt, confirm, message], api_visibility="private")
    picker.change(lambda: hide, None, [confirm], api_visibility="private")
    cancel.click(lambda: (hide, "Nothing was removed."), None, [confirm, message], api_visibility="private")
    removed = yes.click(
        handlers.remove,
        [picker],
        [message, picker, prompt],
        api_name="remove",
        concurrency_limit=1,
        concurrency_id="index",
    )
    removed.then(lambda: hide, None, [confirm], api_visibility="private")
    restored = restore.click(
        handlers.restore, None, [restore_message], api_name="restore", concurrency_limit=1, concurrency_id="index"
    )
    return picker, [removed, restored]


def build_sources_tab(handlers: Handlers, choices: list[tuple[str, str]]) -> SourcesTab:
    """The Sources tab: the documents, browsing a document's sections, and (for admins) adding and removing."""
    with gr.Tab("Sources", id="sources"):
        documents = gr.Dataframe(
            headers=sources.DOCUMENT_HEADERS,
            value=sources.documents_table(handlers.settings) or None,
            interactive=False,
            label="Documents in the index",
            column_widths=["48%", "26%", "8%", "18%"],
            wrap=True,
            elem_id="pva-documents",
        )
        refresh_button = gr.Button("Refresh", size="sm")
        gr.Markdown("### Browse a document")
        browse = gr.Dropdown(
            choices=choices, value=None, label="Document", allow_custom_value=True, elem_id="pva-doc-picker"
        )
        sections = gr.HTML(sources.PICK_A_DOCUMENT, elem_id="pva-sections")
        admin_note = gr.Markdown(visible=False, elem_id="pva-admin-note")
        with gr.Column(visible=not handlers.access.enabled, elem_id="pva-admin") as admin_area:
            changed = _upload_area(handlers)
            remove_picker, more = _remove_area(handlers, choices)

    browse.change(handlers.sections, [browse], [sections], api_name="sections")
    return SourcesTab(documents, [browse, remove_picker], admin_area, admin_note, refresh_button, changed + more)


def build_app(settings: Settings | None = None, access: Access | None = None) -> gr.Blocks:
    """Build the whole UI (no launching): three tabs, the technical status one click away, the named API."""
    settings = settings or get_settings()
    _import_gradio(settings)
    handlers = Handlers(settings, access if access is not None else load_access(settings))
    choices = sources.framework_choices(settings)

    with gr.Blocks(title="Public Value Assistant", analytics_enabled=False) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown(INTRO, elem_id="pva-intro")
            with gr.Column(scale=0, min_width=160, visible=handlers.access.enabled):
                who = gr.Markdown(elem_id="pva-user")
                gr.Button("Log out", link="/logout", size="sm", elem_id="pva-logout")
        with gr.Accordion("About this assistant · technical status", open=False, elem_id="pva-about"):
            gr.Markdown(ABOUT)
            status = gr.Markdown(elem_id="pva-status")
        with gr.Tabs():
            chat_tab = build_chat_tab(handlers, choices)
            build_draft_tab(handlers)
            tab = build_sources_tab(handlers, choices)

        refreshed = [status, chat_tab.frameworks, *tab.pickers, tab.documents, who, tab.admin_area, tab.admin_note]
        demo.load(handlers.refresh, None, refreshed, api_visibility="private")
        demo.load(open_conversation, chat_tab.reopen_inputs, chat_tab.reopen_outputs, api_visibility="private")
        tab.refresh_button.click(handlers.refresh, None, refreshed, api_visibility="private")
        for event in tab.changed:
            event.then(handlers.refresh, None, refreshed, api_visibility="private")
        gr.api(handlers.ask, api_name="ask", concurrency_limit=handlers.chat_limit, concurrency_id="chat")
        gr.api(handlers.status, api_name="status")
        gr.api(handlers.documents, api_name="documents")

    demo.queue(default_concurrency_limit=handlers.chat_limit, max_size=256)
    return demo


# ==========================================================================================================
# Serving
# ==========================================================================================================


def launch(settings: Settings | None = None, *, prevent_thread_lock: bool = False) -> gr.Blocks:
    """Prepare the index and models, then serve the app on ``settings.host:settings.port``."""
    settings = settings or get_settings()
    _prepare_gradio_env(settings)
    access = load_access(settings)
    warning = exposure_warning(settings.host, access)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    prepare(settings)
    start_warm_up(settings)
    demo = build_app(settings, access)
    serve(demo, settings, access, prevent_thread_lock=prevent_thread_lock)
    return demo


def serve(
    demo: gr.Blocks,
    settings: Settings,
    access: Access,
    *,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> None:
    """Launch a built app with the project's options: login, upload size limit, no SSR, no stack traces."""
    from ingest.uploads import ALLOWED_SUFFIXES  # deferred: loads LangChain and Chroma (importing app stays cheap)

    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=access.check if access.enabled else None,
        auth_message="Log in with the account your administrator gave you." if access.enabled else None,
        max_file_size=f"{settings.max_upload_mb}mb",
        show_error=False,
        ssr_mode=False,
        footer_links=["api"],
        css=CSS,
        head=page.head(ALLOWED_SUFFIXES),
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
    )


def main() -> None:
    """Entry point of ``python app.py`` and ``pva serve``."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        launch()
    except ValueError as exc:  # a bad login file or setting: say what to fix, no traceback
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def __getattr__(name: str) -> Any:
    """``app.demo`` builds the UI on first use (for ``gradio app.py`` reload mode), keeping imports cheap."""
    if name == "demo":
        demo = build_app(get_settings())
        globals()["demo"] = demo
        return demo
    raise AttributeError(name)


if __name__ == "__main__":
    main()
