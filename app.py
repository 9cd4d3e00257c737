"""The Gradio app: Chat, Draft and Sources tabs over the same library functions as the ``pva`` CLI.

Run it with ``python app.py`` or ``pva serve`` (both call :func:`main`): the index is built from the bundled
corpus if it is missing, the models are loaded once, then the app serves on ``PVA_HOST``:``PVA_PORT``
(127.0.0.1:7860 by default). Set ``PVA_AUTH_FILE`` (lines ``user:password[:admin]``) or ``PVA_AUTH_USERS`` to
require a login; then only admins may upload or remove documents.

This file only wires components: every behaviour lives in :mod:`assistant.web.chat_ui` (and the modules it
calls), where it is unit-tested without a browser. Importing this module is cheap — Gradio is imported and
the UI is built only when :func:`build_app` runs (or ``app.demo`` is first read, for ``gradio app.py``).

Named API endpoints for ``gradio_client``: ``/chat`` (the streamed chat), ``/ask`` (question, frameworks →
answer Markdown, citations, refused), ``/draft`` (the drafting form → draft, word count, flags, files),
``/upload``, ``/remove``, ``/documents``, ``/sections``, ``/status``.
"""

import inspect
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import assistant  # noqa: F401  (sets the offline switches, incl. GRADIO_ANALYTICS_ENABLED=False, before Gradio loads)
from assistant.config import Settings, get_settings
from assistant.web import chat_ui

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger("pva.app")

EXAMPLE_DRAFT = Path(__file__).resolve().parent / "examples" / "response.yaml"

CSS = """
.pva-citations { margin-top: .6em; border-top: 1px solid var(--border-color-primary); padding-top: .4em; }
.pva-citation { margin: .25em 0; }
.pva-citation summary { cursor: pointer; }
.pva-quote { margin: .3em 0 .3em .4em; padding-left: .6em; border-left: 3px solid var(--color-accent); }
.pva-section, .pva-framework { font-size: .9em; opacity: .85; }
mark.pva-unsupported { background: #fff3b0; color: inherit; border-bottom: 2px dotted #b7791f; }
.pva-note { font-size: .9em; color: #8a5a00; }
.pva-ref { font-size: .75em; }
#pva-status { font-size: .9em; opacity: .9; }
.pva-doc-section summary { cursor: pointer; font-weight: 600; }
.pva-doc-text { white-space: pre-wrap; font-size: .92em; margin: .3em 0 .8em .6em; }
"""


def gradio_temp_dir(settings: Settings) -> Path:
    """Where Gradio keeps uploads and files it serves: under the data dir, like all other state."""
    return (settings.data_dir / "gradio").resolve()


def _prepare_gradio_env(settings: Settings) -> None:
    """Point Gradio's temp dir into the data dir. Must run before ``import gradio`` (read at import time)."""
    os.environ.setdefault("GRADIO_TEMP_DIR", str(gradio_temp_dir(settings)))
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def _drafts_dir() -> Path:
    """Drafts are written inside Gradio's temp dir, which Gradio serves as files the app created."""
    return Path(os.environ["GRADIO_TEMP_DIR"]) / "drafts"


def _user(request: Any) -> str | None:
    return getattr(request, "username", None) if request is not None else None


