"""The Gradio app: Chat, Draft and Sources tabs over the same library functions as the ``pva`` CLI.

Run it with ``python app.py`` or ``pva serve`` (both call :func:`main`): the index is built from the bundled
corpus if it is missing, the models are loaded once, then the app serves on ``PVA_HOST``:``PVA_PORT``
(127.0.0.1:7860 by default). Set ``PVA_AUTH_FILE`` (lines ``user:password[:admin]``) or ``PVA_AUTH_USERS`` to
require a login; then only admins may upload or remove documents.

This file is Gradio only: the page is assembled from one builder per tab, and every behaviour lives in
:mod:`assistant.web` (plain functions, unit-tested without a browser). Importing it is cheap: Gradio is imported
and the UI built only by :func:`build_app` (or when ``app.demo`` is first read, for ``gradio app.py``).

Named API endpoints for ``gradio_client``: ``/chat`` (the streamed chat), ``/ask`` (question, frameworks →
answer Markdown, citations, refused), ``/draft`` (the drafting form → draft, word count, flags, files),
``/upload``, ``/remove``, ``/restore``, ``/documents``, ``/sections``, ``/status``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import assistant  # noqa: F401  (sets the offline switches, incl. GRADIO_ANALYTICS_ENABLED=False, before Gradio loads)
from assistant.config import Settings, get_settings
from assistant.web import chat, conversation, draft_form, page, sources
from assistant.web.access import Access, load_access, request_user
from assistant.web.errors import user_error_message
from assistant.web.startup import get_ready, launch_options, prepare_gradio_env, served_dir

if TYPE_CHECKING:
    import gradio as gr

CSS = page.CSS  # the page's style (kept in assistant.web.page with its script)


def _import_gradio(settings: Settings) -> None:
    """Import Gradio as this module's ``gr``, once its temp dir points into the data dir.

    Deferred for start-up time and for ``GRADIO_TEMP_DIR``; a module global, because Gradio reads the
    handlers' ``gr.Request`` / ``gr.LikeData`` annotations from this module's namespace.
    """
    global gr
    prepare_gradio_env(settings)
    import gradio as gr


# --------------------------------- handlers: what the page's events call, bound to one app's settings and logins


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
        state = sources.page_state(request_user(request), self.access, self.settings)
        pickers = [gr.update(choices=state.choices) for _ in range(3)]
        note = state.admin_note
        admin = (gr.update(visible=not note), gr.update(value=note, visible=bool(note)))
        return (state.status, *pickers, state.documents, state.identity, *admin)

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
        user = request_user(request)
        return chat.rate_turn(data.liked, session_turns, comment, data.index, user=user, settings=self.settings)

    def draft(self, **fields: Any) -> tuple:
        """Draft a social value response or statement: (draft Markdown, word count, flags, [.docx, .md])."""
        request = draft_form.fields_to_request(fields)
        view = draft_form.run_draft(request, served_dir("drafts"), settings=self.settings)
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
        on_progress = sources.progress_bar(progress)
        rows, message = sources.upload_documents(
            files, user=request_user(request), access=self.access, settings=self.settings, on_progress=on_progress
        )
        return rows, message, None

    def confirm_removal(self, doc_id: str | None, request: gr.Request) -> tuple:
        """First step of a removal: name the document and its size, and ask to confirm."""
        prompt, ask, message = sources.removal_step(
            doc_id, user=request_user(request), access=self.access, settings=self.settings
        )
        return prompt, gr.update(visible=ask), message

    def remove(self, doc_id: str | None, request: gr.Request) -> tuple:
        """Remove a document from the index (admins only when login is on)."""
        message = sources.remove_document_action(
            doc_id, user=request_user(request), access=self.access, settings=self.settings
        )
        return message, gr.update(value=None), ""

    def restore(self, request: gr.Request) -> str:
        """Ingest the bundled frameworks again, bringing back any that was removed."""
        return sources.restore_corpus(user=request_user(request), access=self.access, settings=self.settings)

    def status(self) -> str:
        """The status line: chat backend, embedding model, index size."""
        return sources.status_line(self.settings)

    def documents(self) -> list[list]:
        """The ingested documents: [title, document id, chunks, ingested]."""
        return sources.documents_table(self.settings)


# ----------------------------------------------------------------------------------------------- conversations


def _conversation_outputs(saved: list | None, conversation_id: str | None, turns: list) -> tuple:
    """What follows the chat: [id, text “Copy answer” copies, its button, .md, .docx, comment row, saved list]."""
    view = conversation.conversation_view(saved, conversation_id, turns, served_dir("conversations"))
    shown = gr.update(visible=view.answered)
    return (
        view.conversation_id,
        view.copy_text,
        shown,
        gr.update(value=view.md_path, visible=view.answered),
        gr.update(value=view.docx_path, visible=view.answered),
        shown,
        gr.update(choices=view.choices, value=view.conversation_id, visible=bool(view.choices)),
    )


def keep_conversation(messages: list, turns: list, saved: list | None, conversation_id: str | None) -> tuple:
    """After an answer: save the conversation in the browser and offer it to copy and download."""
    saved, conversation_id = conversation.save_conversation(saved, conversation_id, messages, turns)
    return (saved, *_conversation_outputs(saved, conversation_id, turns))


def open_conversation(conversation_id: str | None, saved: list | None) -> tuple:
    """Show a saved conversation (the latest when ``conversation_id`` is empty, as after a reload)."""
    messages, turns, conversation_id = conversation.reopen(saved, conversation_id)
    return (messages, turns, *_conversation_outputs(saved, conversation_id, turns))


def new_conversation(saved: list | None) -> tuple:
    """A new, empty conversation (the saved ones stay in the list): also clears the comment and its message."""
    return ([], [], *_conversation_outputs(saved, None, []), "", "")


def filter_outcomes(themes: list[str] | None, outcomes: list[str] | None) -> dict:
    """Offer only the outcomes under the chosen themes, and untick the others."""
    choices, kept = draft_form.filter_outcomes(themes, outcomes)
    return gr.update(choices=choices) if kept is None else gr.update(choices=choices, value=kept)


def show_commitments(outcomes: list[str] | None) -> list[dict]:
    """Show the commitments box of each ticked outcome, hide the others."""
    return [gr.update(visible=shown) for shown in draft_form.commitment_boxes_shown(outcomes)]


def fill_example() -> list[Any]:
    """The drafting form filled in from the example request, in :func:`draft_form.field_names` order."""
    values, boxes = draft_form.example_form()
    return values + [gr.update(value=text, visible=shown) for text, shown in boxes]


# --------------------------------------------------------------------------------- the page: one builder per tab


def _question_box() -> tuple[gr.Textbox, gr.Button]:
    """The question box, its Ask button and the example questions under them."""
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
    return question, ask_button


def _conversation_buttons() -> list[gr.Button]:
    """New conversation, Copy answer and the two downloads (all but the first show after an answer)."""
    with gr.Row(equal_height=True):
        buttons = [
            gr.Button("New conversation", size="sm", scale=0, min_width=150, elem_id="pva-clear"),
            gr.Button("Copy answer", size="sm", scale=0, min_width=120, visible=False, elem_id="pva-copy"),
        ]
        for suffix in (".md", ".docx"):
            label, elem_id = f"Download conversation ({suffix})", f"pva-chat-{suffix[1:]}"
            buttons.append(gr.DownloadButton(label, size="sm", scale=0, min_width=200, visible=False, elem_id=elem_id))
    return buttons


def build_chat_tab(demo: gr.Blocks, handlers: Handlers, choices: list[tuple[str, str]]) -> gr.Dropdown:
    """The Chat tab: the streamed chat, example questions, ratings, saved conversations (the latest reopens when
    the page loads). Returns the frameworks picker, whose choices the page refreshes."""
    with gr.Tab("Chat", id="chat"):
        turns = gr.State([])
        conversation_id = gr.State(None)
        saved = gr.BrowserState(
            [], storage_key="pva-conversations", secret=conversation.browser_secret(handlers.settings)
        )
        gr.Markdown(page.CHAT_INTRO, elem_id="pva-chat-intro")
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
        question, ask_button = _question_box()
        with gr.Row(visible=False, elem_id="pva-feedback") as feedback_row:
            comment = gr.Textbox(
                label="Comment on an answer (optional)",
                info="Type it, then press thumbs up or down under the answer: the comment is saved with your rating.",
                lines=1,
                scale=3,
                elem_id="pva-comment",
            )
            feedback_message = gr.Markdown(elem_id="pva-feedback-message")
        clear, copy, md_button, docx_button = _conversation_buttons()
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
    demo.load(open_conversation, [conversation_id, saved], [chatbot, turns, *view], api_visibility="private")
    return frameworks


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
    example = gr.Button(
        "Fill in the example", size="sm", visible=draft_form.EXAMPLE_REQUEST.exists(), elem_id="pva-draft-example"
    )
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
    fields["evidence"] = gr.Textbox(
        "", label="Evidence or case studies (optional, one a line)", lines=2, elem_id="pva-evidence"
    )
    fields["resources"] = gr.Textbox("", label="Resources available (statements; optional, one a line)", lines=2)
    fields["reporting"] = gr.Textbox("", label="How progress is reported (optional)", elem_id="pva-reporting")
    button = gr.Button("Draft", variant="primary", elem_id="pva-draft")
    return {name: fields[name] for name in draft_form.field_names()}, example, button


def _draft_result() -> list[gr.components.Component]:
    """Where the draft appears: [draft, word count, flags, files, .docx button, .md button]."""
    gr.Markdown(page.DRAFT_RESULT_INTRO)
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
        gr.Markdown(page.DRAFT_INTRO)
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
    gr.Markdown(page.upload_intro(handlers.settings.max_upload_mb))
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
    gr.Markdown(page.RESTORE_INTRO)
    restore = gr.Button("Restore the bundled frameworks", elem_id="pva-restore")
    restore_message = gr.Markdown(elem_id="pva-restore-message")

    hide = gr.update(visible=False)
    ask.click(handlers.confirm_removal, [picker], [prompt, confirm, message], api_visibility="private")
    picker.change(lambda: hide, None, [confirm], api_visibility="private")
    cancel.click(lambda: (hide, sources.NOTHING_REMOVED), None, [confirm, message], api_visibility="private")
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
            gr.Markdown(page.INTRO, elem_id="pva-intro")
            with gr.Column(scale=0, min_width=160, visible=handlers.access.enabled):
                who = gr.Markdown(elem_id="pva-user")
                gr.Button("Log out", link="/logout", size="sm", elem_id="pva-logout")
        with gr.Accordion("About this assistant · technical status", open=False, elem_id="pva-about"):
            gr.Markdown(page.ABOUT)
            status = gr.Markdown(elem_id="pva-status")
        with gr.Tabs():
            frameworks = build_chat_tab(demo, handlers, choices)
            build_draft_tab(handlers)
            tab = build_sources_tab(handlers, choices)

        refreshed = [status, frameworks, *tab.pickers, tab.documents, who, tab.admin_area, tab.admin_note]
        demo.load(handlers.refresh, None, refreshed, api_visibility="private")
        tab.refresh_button.click(handlers.refresh, None, refreshed, api_visibility="private")
        for event in tab.changed:
            event.then(handlers.refresh, None, refreshed, api_visibility="private")
        gr.api(handlers.ask, api_name="ask", concurrency_limit=handlers.chat_limit, concurrency_id="chat")
        gr.api(handlers.status, api_name="status")
        gr.api(handlers.documents, api_name="documents")

    demo.queue(default_concurrency_limit=handlers.chat_limit, max_size=256)
    return demo


# ------------------------------------------------------------------------------------------------------- serving


def launch(settings: Settings | None = None, *, prevent_thread_lock: bool = False) -> gr.Blocks:
    """Prepare the index and models, then serve the app on ``settings.host:settings.port``."""
    settings = settings or get_settings()
    access = get_ready(settings)
    demo = build_app(settings, access)
    serve(demo, settings, access, prevent_thread_lock=prevent_thread_lock)
    return demo


def serve(
    demo: gr.Blocks, settings: Settings, access: Access, *, prevent_thread_lock: bool = False, quiet: bool = False
) -> None:
    """Launch a built app with the project's options: login, upload size limit, no SSR, no stack traces."""
    demo.launch(**launch_options(settings, access), prevent_thread_lock=prevent_thread_lock, quiet=quiet)


def main(settings: Settings | None = None) -> None:
    """Entry point of ``python app.py`` and ``pva serve`` (which passes the settings its flags change)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        launch(settings)
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
