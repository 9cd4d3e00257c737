"""The app in a real browser: Debian's Chromium driven by Playwright, doing what a new user would do.

Find the question box and the examples on the first screen, ask a question and watch the answer stream in, open a
citation from its [n], copy the answer as clean text, rate it and find the rating stored, reload and find the
conversation again, upload a document and get an answer citing it, remove it after confirming, get plain messages
for bad input, draft a response and download it. Screenshots of each tab go to ``test-artifacts/`` (and to
``docs/screenshots/`` with ``PVA_UPDATE_SCREENSHOTS=1``).

Chromium comes from the distribution (``apt-get install chromium``, done by ``.ci/run``), never from
``playwright install``: nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_app_client import RunningApp, free_port, start_app, stop_app

from assistant.web import chat, draft_form
from assistant.web.chat import CHECKING_NOTE

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
README_SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ANSWER_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def running_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    app = start_app(tmp_path_factory.mktemp("app-browser"))
    yield app
    stop_app(app)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `apt-get install -y chromium` (the CI script does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, running_app: RunningApp):
    """One page for the whole module, as one user's session: the flows build on each other."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 960},
        accept_downloads=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(running_app.url)
    page.wait_for_selector("#pva-question textarea")
    wait_for_status(page, "chunks")
    yield page
    context.close()


def wait_for_status(page, text: str) -> None:
    """Open “About this assistant”, wait until the technical status says ``text``, and fold it again."""
    about = page.get_by_text("About this assistant")
    about.click()
    page.locator(f"#pva-status:has-text({json.dumps(text)})").wait_for(timeout=120_000)
    about.click()


def records(running_app: RunningApp) -> list[dict]:
    path = running_app.data_dir / "feedback.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot as a test artifact (and for the README when PVA_UPDATE_SCREENSHOTS=1)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("PVA_UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SCREENSHOTS / path.name)
    return path


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def watch_last_message(page) -> None:
    """Record every state the chat's last bot message goes through (to prove the answer streamed)."""
    page.evaluate(
        """() => {
            window.__pvaStates = [];
            const chat = document.querySelector('#pva-chat');
            const record = () => {
                const bots = chat.querySelectorAll('.message.bot, [data-testid="bot"]');
                const last = bots[bots.length - 1];
                if (last) {
                    const text = last.innerText;
                    if (window.__pvaStates[window.__pvaStates.length - 1] !== text) window.__pvaStates.push(text);
                }
            };
            new MutationObserver(record).observe(chat, {subtree: true, childList: true, characterData: true});
        }"""
    )


def pick_document(page, title: str) -> None:
    """Choose a document in the Sources tab's picker (a Gradio dropdown: open it, click the option)."""
    page.click("#pva-doc-picker input")
    page.get_by_role("option", name=title).click()
    page.locator(f"#pva-sections:has-text({json.dumps(title)})").wait_for()


def ask(page, question: str) -> None:
    page.fill("#pva-question textarea", question)
    page.click("#pva-ask")


def wait_for_citation(page, text: str | None = None):
    selector = "#pva-chat details.pva-citation"
    if text:
        selector += f":has-text({json.dumps(text)})"
    locator = page.locator(selector).first
    locator.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    return locator


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_first_screen_shows_the_question_box_and_examples(browser, running_app: RunningApp, size) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(running_app.url)
    page.wait_for_selector("#pva-question textarea")
    page.get_by_role("button", name=chat.EXAMPLE_QUESTIONS[-1]).wait_for()
    assert in_viewport(page, "#pva-question textarea") and in_viewport(page, "#pva-ask")
    for question in chat.EXAMPLE_QUESTIONS:
        assert in_viewport(page, f"button:has-text({json.dumps(question)})"), question
    assert "quotes the passages" in page.inner_text("#pva-chat-intro")
    assert not page.locator("#pva-status").is_visible(), "the technical status is folded away"
    assert not page.locator("#pva-feedback").is_visible(), "nothing to rate before an answer"
    page.get_by_text("About this assistant").click()
    page.locator("#pva-status:has-text('Chat backend')").wait_for()
    page.get_by_text("About this assistant").click()
    if size == (1366, 768):
        screenshot(page, "first-screen", full_page=False)
    context.close()


def quoted_from_principles(quote: str) -> bool:
    """Whether every piece of a (possibly shortened, "...") quote is text of the Principles of Social Value."""
    source = " ".join((ROOT / "corpus" / "social-value-principles.md").read_text(encoding="utf-8").split())
    pieces = [" ".join(p.split()).strip(" –-") for p in quote.replace("…", "...").split("...")]
    return bool(quote.strip()) and all(p in source for p in pieces if p)