def build_app(settings: Settings | None = None, access: chat_ui.Access | None = None) -> "gr.Blocks":
    """Build the whole UI (no launching): three tabs, a status line and the named API endpoints."""
    settings = settings or get_settings()
    _prepare_gradio_env(settings)
    import gradio as gr

    access = access if access is not None else chat_ui.load_access(settings)
    outcome_choices = chat_ui.outcome_choices()
    chat_limit = max(settings.app_concurrency, 1)
    initial_choices = chat_ui.framework_choices(settings)

    with gr.Blocks(title="Public Value Assistant", analytics_enabled=False) as demo:
        gr.Markdown(
            "# Public Value Assistant\n"
            "Answers about public-sector governance and social value, cited to the framework texts — "
            "and social value drafts for tenders."
        )
        status = gr.Markdown(elem_id="pva-status")
        who = gr.Markdown(visible=access.enabled, elem_id="pva-user")
        turns = gr.State([])

        with gr.Tabs():
            # ---------------------------------------------------------------------------------- Chat
            with gr.Tab("Chat", id="chat"):
                frameworks = gr.Dropdown(
                    choices=initial_choices,
                    value=[],
                    multiselect=True,
                    allow_custom_value=True,
                    label="Frameworks",
                    info="Only search these texts (leave empty to search all of them).",
                    elem_id="pva-frameworks",
                )
                chatbot = gr.Chatbot(
                    label="Answers",
                    height=520,
                    buttons=["copy", "copy_all"],
                    feedback_options=("Like", "Dislike"),
                    placeholder=(
                        "Ask about good governance, public value or social value. Every answer cites the "
                        "passage it comes from: open a numbered source to read the quote."
                    ),
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
                gr.Examples(chat_ui.EXAMPLE_QUESTIONS, inputs=question, label="Example questions")
                with gr.Accordion("Was the last answer helpful?", open=True, elem_id="pva-feedback"):
                    comment = gr.Textbox(
                        label="Comment (optional)",
                        placeholder="What was wrong, missing or especially useful?",
                        lines=2,
                        elem_id="pva-comment",
                    )
                    with gr.Row():
                        up = gr.Button("Yes, helpful", size="sm", elem_id="pva-up")
                        down = gr.Button("No, not helpful", size="sm", elem_id="pva-down")
                        clear = gr.Button("New conversation", size="sm", elem_id="pva-clear")
                    feedback_message = gr.Markdown(elem_id="pva-feedback-message")

            # ---------------------------------------------------------------------------------- Draft
            with gr.Tab("Draft", id="draft"):
                gr.Markdown(
                    "Draft a social value response to a tender question, or a social value statement. "
                    "Pick the Social Value Model outcomes, then type your organisation's own commitments for "
                    "each: the draft is built from them and never invents figures."
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5, elem_id="pva-draft-form"):
                        load_example = gr.Button(
                            "Fill in the example",
                            size="sm",
                            visible=EXAMPLE_DRAFT.exists(),
                            elem_id="pva-draft-example",
                        )
                        with gr.Row():
                            kind = gr.Radio(
                                [("Tender response", "response"), ("Social value statement", "statement")],
                                value="response",
                                label="What to draft",
                            )
                            tone = gr.Radio([("Formal", "formal"), ("Plain", "plain")], value="formal", label="Tone")
                            word_limit = gr.Number(
                                value=500,
                                label="Word limit",
                                precision=0,
                                minimum=50,
                                maximum=5000,
                                elem_id="pva-limit",
                            )
                        title = gr.Textbox(label="Tender or contract title", elem_id="pva-title")
                        with gr.Row():
                            buyer = gr.Textbox(label="Buyer (the public body)", elem_id="pva-buyer")
                            supplier = gr.Textbox(label="Your organisation (optional)")
                        description = gr.Textbox(label="Contract description (optional)", lines=2)
                        tender_question = gr.Textbox(label="The tender question (optional)", lines=2)
                        themes = gr.Dropdown(
                            chat_ui.theme_choices(),
                            value=[],
                            multiselect=True,
                            label="Themes (optional)",
                            info="Narrows the outcomes to these Social Value Model themes.",
                        )
                        outcomes = gr.CheckboxGroup(
                            outcome_choices, value=[], label="Policy outcomes", elem_id="pva-outcomes"
                        )
                        commitment_boxes: dict[str, gr.Textbox] = {}
                        with gr.Column():
                            for label, outcome_id in outcome_choices:
                                commitment_boxes[outcome_id] = gr.Textbox(
                                    label=f"Commitments for: {label}",
                                    info="One commitment a line, in your own words, with its numbers and dates.",
                                    lines=3,
                                    visible=False,
                                    elem_id=f"pva-commit-{outcome_id}",
                                )
                        evidence = gr.Textbox(label="Evidence or case studies (optional, one a line)", lines=2)
                        resources = gr.Textbox(label="Resources available (statements; optional, one a line)", lines=2)
                        reporting = gr.Textbox(label="How progress is reported (optional)")
                        draft_button = gr.Button("Draft", variant="primary", elem_id="pva-draft")
                    with gr.Column(scale=6, elem_id="pva-draft-result"):
                        gr.Markdown(
                            "### Your draft\nFill in the form and press **Draft**; the word count, the "
                            "over-claim check and the downloads appear here."
                        )
                        word_count = gr.Markdown(elem_id="pva-wordcount")
                        flags = gr.Markdown(elem_id="pva-flags")
                        with gr.Row():
                            docx_button = gr.DownloadButton("Download .docx", visible=False, elem_id="pva-docx")
                            md_button = gr.DownloadButton("Download .md", visible=False, elem_id="pva-md")
                        draft_output = gr.Markdown(elem_id="pva-draft-output")
                        draft_files = gr.File(label="Files", file_count="multiple", visible=False, interactive=False)

            # ---------------------------------------------------------------------------------- Sources
            with gr.Tab("Sources", id="sources"):
                documents = gr.Dataframe(
                    headers=chat_ui.DOCUMENT_HEADERS,
                    value=chat_ui.documents_table(settings) or None,
                    interactive=False,
                    label="Documents in the index",
                    column_widths=["48%", "26%", "8%", "18%"],
                    wrap=True,
                    elem_id="pva-documents",
                )
                refresh = gr.Button("Refresh", size="sm")
                with gr.Row():
                    picker = gr.Dropdown(
                        choices=initial_choices,
                        value=None,
                        label="Document",
                        allow_custom_value=True,
                        elem_id="pva-doc-picker",
                        scale=3,
                    )
                    remove_button = gr.Button("Remove from the index", variant="stop", scale=1, elem_id="pva-remove")
                remove_message = gr.Markdown(elem_id="pva-remove-message")
                sections = gr.HTML("Pick a document to browse its sections.", elem_id="pva-sections")
                gr.Markdown(
                    f"### Add documents\nPDF, Word (.docx), HTML, Markdown or text, up to {settings.max_upload_mb} MB "
                    "each. Headings are kept, so citations can name the section."
                )
                uploads = gr.File(
                    label="Upload",
                    file_count="multiple",
                    file_types=[".pdf", ".docx", ".html", ".htm", ".md", ".txt"],
                    type="filepath",
                    elem_id="pva-upload",
                )
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

        # ====================================================================================== wiring
        def refresh_all(request: gr.Request):
            choices = chat_ui.framework_choices(settings)
            user = _user(request)
            admin = access.is_admin(user)
            identity = f"Logged in as **{user}**" + (" (admin)" if admin and access.enabled else "") if user else ""
            return (
                chat_ui.status_line(settings),
                gr.update(choices=choices),
                gr.update(choices=choices),
                chat_ui.documents_table(settings),
                identity,
                gr.update(interactive=admin),
                gr.update(interactive=admin),
                gr.update(interactive=admin),
            )

        refresh_outputs = [status, frameworks, picker, documents, who, uploads, ingest_button, remove_button]
        demo.load(refresh_all, None, refresh_outputs, api_visibility="private")
        refresh.click(refresh_all, None, refresh_outputs, api_visibility="private")

        # Chat ------------------------------------------------------------------------------------
        def chat(message: str, history: list, framework: list | None, session_turns: list):
            """Answer a question in the chat (streams; the answer ends with numbered, expandable sources)."""
            kept = list(session_turns or [])

            def keep(_answer, turn: chat_ui.ChatTurn) -> None:
                kept.append(turn.as_dict())

            if message.strip():  # show the question at once, before retrieval starts
                yield "", history + [{"role": "user", "content": message}], kept
            for messages in chat_ui.respond(message, history, framework, settings=settings, on_answer=keep):
                yield "", messages, kept

        gr.on(
            [question.submit, ask_button.click],
            chat,
            [question, chatbot, frameworks, turns],
            [question, chatbot, turns],
            api_name="chat",
            concurrency_limit=chat_limit,
            concurrency_id="chat",
            show_progress="minimal",
        )

        def ask(question: str, frameworks: list[str] | None = None) -> tuple[str, list[dict], bool]:
            """Answer one question: (answer Markdown with its sources, citations JSON, refused)."""
            from assistant.answer import InvalidQuestionError

            try:
                return chat_ui.ask_for_api(question, frameworks, settings=settings)
            except InvalidQuestionError as exc:
                raise gr.Error(chat_ui.user_error_message(exc).removeprefix("⚠ ")) from None

        gr.api(ask, api_name="ask", concurrency_limit=chat_limit, concurrency_id="chat")

        def rate(rating: str, comment_text: str, session_turns: list, request: gr.Request):
            """Rate the latest answer ('up' or 'down') with an optional comment."""
            message = chat_ui.give_feedback(
                rating, chat_ui.find_turn(session_turns), comment_text, user=_user(request), settings=settings
            )
            return message, "" if message.startswith("Thank you") else comment_text

        def rate_up(comment_text: str, session_turns: list, request: gr.Request):
            return rate("up", comment_text, session_turns, request)

        def rate_down(comment_text: str, session_turns: list, request: gr.Request):
            return rate("down", comment_text, session_turns, request)

        up.click(rate_up, [comment, turns], [feedback_message, comment], api_visibility="private")
        down.click(rate_down, [comment, turns], [feedback_message, comment], api_visibility="private")

        def like(data: gr.LikeData, comment_text: str, session_turns: list, request: gr.Request):
            index = data.index if isinstance(data.index, int) else data.index[0]
            message = chat_ui.give_feedback(
                data.liked,
                chat_ui.find_turn(session_turns, index),
                comment_text,
                user=_user(request),
                settings=settings,
            )
            return message, "" if message.startswith("Thank you") else comment_text

        chatbot.like(like, [comment, turns], [feedback_message, comment], api_visibility="private")
        clear.click(
            lambda: ([], [], "", ""), None, [chatbot, turns, feedback_message, comment], api_visibility="private"
        )

        # Draft -----------------------------------------------------------------------------------
        def filter_outcomes(chosen_themes: list[str], chosen_outcomes: list[str]):
            if not chosen_themes:
                return gr.update(choices=outcome_choices)
            from assistant.catalogue import load_catalogue

            catalogue = load_catalogue()
            allowed = {o.id for t in catalogue.themes if t.id in chosen_themes for o in t.outcomes}
            return gr.update(
                choices=[c for c in outcome_choices if c[1] in allowed],
                value=[o for o in chosen_outcomes or [] if o in allowed],
            )

        themes.change(filter_outcomes, [themes, outcomes], [outcomes], api_visibility="private")

        boxes = list(commitment_boxes.values())
        box_ids = list(commitment_boxes)

        def show_commitments(chosen: list[str]):
            return [gr.update(visible=outcome_id in (chosen or [])) for outcome_id in box_ids]

        outcomes.change(show_commitments, [outcomes], boxes, api_visibility="private")

        form_fields = [
            "kind",
            "title",
            "buyer",
            "supplier",
            "description",
            "question",
            "themes",
            "outcomes",
            "evidence",
            "resources",
            "reporting",
            "word_limit",
            "tone",
        ]
        draft_defaults: dict[str, Any] = {
            "kind": "response",
            "themes": [],
            "outcomes": [],
            "word_limit": 500,
            "tone": "formal",
        }
        commitment_params = [f"commitments_{outcome_id.replace('-', '_')}" for outcome_id in box_ids]

        def draft_fn(*values: Any):
            form = dict(zip(form_fields, values[: len(form_fields)], strict=True))
            commitments = dict(zip(box_ids, values[len(form_fields) :], strict=True))
            data = chat_ui.draft_form_to_request(**form, commitments=commitments)
            view = chat_ui.run_draft(data, _drafts_dir(), settings=settings)
            shown = bool(view.ok)
            return (
                view.markdown,
                view.word_count,
                view.flags,
                gr.update(value=view.files or None, visible=shown),
                gr.update(value=view.docx_path, visible=shown),
                gr.update(value=view.md_path, visible=shown),
            )

        # Named parameters for gradio_client (``client.predict(title=..., outcomes=[...], api_name="/draft")``).
        draft_fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=draft_defaults.get(n))
                for n in form_fields + commitment_params
            ]
        )
        draft_fn.__doc__ = (
            "Draft a social value response or statement: (draft Markdown, word count, flags, [.docx, .md])."
        )
        draft_button.click(
            draft_fn,
            [kind, title, buyer, supplier, description, tender_question, themes, outcomes]
            + [evidence, resources, reporting, word_limit, tone]
            + boxes,
            [draft_output, word_count, flags, draft_files, docx_button, md_button],
            api_name="draft",
            concurrency_limit=2,
            concurrency_id="draft",
        )

        def fill_example():
            from assistant.drafting import load_request

            request = load_request(EXAMPLE_DRAFT)
            chosen = list(request.outcomes)
            return [
                request.kind,
                request.title,
                request.buyer,
                request.supplier or "",
                request.description,
                request.question or "",
                list(request.themes),
                chosen,
                "\n".join(request.evidence),
                "\n".join(request.resources),
                request.reporting or "",
                request.word_limit,
                request.tone,
            ] + [gr.update(value="\n".join(request.commitments.get(o, ())), visible=o in chosen) for o in box_ids]

        load_example.click(
            fill_example,
            None,
            [kind, title, buyer, supplier, description, tender_question, themes, outcomes]
            + [evidence, resources, reporting, word_limit, tone]
            + boxes,
            api_visibility="private",
        )

        # Sources ---------------------------------------------------------------------------------
        picker.change(
            lambda doc_id: chat_ui.document_sections(doc_id, settings),
            [picker],
            [sections],
            api_name="sections",
        )

        def upload(files: list[str] | None, request: gr.Request, progress=gr.Progress()):  # noqa: B008 (Gradio injects it)
            """Ingest uploaded documents; one result row per file."""

            def on_progress(description: str, done: int, total: int) -> None:
                progress((done, max(total, 1)), desc=f"Embedding {description}", unit="chunks")

            progress(0, desc="Checking the files")
            rows, message = chat_ui.upload_documents(
                files, user=_user(request), access=access, settings=settings, on_progress=on_progress
            )
            return rows, message, None

        ingest_button.click(
            upload,
            [uploads],
            [upload_results, upload_message, uploads],
            api_name="upload",
            concurrency_limit=1,
            concurrency_id="index",
        ).then(refresh_all, None, refresh_outputs, api_visibility="private")

        def remove(doc_id: str | None, request: gr.Request):
            """Remove a document from the index (admins only when login is on)."""
            message = chat_ui.remove_document_action(doc_id, user=_user(request), access=access, settings=settings)
            return message, gr.update(value=None), "Pick a document to browse its sections."

        remove_button.click(
            remove,
            [picker],
            [remove_message, picker, sections],
            api_name="remove",
            concurrency_limit=1,
            concurrency_id="index",
        ).then(refresh_all, None, refresh_outputs, api_visibility="private")

        def status_api() -> str:
            """The status line: chat backend, embedding model, index size."""
            return chat_ui.status_line(settings)

        gr.api(status_api, api_name="status")

        def documents_api() -> list[list]:
            """The ingested documents: [title, document id, chunks, ingested]."""
            return chat_ui.documents_table(settings)

        gr.api(documents_api, api_name="documents")

    demo.queue(default_concurrency_limit=chat_limit, max_size=256)
    return demo


