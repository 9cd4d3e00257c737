"""Crash safety: processes killed with SIGKILL mid-write, then restarted, leave exactly the right state.

- ``pva ingest`` killed mid-way and run again converges to exactly the right chunks;
- the app killed during an upload's ingest, then started again, holds the corpus plus none of the upload (when
  nothing was written yet) or all of it (the start finishes a document whose write had begun), never half of
  it or a revision's stale chunks beside the new ones, and answers;
- a feedback writer killed mid-record loses no acknowledged record and leaves no corrupt line behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from test_app_client import ROOT, RunningApp, start_app, stop_app

from assistant.config import Settings
from assistant.feedback import feedback_path, read_feedback
from assistant.services import get_services
from assistant.web import chat
from ingest import ensure_index, ingest_paths, interrupted_ingest


def _make_docs(folder: Path, n_docs: int = 6, paragraphs: int = 40) -> None:
    folder.mkdir()
    for d in range(n_docs):
        # Each part is ~150 tokens, so no two parts fit one chunk: one chunk per part, 40 per document, and one for
        # the title's outline (a title followed by its sections), so 41.
        body = "\n\n".join(
            f"## Part {p}\n\n"
            + " ".join(
                f"Document {d} paragraph {p} sentence {s} explains how the council reviews contract {p * 7 + d} "
                f"and reports the social value delivered."
                for s in range(7)
            )
            for p in range(paragraphs)
        )
        (folder / f"doc{d}.md").write_text(f"# Document {d}\n\n{body}\n", encoding="utf-8")


def _ids_by_doc(settings: Settings) -> dict[str, set[str]]:
    got = get_services(settings).store.get(include=["metadatas"])
    out: dict[str, set[str]] = {}
    for chunk_id, meta in zip(got.ids, got.metadatas, strict=True):
        out.setdefault(meta["doc_id"], set()).add(chunk_id)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", ["journal", 4.0])
def test_killed_ingest_converges_on_rerun(tmp_path: Path, kill_after) -> None:
    docs = tmp_path / "docs"
    _make_docs(docs)
    data = tmp_path / "killed"
    env = {**os.environ, "PVA_DATA_DIR": str(data)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest", str(docs)],
        env=env,
        cwd=Path(__file__).parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    journal = data / "ingest.journal"
    while time.monotonic() < deadline and proc.poll() is None:
        if kill_after == "journal" and journal.exists():
            break
        if isinstance(kill_after, float) and (data / "chroma").exists():
            time.sleep(kill_after)
            break
        time.sleep(0.005)
    assert proc.poll() is None, "ingest finished before it could be killed: make the test corpus bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    killed = Settings(data_dir=data)
    partial = _ids_by_doc(killed)
    assert sum(len(v) for v in partial.values()) < 6 * 41, "the kill came too late to test anything"

    report = ingest_paths([docs], killed)
    assert not report.failed
    reference = Settings(data_dir=tmp_path / "reference")
    ingest_paths([docs], reference)
    assert _ids_by_doc(killed) == _ids_by_doc(reference)
    assert get_services(killed).store.count() == get_services(reference).store.count() == 6 * 41
    assert not journal.exists()


# ------------------------------------------------------------------------------------- an upload in the app

UPLOAD_NAME = "kill-upload.md"
UPLOAD_DOC_ID = "kill-upload"
UPLOAD_PARTS = 100
"""~150 tokens a part, one chunk each: embedding them takes the app many seconds on two busy cores."""
WAIT_S = 600


def _make_upload(path: Path, revision: int) -> None:
    """Revision 2 rewrites the quokka section and every third part of revision 1, and keeps the rest."""
    counts = "the ponds each ward has restored" if revision == 2 else "the hedgerows each ward has replanted"
    parts = [f"## The quokka ledger\n\nThe zephyr quokka ledger counts {counts} this year."]
    for p in range(UPLOAD_PARTS):
        verb = "revises" if revision == 2 and p % 3 == 0 else "audits"
        sentences = (
            f"Upload paragraph {p} sentence {s} explains how the borough {verb} supplier {p * 11 + s} "
            f"and publishes the social value it delivered."
            for s in range(7)
        )
        parts.append(f"## Part {p}\n\n" + " ".join(sentences))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Kill Upload\n\n" + "\n\n".join(parts) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def upload_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, set[str]]]:
    """Revisions 1 and 2 of the upload, and the chunk ids by document of a clean ingest of the corpus plus
    revision 2 (what the index must hold once the app is back, whichever case)."""
    folder = tmp_path_factory.mktemp("upload-reference")
    first, second = folder / "v1" / UPLOAD_NAME, folder / "v2" / UPLOAD_NAME
    _make_upload(first, 1)
    _make_upload(second, 2)
    reference = Settings(data_dir=folder / "data")
    assert not ingest_paths(None, reference).failed
    report = ingest_paths([second], reference)
    assert [f.doc_id for f in report.files] == [UPLOAD_DOC_ID] and report.files[0].chunks > UPLOAD_PARTS * 0.9
    return first, second, _ids_by_doc(reference)


def _kill_app(app: RunningApp) -> None:
    os.kill(app.process.pid, signal.SIGKILL)
    app.process.wait(timeout=60)
    assert app.process.returncode == -signal.SIGKILL


def _embedding_in_progress(job) -> bool:
    units = job.status().progress_data or []
    return any((u.desc or "").startswith("Embedding") and u.length and 0 < (u.index or 0) < u.length for u in units)


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["embedding", "journal"])
def test_app_killed_during_an_upload_restarts_with_exactly_the_right_chunks(
    tmp_path: Path, upload_reference: tuple[Path, Path, dict[str, set[str]]], kill_at: str
) -> None:
    """``embedding``: a new upload killed while its chunks are embedded (nothing written yet) is absent after
    the restart, and uploading it again works. ``journal``: a revised upload killed while the index is written
    (the journal names it: new chunks, moved ones and stale ones are being written) is finished by the
    restarted app before it serves: exactly revision 2, no chunk of revision 1 left beside it."""
    from gradio_client import Client, handle_file

    first, second, reference = upload_reference
    corpus_counts = {doc_id: len(ids) for doc_id, ids in reference.items() if doc_id != UPLOAD_DOC_ID}
    upload_chunks = len(reference[UPLOAD_DOC_ID])
    app = start_app(tmp_path)
    journal = app.data_dir / "ingest.journal"
    try:
        client = Client(app.url, verbose=False)
        if kill_at == "journal":
            rows, _, _ = client.predict([handle_file(str(first))], api_name="/upload")
            assert rows["data"][0][1].startswith("ingested"), rows
            assert not journal.exists()
        job = client.submit([handle_file(str(second))], api_name="/upload")
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not job.done():
            if kill_at == "journal" and journal.exists():
                break
            if kill_at == "embedding" and _embedding_in_progress(job):
                break
            time.sleep(0.001 if kill_at == "journal" else 0.05)
        assert not job.done(), f"the upload finished before the kill: {job.result(timeout=5)}"
        assert time.monotonic() < deadline, f"no kill point within {WAIT_S}s:\n{app.log_tail()}"
        _kill_app(app)
    finally:
        stop_app(app)
    entry = json.loads(journal.read_text()) if journal.exists() else None
    if kill_at == "journal":
        assert entry is not None and entry["doc_id"] == UPLOAD_DOC_ID
        assert Path(entry["path"]) == (app.data_dir / "uploads" / UPLOAD_NAME).resolve()
    else:
        assert entry is None, "killed while embedding: nothing was being written yet"
    shutil.copy(app.log, tmp_path / "app-killed.log")

    restarted = start_app(tmp_path)  # the same data dir
    try:
        client = Client(restarted.url, verbose=False)
        assert not journal.exists(), "the restarted app finished the interrupted document"
        assert "interrupted" not in client.predict(api_name="/status")
        counts = {row[1]: row[2] for row in client.predict(api_name="/documents")}
        _, citations, refused = client.predict("What are the principles of social value?", api_name="/ask")
        assert not refused and citations[0]["doc_id"] == "social-value-principles"
        if kill_at == "journal":  # finished on start: all of revision 2
            assert counts == {**corpus_counts, UPLOAD_DOC_ID: upload_chunks}
        else:  # never written: none of it; the user uploads it again, as the app tells them to
            assert counts == corpus_counts
            rows, _, _ = client.predict([handle_file(str(second))], api_name="/upload")
            assert rows["data"][0][1] == f"ingested {upload_chunks} chunks", rows
        _, citations, refused = client.predict("What does the zephyr quokka ledger count?", api_name="/ask")
        assert not refused and citations[0]["doc_id"] == UPLOAD_DOC_ID and "ponds" in citations[0]["quote"]
    finally:
        stop_app(restarted)
    assert _ids_by_doc(Settings(data_dir=restarted.data_dir)) == reference


_KILLED_UPLOAD = """
import os, signal, sys
from pathlib import Path
from assistant.config import Settings
from assistant.services import get_services
from ingest.uploads import ingest_uploads
from ingest import ensure_index

