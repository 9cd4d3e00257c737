"""The app's logic, called directly (no Gradio, no browser): chat rendering, feedback, uploads, login, drafts.

The chat runs the real answer chain over the session's corpus index, with the extractive backend or the
scripted fake chat model (for streaming and for sentences the verifier cannot support).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.config import Settings
from assistant.drafting import Draft, DraftFlag
from assistant.drafting.checklist import advice
from assistant.drafting.types import CommitmentCheck
from assistant.feedback import feedback_path, read_feedback, record_feedback
from assistant.types import Answer, Citation, Grounding, SentenceCheck, message_text
from assistant.web import chat, conversation, draft_form, sources, startup
from assistant.web.access import ADMIN_ONLY, Access, exposure_warning, identity_line, load_access, request_user
from ingest.uploads import UploadError, check_upload, ingest_uploads, safe_filename, uploads_dir

PUBLIC_VALUE = "Public value describes the value that an organization contributes to society"
INVENTED = "The framework was written in 1850 by the Duke of Wellington"


def _final(messages_stream) -> list[list[dict]]:
    """Every step the chat generator yielded (the last one is the finished answer)."""
    return list(messages_stream)


def _assistant(messages: list[dict]) -> str:
    assert messages[-1]["role"] == "assistant"
    return message_text(messages[-1]["content"])


# ------------------------------------------------------------------------------------------------- rendering


def _citation(**overrides) -> Citation:
    values = {
        "n": 1,
        "doc_id": "doc",
        "title": "Framework <script>alert(1)</script>",
        "section": "Part one › <b>Section</b>",
        "quote": 'A quoted "passage" & <img src=x onerror=alert(1)>',
        "source": "https://example.org/guide?a=1&b=2",
    }
    return Citation(**{**values, **overrides})


def test_citation_footnote_is_expandable_and_escaped() -> None:
    html = chat.render_citation(_citation())
    assert html.startswith('<details class="pva-citation"') and html.endswith("</details>")
    assert "<summary><b>[1]</b> Framework &lt;script&gt;" in html
    assert "Section: Part one › &lt;b&gt;Section&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>" not in html and "<img" not in html
    assert 'href="https://example.org/guide?a=1&amp;b=2"' in html and ">example.org</a>" in html


def test_local_source_shows_only_the_file_name() -> None:
    html = chat.render_citation(_citation(source="/srv/secret/path/guide.md"))
    assert "guide.md" in html and "/srv/secret" not in html


def _answer(sentences: list[SentenceCheck], removed: int = 0, refused: bool = False) -> Answer:
    return Answer(
        question="q",
        answer=" ".join(s.text for s in sentences) or "refusal text",
        refused=refused,
        citations=[_citation(title="Framework", section="S", quote="Q")] if sentences else [],
        backend="fake",
        grounding=Grounding(
            supported=sum(s.supported for s in sentences),
            total=len(sentences) + removed,
            unsupported=[s.text for s in sentences if not s.supported],
        ),
        sentences=sentences,
    )


def test_unsupported_sentences_are_visibly_marked() -> None:
    answer = _answer(
        [
            SentenceCheck(text="Supported claim.", citations=[1], supported=True),
            SentenceCheck(text="Invented <claim>.", citations=[1], supported=False),
        ]
    )
    html = chat.render_answer(answer)
    assert '<mark class="pva-unsupported"' in html and "⚠ Invented &lt;claim&gt;." in html
    assert "Supported claim." in html.split("<mark")[0]
    assert chat.UNSUPPORTED_NOTE in html
    assert html.count('<a href="#cite-0-1" title="Open source 1">[1]</a>') == 2
    assert chat.CITATIONS_MARKER in html


def test_removed_sentences_are_counted_and_lists_stay_lists() -> None:
    answer = _answer(
        [
            SentenceCheck(text="Intro.", citations=[1], supported=True),
            SentenceCheck(text="- first item", citations=[1], supported=True),
            SentenceCheck(text="- second item", citations=[1], supported=True),
        ],
        removed=2,
    )
    html = chat.render_answer(answer)
    assert "2 sentence(s) were left out" in html
    body = chat.render_answer_text(answer)
    assert body.splitlines()[0].startswith("Intro.")
    assert body.splitlines()[1] == ""
    assert body.splitlines()[2].startswith("- first item")


def test_refusal_is_plain_text() -> None:
    answer = _answer([], refused=True)
    answer.answer = "The framework texts don't cover that <b>."
    assert chat.render_answer(answer) == "The framework texts don&#x27;t cover that &lt;b&gt;."


def test_clean_history_drops_footnotes_and_tags() -> None:
    rendered = chat.render_answer(_answer([SentenceCheck(text="A & B.", citations=[1], supported=True)]))
    history = [
        {"role": "user", "content": [{"type": "text", "text": "What is it?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": rendered}]},
    ]
    assert chat.clean_history(history) == [
        {"role": "user", "content": "What is it?"},
        {"role": "assistant", "content": "A & B. [1]"},
    ]


def test_each_citation_mark_links_to_its_footnote_in_that_message() -> None:
    answer = _answer([SentenceCheck(text="Claim.", citations=[1], supported=True)])
    html = chat.render_answer(answer, 5)
    assert '<a href="#cite-5-1"' in html and '<details class="pva-citation" id="cite-5-1"' in html
    assert 'id="cite-3-1"' in chat.render_answer(answer, 3), "each message's footnotes have their own ids"


def test_question_bubble_shows_markup_as_text_and_long_questions_by_their_start(settings: Settings) -> None:
    bubble = chat.question_bubble("Is <img src=x onerror=alert(1)> & co covered?", settings)
    assert "<img" not in bubble and "&lt;img src=x onerror=alert(1)&gt; &amp; co" in bubble
    long = "word " * 1000
    bubble = chat.question_bubble(long, settings)
    assert len(bubble) < 400 and bubble.endswith("(4,999 characters)")
    history = [{"role": "user", "content": chat.question_bubble("R&D <spend>?", settings)}]
    assert chat.clean_history(history) == [{"role": "user", "content": "R&D <spend>?"}]


def test_copied_answer_is_clean_text_with_numbered_sources() -> None:
    turn = {
        "answer": "Public bodies benchmark costs. [1]",
        "citations": [
            _citation(title="Public Value Framework", section="Pillar two", quote="Use benchmarks.").model_dump(),
            _citation(n=2, title="Local", section="S", quote="Q.", source="/srv/local/file.md").model_dump(),
        ],
    }
    text = chat.turn_text(turn)
    assert text.startswith("Public bodies benchmark costs. [1]\n\nSources:\n")
    assert "[1] Public Value Framework — Pillar two: “Use benchmarks.” https://example.org/guide?a=1&b=2" in text
    assert "[2] Local — S: “Q.”" in text and "/srv/local" not in text
    assert "<" not in text
    assert chat.turn_text(None) == ""


# ------------------------------------------------------------------------------------------------- conversations


def _conversation_turns() -> list[dict]:
    citation = _citation(title="Social Value Model", section="Theme 1", quote="Tackle inequality.").model_dump()
    return [
        {"index": 1, "question": "What is the Social Value Model?", "answer": "A model. [1]", "citations": [citation]},
        {"index": 3, "question": "And its themes?", "answer": "Five themes.", "citations": []},
    ]


def test_conversations_are_saved_newest_first_and_reopened(monkeypatch: pytest.MonkeyPatch) -> None:
    messages = [{"role": "user", "content": "What is &lt;this&gt;?"}, {"role": "assistant", "content": "A."}]
    saved, first = conversation.save_conversation([], None, messages, [{"index": 1}])
    saved, second = conversation.save_conversation(saved, None, [{"role": "user", "content": "Other?"}], [])
    assert first != second and [c["id"] for c in saved] == [second, first]
    assert conversation.find_conversation(saved, first)["messages"] == messages
    assert conversation.find_conversation(saved, first)["title"] == "What is <this>?"
    saved, again = conversation.save_conversation(saved, first, [*messages, *messages], [])
    assert again == first and [c["id"] for c in saved] == [first, second], "the one in use moves to the top"
    assert [label.split(" · ")[0] for label, _ in conversation.conversation_choices(saved)] == [
        "What is <this>?",
        "Other?",
    ]
    monkeypatch.setattr(conversation, "MAX_SAVED", 3)
    for _ in range(5):
        saved, _ = conversation.save_conversation(saved, None, messages, [])
    assert len(saved) == 3
    assert conversation.save_conversation(saved, None, [], []) == (saved, None), "an empty chat is not saved"


def test_conversation_exports_as_markdown_and_word(tmp_path: Path) -> None:
    from docx import Document

    md_path, docx_path = conversation.export_conversation(_conversation_turns(), tmp_path)
    markdown = Path(md_path).read_text(encoding="utf-8")
    assert "## 1. What is the Social Value Model?" in markdown and "## 2. And its themes?" in markdown
    assert "- [1] Social Value Model — Theme 1: “Tackle inequality.” https://example.org/guide?a=1&b=2" in markdown
    text = "\n".join(p.text for p in Document(docx_path).paragraphs)
    assert "What is the Social Value Model?" in text and "Tackle inequality." in text and "Five themes." in text
    assert conversation.export_conversation([], tmp_path) == (None, None)


def test_browser_secret_survives_a_restart(settings: Settings) -> None:
    key = conversation.browser_secret(settings)
    assert len(key) >= 32 and conversation.browser_secret(settings) == key
    assert (settings.data_dir / "browser-state.key").stat().st_mode & 0o077 == 0


# ------------------------------------------------------------------------------------------------- chat


def test_respond_answers_with_citations_and_reports_the_turn(corpus_settings) -> None:
    turns: list[chat.ChatTurn] = []
    steps = _final(
        chat.respond(
            chat.EXAMPLE_QUESTIONS[0],
            [],
            None,
            settings=corpus_settings,
            backend="extractive",
            on_answer=lambda answer, turn: turns.append(turn),
        )
    )
    final = steps[-1]
    assert [m["role"] for m in final] == ["user", "assistant"]
    assert final[0]["content"] == chat.EXAMPLE_QUESTIONS[0]
    text = _assistant(final)
    assert '<details class="pva-citation"' in text and '<blockquote class="pva-quote">' in text
    assert "Principles of Social Value" in text
    assert len(steps) >= 2, "the text is shown before verification finishes"
    assert chat.CHECKING_NOTE in _assistant(steps[-2])
    (turn,) = turns
    assert turn.index == 1 and turn.citations and turn.backend == "extractive" and not turn.refused


def test_respond_streams_model_tokens_and_marks_unsupported(corpus_settings, fake_chat) -> None:
    lenient = corpus_settings.model_copy(update={"strict_grounding": False})
    steps = _final(
        chat.respond(
            "What is public value?", None, [], settings=lenient, llm=fake_chat(f"{PUBLIC_VALUE} [1]. {INVENTED} [1].")
        )
    )
    partial = [_assistant(s) for s in steps if s[-1]["content"].endswith("▍")]
    assert len(partial) > 5, "tokens arrive one by one"
    assert partial[0] in partial[-1][: len(partial[0])] or len(partial[0]) < len(partial[-1])
    final = _assistant(steps[-1])
    assert '<mark class="pva-unsupported"' in final and "Duke of Wellington" in final.split("<mark")[1]
    assert PUBLIC_VALUE in final.split("<mark")[0]


def test_respond_uses_history_for_follow_ups(corpus_settings, fake_chat) -> None:
    model = fake_chat(
        "What are the principles of social value?", f"{PUBLIC_VALUE} [1]."
    )  # first reply: the rewrite; second: the answer
    history = [
        {"role": "user", "content": "What are the principles of social value?"},
        {"role": "assistant", "content": "They are seven principles. " + chat.render_citations([_citation()])},
    ]
    steps = _final(chat.respond("And the first one?", history, None, settings=corpus_settings, llm=model))
    assert len(steps[-1]) == 4
    sent = " ".join(str(m.content) for prompt in model.prompts for m in prompt)
    assert "They are seven principles." in sent
    assert "pva-citation" not in sent, "the footnote HTML is not sent back to the model"


def test_refusal_when_texts_do_not_cover_it(corpus_settings) -> None:
    turns = []
    final = _final(
        chat.respond(
            "What is the capital of France?",
            [],
            None,
            settings=corpus_settings,
            backend="extractive",
            on_answer=lambda a, t: turns.append(t),
        )
    )[-1]
    text = _assistant(final)
    assert "don&#x27;t cover" in text and "pva-citation" not in text
    assert turns[0].refused


def test_unexpected_errors_are_not_shown_as_tracebacks(corpus_settings, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire at /secret/path")

    monkeypatch.setattr("assistant.answer.ask_stream", broken)
    text = _assistant(_final(chat.respond("What is public value?", [], None, settings=corpus_settings))[-1])
    assert text.startswith("⚠ Something went wrong while answering. Try again")
    assert "/secret/path" not in text


def test_framework_filter_restricts_the_sources(corpus_settings) -> None:
    markdown, citations, refused = chat.ask_for_api(
        "What are the principles of good governance?", ["cipfa-ifac-good-governance"], settings=corpus_settings
    )
    assert not refused and citations
    assert {c["doc_id"] for c in citations} == {"cipfa-ifac-good-governance"}
    assert "Sources:" in markdown and "[1]" in markdown


# ------------------------------------------------------------------------------------------------- feedback


def test_feedback_is_stored_with_the_answer(settings: Settings) -> None:
    turn = {
        "index": 1,
        "question": "Q?",
        "answer": "A. [1]",
        "citations": [{"n": 1, "quote": "q"}],
        "backend": "extractive",
        "history": [{"role": "user", "content": "before"}],
    }
    message = chat.give_feedback("Dislike", turn, "  missing the TOMs  ", user="alice", settings=settings)
    assert message.startswith("Thank you") and "comment" in message
    (record,) = read_feedback(settings)
    assert record["rating"] == "down" and record["comment"] == "missing the TOMs" and record["user"] == "alice"
    assert record["question"] == "Q?" and record["citations"] == [{"n": 1, "quote": "q"}]
    assert record["backend"] == "extractive" and record["history"] == turn["history"] and record["ts"]
    assert feedback_path(settings) == settings.data_dir / "feedback.jsonl"
    assert chat.give_feedback("up", None, settings=settings).startswith("Ask a question first")


def test_rating_clears_the_comment_only_once_it_is_saved(settings: Settings) -> None:
    turns = [{"index": 1, "question": "first?", "answer": "A."}, {"index": 3, "question": "second?", "answer": "B."}]
    message, comment = chat.rate_turn("up", turns, "spot on", index=1, user="alice", settings=settings)
    assert message.startswith("Thank you") and comment == ""
    message, comment = chat.rate_turn("down", [], "too vague", settings=settings)
    assert message.startswith("Ask a question first") and comment == "too vague"
    stored = [(r["question"], r["rating"], r["comment"]) for r in read_feedback(settings)]
    assert stored == [("first?", "up", "spot on")]


def test_feedback_is_fsynced_before_it_is_acknowledged(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    path = feedback_path(settings)
    synced: list[bytes] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        if os.path.exists(path) and os.path.samestat(os.fstat(fd), os.stat(path)):
            synced.append(path.read_bytes())  # what the file held when it was flushed to disk
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    record_feedback("up", question="kept after a power cut?", answer="a", settings=settings)
    assert len(synced) == 1 and b"kept after a power cut?" in synced[0]
    assert synced[0] == path.read_bytes(), "the record was written before the fsync, and nothing after it"


def test_feedback_reader_skips_a_torn_last_line_and_writer_repairs_it(settings: Settings) -> None:
    record_feedback("up", question="one", answer="a", settings=settings)
    with feedback_path(settings).open("ab") as handle:
        handle.write(b'{"ts": "2026-01-01", "rating": "up", "quest')  # a crash mid-write
    assert [r["question"] for r in read_feedback(settings)] == ["one"]
    record_feedback(True, question="two", answer="b", settings=settings)
    assert [r["question"] for r in read_feedback(settings)] == ["one", "two"]


def test_concurrent_feedback_lines_never_interleave(settings: Settings) -> None:
    def write(worker: int) -> None:
        for i in range(25):
            record_feedback("up", question=f"{worker}-{i}", answer="x" * 5000, settings=settings)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = read_feedback(settings)
    assert len(records) == 150
    assert len(feedback_path(settings).read_bytes().splitlines()) == 150


def test_unknown_rating_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="use 'up' or 'down'"):
        record_feedback("meh", question="q", answer="a", settings=settings)


# ------------------------------------------------------------------------------------------------- uploads


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\evil.MD", "evil.md"),
        ("my report (final).PDF", "my-report-final.pdf"),
        (".hidden.txt", "hidden.txt"),
        ("", "document"),
        ("a\x00b.txt", "ab.txt"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_upload_refuses_types_the_loaders_do_not_read(settings: Settings, tmp_path: Path) -> None:
    # Size, emptiness and unreadable files are rows of the Bad input table (docs/bad-input.md): tests/test_bad_input.py.
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(UploadError, match="not accepted"):
        check_upload(exe, exe.name, settings)


def test_upload_ingests_and_reports_per_file(settings: Settings, tmp_path: Path) -> None:
    good = tmp_path / "pledge.md"
    good.write_text("# Moorland Pledge\n\n## Peat\n\nThe council restores 40 hectares of blanket bog each year.\n")
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"\x00\x01binary")
    wrong = tmp_path / "sheet.xlsx"
    wrong.write_bytes(b"PK")
    rows, message = sources.upload_documents(
        [str(good), str(bad), {"path": str(good), "orig_name": "../../etc/pledge-copy.md"}, str(wrong)],
        settings=settings,
    )
    results = {row[0]: row for row in rows}
    assert results["pledge.md"][1].startswith("ingested") and results["pledge.md"][2] == "pledge"
    assert results["notes.txt"][1].startswith("failed: ") and "binary" in results["notes.txt"][1]
    assert results["sheet.xlsx"][1].startswith("failed: ") and ".pdf" in results["sheet.xlsx"][1]
    assert results["pledge-copy.md"][1].startswith("ingested")
    stored = sorted(p.name for p in uploads_dir(settings).iterdir())
    assert stored == ["pledge-copy.md", "pledge.md"], "a failed file is not kept; traversal stays inside"
    assert "2 file(s) ingested, 2 failed" in message
    assert [r[1] for r in sources.documents_table(settings)] == ["pledge", "pledge-copy"]
    sections = sources.document_sections("pledge", settings)
    assert "<summary>Moorland Pledge" in sections and "40 hectares" in sections
    assert "Index: **2 documents" in sources.status_line(settings)


def test_uploaded_document_can_be_asked_about_and_removed(settings: Settings, tmp_path: Path) -> None:
    doc = tmp_path / "zephyr-pledge.md"
    doc.write_text(
        "# Zephyr Borough Pledge\n\n## Quokka index\n\n"
        "The quokka index measures how many residents volunteer in community gardens each month.\n"
    )
    (result,) = ingest_uploads([str(doc)], settings)
    assert result.ok and result.doc_id == "zephyr-pledge"
    final = _final(chat.respond("What does the quokka index measure?", [], None, settings=settings))[-1]
    text = _assistant(final)
    assert "Zephyr Borough Pledge" in text and "volunteer" in text
    message = sources.remove_document_action("zephyr-pledge", settings=settings)
    assert message.startswith("Removed 'zephyr-pledge'")
    assert not (uploads_dir(settings) / "zephyr-pledge.md").exists()
    assert sources.remove_document_action("zephyr-pledge", settings=settings).startswith("No document")


def test_removal_names_the_document_and_restore_brings_a_framework_back(settings: Settings) -> None:
    assert sources.restore_corpus(settings=settings).startswith("Restored 6 bundled")
    title, chunks = next(
        (t, c) for t, d, c, _ in sources.documents_table(settings) if d == "social-value-act-and-model"
    )
    prompt, ask = sources.removal_prompt("social-value-act-and-model", settings=settings)
    assert ask and f"**{title}**" in prompt and f"{chunks} chunk" in prompt
    assert sources.removal_prompt(None, settings=settings) == (sources.PICK_TO_REMOVE, False)
    assert sources.removal_prompt("nope", settings=settings)[1] is False
    assert sources.remove_document_action("social-value-act-and-model", settings=settings).startswith("Removed")
    assert "social-value-act-and-model" not in [row[1] for row in sources.documents_table(settings)]
    assert sources.restore_corpus(settings=settings).startswith("Restored 1 bundled")
    assert "social-value-act-and-model" in [row[1] for row in sources.documents_table(settings)]
    assert sources.restore_corpus(settings=settings).startswith("Every bundled framework is already")


def test_chosen_files_are_checked_at_once(settings: Settings, tmp_path: Path) -> None:
    exe, doc = tmp_path / "tool.exe", tmp_path / "note.md"
    exe.write_bytes(b"MZ")
    doc.write_text("# Note\n\nText.\n")
    kept, message = sources.check_chosen_files([str(exe), str(doc)], settings)
    assert kept == [str(doc)]
    assert message.startswith("⚠ **tool.exe** was not added") and "not accepted" in message and ".pdf" in message
    assert sources.check_chosen_files([str(doc)], settings) == ([str(doc)], "")


# ------------------------------------------------------------------------------------------------- login


def test_logins_from_file_and_env(settings: Settings, tmp_path: Path) -> None:
    logins = tmp_path / "users.txt"
    logins.write_text("# staff\nalice:s3cret:admin\nbob:pa:ss\n\n")
    configured = settings.model_copy(
        update={"auth_file": logins, "auth_users": SecretStr("carol:pw"), "admin_users": "carol, dave"}
    )
    access = load_access(configured)
    assert access.enabled
    assert access.check("alice", "s3cret") and access.check("bob", "pa:ss") and access.check("carol", "pw")
    assert not access.check("alice", "wrong") and not access.check("eve", "")
    assert access.is_admin("alice") and access.is_admin("carol") and not access.is_admin("bob")
    assert not access.is_admin(None)


def test_without_login_everyone_may_change_the_index(settings: Settings) -> None:
    access = load_access(settings)
    assert not access.enabled and access.is_admin(None)


def test_exposed_host_without_login_warns() -> None:
    assert exposure_warning("127.0.0.1", Access()) is None
    assert "without a login" in exposure_warning("0.0.0.0", Access())
    assert exposure_warning("0.0.0.0", Access(users={"a": "b"})) is None


def test_malformed_login_file_names_the_entry(settings: Settings, tmp_path: Path) -> None:
    logins = tmp_path / "users.txt"
    logins.write_text("alice\n")
    with pytest.raises(ValueError, match="entry 1: expected `user:password`"):
        load_access(settings.model_copy(update={"auth_file": logins}))
    with pytest.raises(ValueError, match="cannot read the login file"):
        load_access(settings.model_copy(update={"auth_file": tmp_path / "missing.txt"}))


def test_identity_line_names_admins_only_when_login_is_on() -> None:
    access = Access(users={"alice": "a", "bob": "b"}, admins=frozenset({"alice"}))
    assert identity_line("alice", access) == "Logged in as **alice** (admin)"
    assert identity_line("bob", access) == "Logged in as **bob**"
    assert identity_line(None, access) == "" and identity_line("carol", Access()) == "Logged in as **carol**"


def test_only_admins_upload_and_remove_when_login_is_on(settings: Settings, tmp_path: Path) -> None:
    access = Access(users={"alice": "a", "bob": "b"}, admins=frozenset({"alice"}))
    doc = tmp_path / "x.md"
    doc.write_text("# X\n\nSome text about x.\n")
    rows, message = sources.upload_documents([str(doc)], user="bob", access=access, settings=settings)
    assert rows == [] and message == ADMIN_ONLY
    assert sources.remove_document_action("x", user="bob", access=access, settings=settings) == ADMIN_ONLY
    assert sources.removal_prompt("x", user="bob", access=access, settings=settings) == (ADMIN_ONLY, False)
    assert sources.restore_corpus(user="bob", access=access, settings=settings) == ADMIN_ONLY
    assert not uploads_dir(settings).exists()
    assert "logged in as **bob**" in sources.admin_note("bob", access) and sources.admin_note("alice", access) == ""


# ------------------------------------------------------------------------------------------------- draft


def _form(**overrides) -> dict:
    values = {
        "kind": "response",
        "title": "Parks maintenance",
        "buyer": "Exampleshire County Council",
        "supplier": "",
        "description": "",
        "question": "",
        "themes": [],
        "outcomes": ["new-businesses-jobs-skills"],
        "commitments": {
            "new-businesses-jobs-skills": "- 6 apprenticeships for local residents over 3 years\n\n",
            "environmental-stewardship": "typed, then the outcome was unticked",
        },
        "evidence": "",
        "resources": "",
        "reporting": "quarterly to the contract manager",
        "word_limit": 300.0,
        "tone": "formal",
    }
    return draft_form.draft_form_to_request(**{**values, **overrides})


def test_form_to_request_ignores_unticked_outcomes_and_bullets() -> None:
    data = _form()
    assert data["commitments"] == {"new-businesses-jobs-skills": ["6 apprenticeships for local residents over 3 years"]}
    assert data["word_limit"] == 300 and data["supplier"] is None and data["question"] is None


def test_form_fields_by_name_become_a_request() -> None:
    fields = {
        "title": "Parks",
        "buyer": "Council",
        "outcomes": ["environmental-stewardship"],
        "commitments_environmental_stewardship": "* net zero fleet by 2027",
        "commitments_new_businesses_jobs_skills": "typed, then the outcome was unticked",
        "word_limit": 400.0,
    }
    data = draft_form.fields_to_request(fields)
    assert data["commitments"] == {"environmental-stewardship": ["net zero fleet by 2027"]}
    assert data["kind"] == "response" and data["tone"] == "formal" and data["word_limit"] == 400


def test_example_fills_every_field_of_the_form() -> None:
    values = draft_form.example_fields(Path(__file__).parents[1] / "examples" / "response.yaml")
    assert list(values) == draft_form.field_names()
    assert values["outcomes"] == ["new-businesses-jobs-skills", "environmental-stewardship"]
    assert values["commitments_environmental_stewardship"].splitlines()[0] == "net zero fleet by 2027"
    assert values["commitments_community_cohesion"] == "" and values["word_limit"] == 750


def test_themes_narrow_the_outcomes() -> None:
    climate = [value for _, value in draft_form.outcomes_for_themes(["fighting-climate-change"])]
    assert climate == ["environmental-stewardship"]
    assert len(draft_form.outcomes_for_themes([])) == len(draft_form.outcome_choices()) == 8


def test_draft_from_the_form_gives_files_word_count_and_flags(corpus_settings, tmp_path: Path) -> None:
    view = draft_form.run_draft(_form(), tmp_path / "drafts", settings=corpus_settings, backend="extractive")
    assert view.ok, view.markdown
    assert view.markdown.startswith("# Parks maintenance")
    assert "6 apprenticeships" in view.markdown
    assert "/ 300 words" in view.word_count
    assert view.flags
    docx, md = Path(view.docx_path), Path(view.md_path)
    assert docx.read_bytes()[:2] == b"PK" and md.read_text(encoding="utf-8") == view.markdown
    assert docx.parent.parent == tmp_path / "drafts"


def _checked_draft(flags: list[DraftFlag], checks: list[CommitmentCheck]) -> Draft:
    return Draft(
        kind="response",
        title="Parks",
        summary="",
        sections=[],
        flags=flags,
        checks=checks,
        checked=["every figure against your input", "each commitment for a quantity"],
        word_count=10,
        word_limit=300,
        backend="extractive",
    )


def test_a_clean_draft_says_what_was_checked_and_lists_each_commitment() -> None:
    check = CommitmentCheck(
        commitment="We will create 500 jobs",
        outcome_id="new-businesses-jobs-skills",
        outcome="More jobs",
        found={"quantity": "500", "link to the outcome": "“jobs” bears on it"},
        missing=["time frame", "measurement and reporting", "evidence"],
    )
    gaps = [
        DraftFlag(kind="commitment_gap", text=advice(e), where="More jobs › We will create 500 jobs")
        for e in check.missing
    ]
    lines = draft_form.render_flags(_checked_draft(gaps, [check])).splitlines()
    assert lines[0].startswith("✓") and "every figure against your input; each commitment for a quantity" in lines[0]
    assert "No over-claims" not in lines[0] and not any(line.startswith("- ⚠") for line in lines), "gaps: checklist"
    assert "3 things to add" in "\n".join(lines) and "**More jobs › We will create 500 jobs**" in lines
    assert "- ☑ quantity: 500" in lines and "- ☑ link to the outcome: “jobs” bears on it" in lines
    assert "- ☐ " + advice("time frame") in lines and "- ☐ " + advice("evidence") in lines
    assert lines.index("- ☑ quantity: 500") < lines.index("- ☐ " + advice("time frame")), "in checklist order"


def test_flags_come_first_and_the_checklist_after_them() -> None:
    invented = DraftFlag(kind="invented_figure", text="£3m", where="Summary", removed=True, sentence="We saved £3m.")
    gap = DraftFlag(kind="commitment_gap", text=advice("evidence"), where="More jobs › 6 jobs")
    check = CommitmentCheck(commitment="6 jobs", outcome_id="o", outcome="More jobs", missing=["evidence"])
    text = draft_form.render_flags(_checked_draft([invented, gap], [check]))
    assert text.startswith("**Check before submitting:**") and "✓" not in text.split("**Commitment")[0]
    assert "- ⚠ **invented figure**: £3m [Summary] — *removed from the draft* (in: “We saved £3m.”)" in text
    assert text.count(advice("evidence")) == 1, "a gap is shown once, in the checklist"
    assert "*Checked: every figure against your input; each commitment for a quantity.*" in text
    assert text.index("invented figure") < text.index("Checked:") < text.index("**More jobs › 6 jobs**")
    assert "1 thing to add" in text


def test_a_draft_from_we_will_commitments_reads_well_and_shows_its_checklist(corpus_settings, tmp_path: Path) -> None:
    commitments = {
        "new-businesses-jobs-skills": "We will create 500 jobs",
        "environmental-stewardship": "We'll cut fleet emissions by 30% by 2027",
    }
    form = _form(outcomes=list(commitments), commitments=commitments, evidence="", reporting="")
    view = draft_form.run_draft(form, tmp_path, settings=corpus_settings, backend="extractive")
    assert view.ok, view.markdown
    body = view.markdown.split("## References")[0].lower()
    for clumsy in ("to we will", "to we'll", "towards cut", "to cut fleet emissions by 30% by 2027 by"):
        assert clumsy not in body, clumsy
    assert "create 500 jobs" in body and "cut fleet emissions by 30%" in body
    assert "**Commitment checklist**" in view.flags and "We will create 500 jobs**" in view.flags
    assert "- ☑ quantity: 500" in view.flags and "- ☐ " + advice("time frame") in view.flags
    assert "- ☑ time frame: by 2027" in view.flags


def test_draft_form_errors_are_messages(corpus_settings, tmp_path: Path) -> None:
    view = draft_form.run_draft(_form(title="", outcomes=[]), tmp_path, settings=corpus_settings, backend="extractive")
    assert not view.ok and view.markdown.startswith("⚠ invalid draft input") and not view.files
    assert "title" in view.markdown


def test_old_drafts_are_pruned(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    os.utime(old, (0, 0))
    assert draft_form.prune_old_drafts(tmp_path) == 1
    assert not old.exists() and new.exists()


def test_catalogue_choices() -> None:
    outcomes = dict((value, label) for label, value in draft_form.outcome_choices())
    assert (
        "new-businesses-jobs-skills" in outcomes
        and "(Tackling economic inequality)" in outcomes["new-businesses-jobs-skills"]
    )
    assert len(draft_form.theme_choices()) == 5
    assert json.dumps(draft_form.split_lines("1. one\n* two\n  \nthree")) == '["one", "two", "three"]'


# ------------------------------------------------------------------------------------------------- page state


def test_a_reloaded_page_reopens_the_latest_conversation_and_offers_its_downloads(tmp_path: Path) -> None:
    turns = _conversation_turns()
    messages = [{"role": "user", "content": "What is the Social Value Model?"}, {"role": "assistant", "content": "A."}]
    saved, first = conversation.save_conversation([], None, messages, turns)
    saved, latest = conversation.save_conversation(saved, None, [{"role": "user", "content": "Other?"}], [])
    assert conversation.reopen(saved, None) == ([{"role": "user", "content": "Other?"}], [], latest)
    assert conversation.reopen(saved, first) == (messages, turns, first)
    assert conversation.reopen(saved, "gone") == ([], [], None) and conversation.reopen([], None) == ([], [], None)
    view = conversation.conversation_view(saved, first, turns, tmp_path)
    assert view.answered and view.conversation_id == first and "Five themes." in view.copy_text
    assert Path(view.md_path).parent == Path(view.docx_path).parent and Path(view.md_path).parent.parent == tmp_path
    assert [c for _, c in view.choices] == [latest, first]
    empty = conversation.conversation_view(saved, None, [], tmp_path / "none")
    assert not empty.answered and empty.copy_text == "" and empty.md_path is None and not (tmp_path / "none").exists()


def test_themes_untick_outcomes_they_do_not_offer_and_boxes_follow_the_ticks() -> None:
    choices, kept = draft_form.filter_outcomes(
        ["fighting-climate-change"], ["new-businesses-jobs-skills", "environmental-stewardship"]
    )
    assert [value for _, value in choices] == ["environmental-stewardship"] and kept == ["environmental-stewardship"]
    choices, kept = draft_form.filter_outcomes([], ["new-businesses-jobs-skills"])
    assert len(choices) == 8 and kept is None, "no theme: every outcome offered, ticks left alone"
    shown = draft_form.commitment_boxes_shown(["environmental-stewardship"])
    ids = [value for _, value in draft_form.outcome_choices()]
    assert [ids[i] for i, visible in enumerate(shown) if visible] == ["environmental-stewardship"]


def test_the_example_fills_the_form_and_shows_the_boxes_of_its_outcomes() -> None:
    values, boxes = draft_form.example_form()
    assert len(values) == len(draft_form.FORM_FIELDS) and len(boxes) == len(draft_form.outcome_choices())
    form = dict(zip(draft_form.FORM_FIELDS, values, strict=True))
    assert form["word_limit"] == 750 and form["outcomes"] == ["new-businesses-jobs-skills", "environmental-stewardship"]
    by_outcome = dict(zip([value for _, value in draft_form.outcome_choices()], boxes, strict=True))
    text, shown = by_outcome["environmental-stewardship"]
    assert shown and text.splitlines()[0] == "net zero fleet by 2027"
    assert by_outcome["community-cohesion"] == ("", False)


def test_page_state_says_who_may_change_the_documents(settings: Settings) -> None:
    access = Access(users={"alice": "a", "bob": "b"}, admins=frozenset({"alice"}))
    admin = sources.page_state("alice", access, settings)
    assert admin.admin_note == "" and admin.identity == "Logged in as **alice** (admin)"
    assert admin.choices == [] and admin.documents == [] and admin.status
    other = sources.page_state("bob", access, settings)
    assert "Only administrators" in other.admin_note and "**bob**" in other.admin_note


def test_removal_step_asks_only_about_a_known_document(settings: Settings) -> None:
    assert sources.removal_step(None, settings=settings) == ("", False, sources.PICK_TO_REMOVE)
    access = Access(users={"bob": "b"})
    assert sources.removal_step("x", user="bob", access=access, settings=settings) == ("", False, ADMIN_ONLY)


def test_upload_progress_starts_with_the_check_then_counts_chunks() -> None:
    calls: list[tuple] = []
    on_progress = sources.progress_bar(lambda value, **kw: calls.append((value, kw)))
    on_progress("note.md", 3, 0)
    assert calls == [
        (0, {"desc": "Checking the files"}),
        ((3, 1), {"desc": "Embedding note.md", "unit": "chunks"}),
    ]


def test_a_rating_from_a_message_in_parts_rates_that_message(settings: Settings) -> None:
    turns = [{"index": 1, "question": "first?", "answer": "A."}, {"index": 3, "question": "second?", "answer": "B."}]
    chat.rate_turn("up", turns, "", index=[1, 0], settings=settings)
    assert [r["question"] for r in read_feedback(settings)] == ["first?"]


def test_launch_options_turn_the_login_and_upload_limit_on(settings: Settings) -> None:
    open_app = startup.launch_options(settings.model_copy(update={"max_upload_mb": 7}), Access())
    assert open_app["auth"] is None and open_app["auth_message"] is None and open_app["max_file_size"] == "7mb"
    assert ".pdf" in open_app["head"] and open_app["show_error"] is False
    access = Access(users={"alice": "a"})
    guarded = startup.launch_options(settings, access)
    assert guarded["auth"]("alice", "a") and not guarded["auth"]("alice", "b") and guarded["auth_message"]
    assert request_user(None) is None and request_user(type("R", (), {"username": "alice"})()) == "alice"


def test_files_the_app_serves_live_under_the_data_dir(settings: Settings, monkeypatch) -> None:
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    startup.prepare_gradio_env(settings)
    assert startup.served_dir("drafts") == settings.data_dir.resolve() / "gradio" / "drafts"


@pytest.mark.slow
@pytest.mark.parametrize("question", chat.EXAMPLE_QUESTIONS)
def test_example_questions_are_answered_from_the_corpus(corpus_settings, question: str) -> None:
    _, citations, refused = chat.ask_for_api(question, settings=corpus_settings, backend="extractive")
    assert not refused and citations