def prepare(settings: Settings | None = None) -> None:
    """Build the index if it is missing, and load the models once, before the first user waits for them."""
    from ingest import ensure_index

    settings = settings or get_settings()
    done: dict[str, int] = {}

    def on_progress(description: str, n: int, total: int) -> None:
        if done.get(description) != total and n >= total:
            print(f"  indexed {description} ({total} chunks)", file=sys.stderr, flush=True)
            done[description] = total

    from assistant.index.store import get_store

    if not get_store(settings).count():
        print("Building the index from the bundled corpus (first run only)…", file=sys.stderr, flush=True)
    report = ensure_index(settings, on_progress)
    if report is not None and report.failed:
        for failed in report.failed:
            print(f"  skipped {failed.path}: {failed.error}", file=sys.stderr, flush=True)
    try:  # warm up: embeddings, BM25, the grounding checker and the chat model, once per process
        from assistant.grounding import get_checker
        from assistant.models.chat import get_chat_model
        from assistant.retrieval import search

        search("social value", settings, k=1)
        get_checker(settings).score("Social value matters.", ["Social value matters."])
        get_chat_model(settings)
    except Exception as exc:  # the app still starts; the chat shows the error when it is used
        print(f"warning: could not load every model up front ({exc})", file=sys.stderr, flush=True)