data_dir, first, second, step = sys.argv[1:5]
settings = Settings(data_dir=Path(data_dir))
ensure_index(settings)  # the corpus, as the app's start builds it
assert ingest_uploads([first], settings)[0].ok


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


setattr(get_services(settings).store, step, die)  # SIGKILL exactly when the ingest reaches this write
ingest_uploads([second], settings)
sys.exit(3)  # not reached
"""


@pytest.mark.slow
@pytest.mark.parametrize("finisher", ["app-start", "pva-ingest"])
@pytest.mark.parametrize("step", ["upsert", "delete"])
def test_revised_upload_killed_at_each_index_write_is_finished_by_the_next_start(
    tmp_path: Path, upload_reference: tuple[Path, Path, dict[str, set[str]]], step: str, finisher: str
) -> None:
    """The same upload ingest, killed deterministically just before its ``upsert`` (the index still holds
    revision 1) or between its ``upsert`` and ``delete`` (revision 1's stale chunks beside revision 2's): the
    next start (:func:`ensure_index`, as ``app.py`` runs it), or a ``pva ingest`` of other files (here the
    corpus), leaves exactly revision 2."""
    first, second, reference = upload_reference
    data = tmp_path / "data"
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_UPLOAD, str(data), str(first), str(second), step],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    settings = Settings(data_dir=data)
    entry = interrupted_ingest(settings)
    assert entry is not None and Path(entry["path"]) == (data / "uploads" / UPLOAD_NAME).resolve()
    revision_2 = reference[UPLOAD_DOC_ID]
    at_kill = _ids_by_doc(settings)[UPLOAD_DOC_ID]
    if step == "upsert":  # revision 1 only
        assert len(at_kill) == len(revision_2) and at_kill != revision_2
    else:  # every chunk of revision 2, and revision 1's stale ones beside them: the state that must not stay
        assert at_kill > revision_2

    report = ensure_index(settings) if finisher == "app-start" else ingest_paths(None, settings)
    assert report is not None and not report.failed
    assert _ids_by_doc(settings) == reference
    assert interrupted_ingest(settings) is None


# ------------------------------------------------------------------------------------------ feedback writes

_FEEDBACK_WRITER = """
import random, sys
from pathlib import Path
from assistant.web import chat
from assistant.config import Settings