def test_ask_see_streamed_answer_and_expand_a_citation(page) -> None:
    watch_last_message(page)
    ask(page, "What are the principles of social value?")
    citation = wait_for_citation(page)
    states = page.evaluate("window.__pvaStates")
    assert any(CHECKING_NOTE.strip("*") in s or "▍" in s for s in states), states
    assert len(states) >= 2, "the answer appeared before its citations were checked"
    quote = citation.locator(".pva-quote")
    assert not quote.is_visible(), "the quote is folded until the reader opens it"
    citation.locator("summary").click()
    quote.wait_for(state="visible")
    assert quoted_from_principles(quote.inner_text())
    assert "Section:" in citation.inner_text() and "Framework:" in citation.inner_text()
    page.locator("#pva-chat").scroll_into_view_if_needed()
    screenshot(page, "chat")


def test_a_citation_opens_from_its_number(page) -> None:
    page.evaluate("document.querySelectorAll('#pva-chat details.pva-citation').forEach(d => d.open = false)")
    mark = page.locator("#pva-chat .pva-ref a").last
    target = mark.get_attribute("href").removeprefix("#")
    mark.click()
    page.wait_for_function("(id) => document.getElementById(id)?.open === true", arg=target)
    assert page.locator(f"#{target} .pva-quote").is_visible()


def test_copy_gives_clean_text(page) -> None:
    page.evaluate("navigator.clipboard.writeText('')")
    page.click("#pva-copy")
    page.wait_for_function("async () => (await navigator.clipboard.readText()).length > 0")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "<" not in copied and "pva-" not in copied, copied
    answer, sources = copied.split("\n\nSources:\n")
    assert "[1]" in answer
    first = sources.splitlines()[0]
    assert first.startswith("[1] Social value and the Principles of Social Value — ")
    assert quoted_from_principles(first.split("“", 1)[1].rsplit("”", 1)[0])
    assert "https://" in first


def test_feedback_is_stored(page, running_app: RunningApp) -> None:
    assert not page.locator("#pva-up, #pva-down").count(), "one way to rate: the thumbs on the answer"
    before = len(records(running_app))
    page.fill("#pva-comment textarea", "Clear answer, useful quote.")
    page.locator("#pva-chat").get_by_role("button", name="Like", exact=True).last.click()
    page.locator("#pva-feedback-message:has-text('Thank you')").wait_for()
    stored = records(running_app)
    assert len(stored) == before + 1, "one rating, one record"
    record = stored[-1]
    assert record["rating"] == "up" and record["comment"] == "Clear answer, useful quote."
    assert record["question"] == "What are the principles of social value?"
    assert record["answer"] and record["citations"] and record["backend"] == "extractive"
    assert page.input_value("#pva-comment textarea") == "", "the comment box is cleared once sent"


def test_conversation_survives_a_reload_and_downloads(page, tmp_path: Path) -> None:
    page.reload()
    wait_for_citation(page)
    assert "What are the principles of social value?" in page.inner_text("#pva-chat")
    assert "What are the principles of social value?" in page.input_value("#pva-past input")
    for button, suffix in (("#pva-chat-md", ".md"), ("#pva-chat-docx", ".docx")):
        with page.expect_download() as info:
            page.click(button)
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(str(target))
        assert target.suffix == suffix
        if suffix == ".md":
            text = target.read_text(encoding="utf-8")
            assert "## 1. What are the principles of social value?" in text and "- [1] Social value" in text
    wait_for_status(page, "chunks")


def test_upload_a_document_then_get_an_answer_citing_it(page, tmp_path: Path) -> None:
    doc = tmp_path / "zephyr-pledge.md"
    doc.write_text(
        "# Zephyr Borough Pledge\n\n## Quokka index\n\n"
        "The quokka index measures how many residents volunteer in community gardens each month.\n",
        encoding="utf-8",
    )
    open_tab(page, "Sources")
    page.locator("#pva-documents").wait_for()
    page.set_input_files("#pva-upload input[type=file]", str(doc))
    page.locator("#pva-upload:has-text('zephyr-pledge')").wait_for()
    page.click("#pva-ingest")
    page.locator("#pva-upload-results:has-text('ingested')").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "zephyr-pledge" in page.inner_text("#pva-upload-results")
    page.locator("#pva-documents:has-text('Zephyr Borough Pledge')").wait_for()
    wait_for_status(page, "7 documents")
    pick_document(page, "Zephyr Borough Pledge")
    section = page.locator("#pva-sections details.pva-doc-section").first
    section.locator("summary").click()
    assert "volunteer in community gardens" in section.inner_text()
    screenshot(page, "sources")

    open_tab(page, "Chat")
    page.click("#pva-clear")
    ask(page, "What does the quokka index measure?")
    citation = wait_for_citation(page, "Zephyr Borough Pledge")
    citation.locator("summary").click()
    assert "volunteer in community gardens" in citation.locator(".pva-quote").inner_text()