WARMED_UP = "verifier warmed up"
"""Start of the line the app logs when the warm-up is done."""


def start_warm_up(settings: Settings) -> threading.Thread:
    """Run :func:`assistant.answer.warm_up_verifier` in the background: the app serves at once, and is quick
    from then on."""

    def run() -> None:
        started = time.perf_counter()
        try:
            from assistant.answer import warm_up_verifier

            count = warm_up_verifier(settings)
        except Exception as exc:  # only an optimisation: questions still embed what they need
            print(f"warning: could not warm up the verifier ({exc})", file=sys.stderr, flush=True)
            return
        print(
            f"  {WARMED_UP}: {count} chunks in {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
            flush=True,
        )

    thread = threading.Thread(target=run, name="pva-warm-up", daemon=True)
    thread.start()
    return thread


def launch(settings: Settings | None = None, *, prevent_thread_lock: bool = False) -> "gr.Blocks":
    """Prepare the index and models, then serve the app on ``settings.host:settings.port``."""
    settings = settings or get_settings()
    _prepare_gradio_env(settings)
    access = chat_ui.load_access(settings)
    warning = chat_ui.exposure_warning(settings.host, access)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    prepare(settings)
    start_warm_up(settings)
    demo = build_app(settings, access)
    serve(demo, settings, access, prevent_thread_lock=prevent_thread_lock)
    return demo


def serve(
    demo: "gr.Blocks",
    settings: Settings,
    access: chat_ui.Access,
    *,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> None:
    """Launch a built app with the project's options: login, upload size limit, no SSR, no stack traces."""
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
