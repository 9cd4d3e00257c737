"""The running app, driven through its named API endpoints with ``gradio_client``.

One ``python app.py`` subprocess serves the whole module on 127.0.0.1 and a free port, with its own empty data
dir, so starting it also proves the app builds the index when it is missing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 600
"""Building the index and loading the models on a busy 2-CPU CI machine can take a few minutes."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    """An app subprocess: where it serves, where its data lives, and its log."""

    url: str
    data_dir: Path
    log: Path
    process: subprocess.Popen

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_app(tmp: Path, extra_env: dict[str, str] | None = None) -> RunningApp:
    """Start ``python app.py`` on a free loopback port with a fresh data dir; wait until it answers HTTP."""
    port = free_port()
    data_dir = tmp / "data"
    log = tmp / "app.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PVA_", "GRADIO_"))}
    env.update(
        {
            "PVA_DATA_DIR": str(data_dir),
            "PVA_HOST": "127.0.0.1",
            "PVA_PORT": str(port),
            "PVA_CHAT_BACKEND": "extractive",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
    )
    handle = log.open("wb")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    app = RunningApp(url=f"http://127.0.0.1:{port}/", data_dir=data_dir, log=log, process=process)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{app.log_tail()}")
        try:
            with urllib.request.urlopen(app.url, timeout=5) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return app
        except OSError:
            time.sleep(1)
    stop_app(app)
    raise RuntimeError(f"the app did not start within {STARTUP_TIMEOUT_S}s:\n{app.log_tail()}")


def stop_app(app: RunningApp) -> None:
    """Stop the subprocess this module started (by its own handle, nothing else)."""
    if app.process.poll() is None:
        app.process.terminate()
        try:
            app.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.process.kill()
            app.process.wait(timeout=30)


@pytest.fixture(scope="module")
def running_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    app = start_app(tmp_path_factory.mktemp("app-client"))
    yield app
    stop_app(app)


@pytest.fixture(scope="module")
def client(running_app: RunningApp):
    from gradio_client import Client

    return Client(running_app.url, verbose=False, download_files=str(running_app.data_dir.parent / "downloads"))


def test_serves_on_loopback_and_built_the_index(running_app: RunningApp, client) -> None:
    assert running_app.url.startswith("http://127.0.0.1:")
    status = client.predict(api_name="/status")
    assert "Chat backend: **extractive**" in status and "Index: **6 documents" in status
    titles = [row[0] for row in client.predict(api_name="/documents")]
    assert "The Public Value Framework" in titles
    assert (running_app.data_dir / "chroma").is_dir()


def test_ask_answers_with_citations(client) -> None:
    markdown, citations, refused = client.predict("What are the principles of social value?", None, api_name="/ask")
    assert not refused
    assert "[1]" in markdown and "Sources:" in markdown
    assert citations and citations[0]["n"] == 1
    assert citations[0]["doc_id"] == "social-value-principles"
    assert citations[0]["quote"] and citations[0]["section"]


def test_ask_refuses_what_the_texts_do_not_cover(client) -> None:
    markdown, citations, refused = client.predict("What is the capital of France?", api_name="/ask")
    assert refused and citations == []
    assert "don't cover" in markdown


def test_empty_question_is_a_clear_error(client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="question is empty"):
        client.predict("   ", api_name="/ask")


def test_chat_streams_and_ends_with_expandable_citations(client) -> None:
    job = client.submit("What is the Social Value Model?", [], [], api_name="/chat")
    final = job.result(timeout=300)
    steps = job.outputs()
    assert len(steps) >= 2, "the chat streams intermediate states"
    _, messages = final
    assert [m["role"] for m in messages] == ["user", "assistant"]
    text = messages[-1]["content"][0]["text"]
    assert '<details class="pva-citation"' in text and "Social Value Model" in text


def test_chat_follow_up_uses_the_history(client) -> None:
    _, first = client.predict("What are the principles of social value?", [], [], api_name="/chat")
    _, second = client.predict("Why are they important?", first, [], api_name="/chat")
    assert len(second) == 4
    assert "pva-citation" in second[-1]["content"][0]["text"]


def test_draft_returns_docx_and_markdown_files(client) -> None:
    markdown, word_count, flags, files, docx, md = client.predict(
        kind="response",
        title="Parks maintenance 2025",
        buyer="Exampleshire County Council",
        outcomes=["new-businesses-jobs-skills"],
        commitments_new_businesses_jobs_skills="6 apprenticeships for local residents over 3 years",
        reporting="quarterly to the contract manager",
        word_limit=300,
        api_name="/draft",
    )
    assert markdown.startswith("# Parks maintenance 2025") and "6 apprenticeships" in markdown
    assert "/ 300 words" in word_count and flags
    paths = [Path(p) for p in files["value"]]
    assert sorted(p.suffix for p in paths) == [".docx", ".md"]
    docx_path = next(p for p in paths if p.suffix == ".docx")
    md_path = next(p for p in paths if p.suffix == ".md")
    assert docx_path.read_bytes()[:2] == b"PK"
    assert md_path.read_text(encoding="utf-8").strip() == markdown.strip()
    assert Path(docx["value"]).name == docx_path.name and Path(md["value"]).name == md_path.name


def test_draft_form_errors_come_back_as_messages(client) -> None:
    markdown, word_count, _, files, _, _ = client.predict(title="", outcomes=[], api_name="/draft")
    assert markdown.startswith("⚠ invalid draft input") and "title" in markdown
    assert files["visible"] is False


def test_upload_then_ask_cites_it_then_remove(client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    doc = tmp_path / "Zephyr Pledge.md"
    doc.write_text(
        "# Zephyr Borough Pledge\n\n## Quokka index\n\n"
        "The quokka index measures how many residents volunteer in community gardens each month.\n",
        encoding="utf-8",
    )
    rows, message, _ = client.predict([handle_file(str(doc))], api_name="/upload")
    assert rows["data"][0][0] == "Zephyr-Pledge.md"
    assert rows["data"][0][1].startswith("ingested"), rows
    assert "1 file(s) ingested" in message
    _, citations, refused = client.predict("What does the quokka index measure?", api_name="/ask")
    assert not refused and citations[0]["doc_id"] == "zephyr-pledge"
    removed, _, _ = client.predict("zephyr-pledge", api_name="/remove")
    assert removed.startswith("Removed 'zephyr-pledge'")


@pytest.mark.filterwarnings("ignore:.*no_silent_downcasting:Warning", "ignore:The copy keyword is deprecated:Warning")
def test_login_keeps_upload_and_remove_for_admins(corpus_settings, tmp_path: Path, monkeypatch) -> None:
    """With logins configured, the app asks for one, and a non-admin cannot change the index."""
    from gradio_client import Client, handle_file

    import app as web_app
    from assistant.web.access import ADMIN_ONLY, Access

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    access = Access(users={"alice": "a-pass", "bob": "b-pass"}, admins=frozenset({"alice"}))
    settings = corpus_settings.model_copy(update={"port": free_port()})
    demo = web_app.build_app(settings, access)
    web_app.serve(demo, settings, access, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{settings.port}/"
    try:
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do: the point is that it does not connect
            Client(url, verbose=False)
        bob = Client(url, auth=("bob", "b-pass"), verbose=False)
        doc = tmp_path / "note.md"
        doc.write_text("# Note\n\nA note.\n", encoding="utf-8")
        rows, message, _ = bob.predict([handle_file(str(doc))], api_name="/upload")
        assert message == ADMIN_ONLY and not rows["data"]
        removed, _, _ = bob.predict("uk-public-value-framework", api_name="/remove")
        assert removed == ADMIN_ONLY
        assert "Index: **6 documents" in bob.predict(api_name="/status")
    finally:
        demo.close()