def test_remove_a_document_after_confirming(page) -> None:
    open_tab(page, "Sources")
    page.click("#pva-remove-picker input")
    page.get_by_role("option", name="Zephyr Borough Pledge").click()
    page.click("#pva-remove-ask")
    prompt = page.locator("#pva-remove-prompt")
    prompt.wait_for()
    assert "Zephyr Borough Pledge" in prompt.inner_text() and "1 chunk" in prompt.inner_text()
    assert "Zephyr Borough Pledge" in page.inner_text("#pva-documents"), "nothing is removed before confirming"
    page.click("#pva-remove")
    page.locator("#pva-remove-message:has-text(\"Removed 'zephyr-pledge'\")").wait_for()
    wait_for_status(page, "6 documents")
    assert "Zephyr Borough Pledge" not in page.inner_text("#pva-documents")
    assert not page.locator("#pva-remove-confirm").is_visible()


def test_a_wrong_file_type_gets_a_plain_message(page, tmp_path: Path) -> None:
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00")
    open_tab(page, "Sources")
    page.set_input_files("#pva-upload input[type=file]", str(exe))
    page.locator("#pva-upload-message:has-text('tool.exe was not added')").wait_for()
    assert ".pdf" in page.inner_text("#pva-upload-message")
    assert "Error" not in page.inner_text("#pva-upload") and not page.locator(".toast-body").count()


def test_empty_question_gets_a_clear_message(page) -> None:
    open_tab(page, "Chat")
    page.click("#pva-clear")
    ask(page, "   ")
    page.locator("#pva-chat:has-text('The question is empty')").wait_for()


def test_markup_and_long_questions_are_shown_as_text(page) -> None:
    page.click("#pva-clear")
    ask(page, "<img src=x onerror=window.__pwned=1> What is public value?")
    page.locator("#pva-chat:has-text('<img src=x')").wait_for()
    assert page.locator("#pva-chat img[src=x]").count() == 0 and page.evaluate("window.__pwned") is None
    page.click("#pva-clear")
    ask(page, "why " * 1250)
    page.locator("#pva-chat:has-text('characters long')").wait_for()
    assert "(4,999 characters)" in page.inner_text("#pva-chat")
    assert page.inner_text("#pva-chat").count("why") < 100


def test_draft_and_download_it(page, tmp_path: Path) -> None:
    open_tab(page, "Draft")
    page.click("#pva-draft-example")
    page.locator("#pva-commit-new-businesses-jobs-skills textarea").wait_for(state="visible")
    assert "apprenticeships" in page.input_value("#pva-commit-new-businesses-jobs-skills textarea")
    page.click("#pva-draft")
    page.locator("#pva-wordcount:has-text('words')").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "/ 750 words" in page.inner_text("#pva-wordcount")
    assert "Grounds Maintenance Services" in page.inner_text("#pva-draft-output")
    assert "References" in page.inner_text("#pva-draft-output")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "draft", full_page=False)
    for button, suffix in (("#pva-docx", ".docx"), ("#pva-md", ".md")):
        with page.expect_download() as info:
            page.click(button)
        download = info.value
        target = tmp_path / download.suggested_filename
        download.save_as(str(target))
        assert target.suffix == suffix
        data = target.read_bytes()
        assert data[:2] == b"PK" if suffix == ".docx" else data.startswith(b"# Grounds Maintenance Services")


def test_a_word_limit_of_10_gets_a_plain_message_and_clears_the_draft(page) -> None:
    open_tab(page, "Draft")
    page.fill("#pva-limit input", "10")
    page.click("#pva-draft")
    page.locator("#pva-draft-output:has-text('word_limit')").wait_for()
    assert "50" in page.inner_text("#pva-draft-output")
    assert not page.locator(".toast-body").count(), "no error popup"
    assert not page.locator("#pva-docx").is_visible() and page.inner_text("#pva-wordcount").strip() == ""
    assert "Grounds Maintenance Services" not in page.inner_text("#pva-draft-output"), "the old draft is cleared"