data_dir, prefix, count, seed, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
settings = Settings(data_dir=Path(data_dir))
rng = random.Random(seed)
i = 0
while count <= 0 or i < count:
    record_id = f"{prefix}-{i}"
    turn = {
        "question": record_id,
        "answer": "Answer " + "é" * (size or rng.randrange(100, 300_000)) + " [1]",
        "citations": [{"n": 1, "doc_id": "social-value-principles", "quote": "Involve stakeholders."}],
        "backend": "extractive",
        "history": [{"role": "user", "content": "before"}],
    }
    chat.give_feedback("up" if i % 2 else "down", turn, "comment", settings=settings)
    print(record_id, flush=True)  # only after the call returned: this record is acknowledged
    i += 1
"""


def _feedback_writer(
    data: Path, prefix: str, count: int, seed: int, size: int = 0
) -> tuple[subprocess.Popen, list[str], threading.Thread]:
    """Start a writer of ``count`` records (0: forever) with answers of ``size`` characters (0: random).

    Returns the process, the list its acknowledged record ids are collected in, and the thread collecting them.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", _FEEDBACK_WRITER, str(data), prefix, str(count), str(seed), str(size)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    acked: list[str] = []

    def read() -> None:
        for line in proc.stdout:  # ends when the process dies (its end of the pipe closes)
            acked.append(line.strip())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return proc, acked, reader


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\n"), "the file ends with a complete line"
    return data.split(b"\n")[:-1]


def test_feedback_writer_killed_mid_record_loses_no_acknowledged_record(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    rng = random.Random(7)
    acked_by_round: list[list[str]] = []
    torn_tails = 0
    for kill_round in range(5):
        proc, acked, reader = _feedback_writer(settings.data_dir, f"r{kill_round}", 0, rng.randrange(1 << 30))
        wait_for = rng.randrange(3, 25)
        deadline = time.monotonic() + 120
        while len(acked) < wait_for and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert proc.poll() is None and len(acked) >= wait_for, "the writer stopped or was too slow"
        time.sleep(rng.uniform(0, 0.02))  # somewhere inside a later record: serialising, writing or fsync
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        reader.join(timeout=60)
        acked_by_round.append(list(acked))
        data = feedback_path(settings).read_bytes()
        torn_tails += not data.endswith(b"\n")
        # What the maintainers' reader sees right after the crash: every acknowledged record, in order.
        seen = [r["question"] for r in read_feedback(settings)]
        assert [i for i in seen if i.startswith(f"r{kill_round}-")][: len(acked)] == acked

    proc, acked, reader = _feedback_writer(settings.data_dir, "final", 10, 1)  # restart writing; it runs to the end
    assert proc.wait(timeout=120) == 0
    reader.join(timeout=60)
    assert len(acked) == 10

    records = [json.loads(line) for line in _lines(feedback_path(settings))]  # every line is a whole record
    ids = [r["question"] for r in records]
    assert all(r["answer"].startswith("Answer ") and r["answer"].endswith(" [1]") for r in records)
    assert not [i for i, n in Counter(ids).items() if n > 1], "no record written twice"
    expected: list[str] = []
    for kill_round, round_acked in enumerate(acked_by_round):
        expected += round_acked
        in_flight = f"r{kill_round}-{len(round_acked)}"  # finished writing, killed before it was acknowledged
        if in_flight in ids:
            expected.append(in_flight)
    assert ids == expected + acked, f"lost or extra records ({torn_tails} torn tail(s) were cut off)"
    assert [r["question"] for r in read_feedback(settings)] == ids


def test_feedback_line_torn_by_sigkill_mid_write_is_cut_off_by_the_next_writer(tmp_path: Path) -> None:
    """A record of many pages is copied into the file page by page, and SIGKILL stops the copy between two pages:
    a real torn line (a record never acknowledged). The reader skips it; the next write cuts it off."""
    settings = Settings(data_dir=tmp_path / "data")
    path = feedback_path(settings)
    before = ["one", "two"]
    for question in before:
        turn = {"question": question, "answer": "a", "citations": [], "backend": "extractive", "history": []}
        chat.give_feedback("up", turn, settings=settings)
    good = path.read_bytes()
    completed: list[str] = []  # huge records whose write finished before the kill landed
    for attempt in range(5):
        size = path.stat().st_size
        proc, _, reader = _feedback_writer(settings.data_dir, f"huge{attempt}", 1, attempt, size=8_000_000)
        deadline = time.monotonic() + 120
        while path.stat().st_size == size and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        reader.join(timeout=60)
        if not path.read_bytes().endswith(b"\n"):
            break
        completed.append(f"huge{attempt}-0")
    else:
        pytest.fail("no kill landed inside the write in 5 attempts")
    assert [r["question"] for r in read_feedback(settings)] == before + completed

    turn = {"question": "after", "answer": "b", "citations": [], "backend": "extractive", "history": []}
    chat.give_feedback("down", turn, settings=settings)
    assert path.read_bytes().startswith(good)
    assert [json.loads(line)["question"] for line in _lines(path)] == [*before, *completed, "after"]


def _record_line(question: str, answer: str) -> bytes:
    record = {"ts": "2026-01-01T00:00:00+00:00", "rating": "up", "question": question, "answer": answer}
    return (json.dumps(record, ensure_ascii=False) + "\n").encode()


@pytest.mark.parametrize(
    ("before", "tail"),
    [
        ([], _record_line("torn", "x" * 100)[:40]),  # the file is one torn line
        (["one", "two"], _record_line("torn", "x" * 100)[:-20]),
        (["one", "two"], _record_line("torn", "é" * 100_000)[:150_001]),  # longer than one read-back block
        (["one", "two"], b"\x00\x00\x00"),  # after a power cut, some file systems show the new size as zeros
    ],
    ids=["only-line", "short", "long", "zeros"],
)
def test_torn_last_feedback_line_is_skipped_then_cut_off_by_the_next_write(
    tmp_path: Path, before: list[str], tail: bytes
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    path = feedback_path(settings)
    path.parent.mkdir(parents=True)
    good = b"".join(_record_line(q, "a") for q in before)
    path.write_bytes(good + tail)  # what a writer killed mid-record leaves behind
    assert [r["question"] for r in read_feedback(settings)] == before

    turn = {"question": "after", "answer": "b", "citations": [], "backend": "extractive", "history": []}
    assert chat.give_feedback("up", turn, settings=settings).startswith("Thank you")
    data = path.read_bytes()
    assert data.startswith(good), "the complete lines are untouched"
    assert [json.loads(line)["question"] for line in _lines(path)] == [*before, "after"]


def test_complete_last_feedback_line_without_its_newline_is_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    path = feedback_path(settings)
    path.parent.mkdir(parents=True)
    path.write_bytes(_record_line("one", "a") + _record_line("edited", "b").rstrip(b"\n"))
    turn = {"question": "after", "answer": "c", "citations": [], "backend": "extractive", "history": []}
    chat.give_feedback("down", turn, settings=settings)
    assert [json.loads(line)["question"] for line in _lines(path)] == ["one", "edited", "after"]