def test_a_draft_from_we_will_commitments_reads_well_and_shows_each_commitments_checklist(page) -> None:
    commitments = {
        "new-businesses-jobs-skills": "We will create 500 jobs",
        "environmental-stewardship": "We'll cut fleet emissions by 30% by 2027",
    }
    open_tab(page, "Draft")
    page.fill("#pva-title textarea", "Fleet and jobs pledge")
    page.fill("#pva-buyer textarea", "Exampleshire County Council")
    page.fill("#pva-limit input", "500")
    for label, outcome_id in draft_form.outcome_choices():  # the example's themes may hide some outcomes
        box = page.locator("#pva-outcomes").get_by_label(label, exact=True)
        if outcome_id in commitments:
            box.check()
        elif box.count():
            box.uncheck()
    for outcome_id, text in commitments.items():
        page.locator(f"#pva-commit-{outcome_id} textarea").wait_for(state="visible")
        page.fill(f"#pva-commit-{outcome_id} textarea", text)
    page.fill("#pva-evidence textarea", "")
    page.fill("#pva-reporting textarea", "")
    page.click("#pva-draft")
    page.locator("#pva-draft-output:has-text('Fleet and jobs pledge')").wait_for(timeout=ANSWER_TIMEOUT_MS)
    body = page.inner_text("#pva-draft-output").split("References")[0]
    assert "create 500 jobs" in body and "cut fleet emissions by 30%" in body, body
    for clumsy in ("to we will", "to we'll", "to we’ll", "towards cut", "towards we"):
        assert clumsy not in body.lower(), clumsy
    flags = page.inner_text("#pva-flags")
    assert "Checked: every figure" in flags and "No over-claims found" not in flags
    assert "Commitment checklist" in flags and "We will create 500 jobs" in flags and "We'll cut fleet" in flags
    assert "☑ quantity: 500" in flags and "☑ time frame: by 2027" in flags
    assert "☐ no evidence given" in flags and "☐ no measurement or reporting" in flags
    assert "commitment gap" not in flags, "gaps are shown in the checklist, not again as flags"
    page.locator("#pva-flags").scroll_into_view_if_needed()
    screenshot(page, "draft-checklist", full_page=False)


def test_unsupported_sentences_and_footnotes_survive_the_chatbot_sanitiser(browser, tmp_path, monkeypatch) -> None:
    """The app's strict default removes unsupported sentences, so render a lenient answer directly: Gradio's HTML
    sanitiser must keep the ⚠ highlight, the note and the expandable footnote, and drop injected markup."""
    import gradio as gr

    import app as web_app
    from assistant.types import Answer, Citation, Grounding, SentenceCheck

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    citation = Citation(
        n=1,
        doc_id="d",
        title="The Public Value Framework",
        section="The Public Value Framework › Pillar two",
        quote="How does the public body use cost benchmarking? <img src=x onerror=window.__pwned=1>",
        source="https://www.gov.uk/guidance",
    )
    answer = Answer(
        question="q",
        answer="",
        citations=[citation],
        backend="fake",
        grounding=Grounding(supported=1, total=2, unsupported=["x"]),
        sentences=[
            SentenceCheck(text="Public bodies benchmark their costs.", citations=[1], supported=True),
            SentenceCheck(text="It was written in 1850 by the Duke of Wellington.", citations=[1], supported=False),
        ],
    )
    with gr.Blocks() as demo:
        gr.Chatbot(
            value=[{"role": "user", "content": "q"}, {"role": "assistant", "content": chat.render_answer(answer)}],
            elem_id="pva-chat",
        )
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, css=web_app.CSS)
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        mark = page.locator("#pva-chat mark.pva-unsupported")
        mark.wait_for()
        assert "Duke of Wellington" in mark.inner_text() and mark.inner_text().startswith("⚠")
        assert page.locator("#pva-chat .pva-note").first.inner_text().startswith("⚠ Highlighted sentences")
        page.click("#pva-chat details.pva-citation summary")
        assert "cost benchmarking" in page.inner_text("#pva-chat .pva-quote")
        assert page.locator("#pva-chat img[src=x]").count() == 0
        assert page.evaluate("window.__pwned") is None
        page.close()
    finally:
        demo.close()
