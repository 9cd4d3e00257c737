"""Many users at once: 20 simultaneous chat sessions, and chats while a long upload is being ingested.

The real app (``python app.py``, extractive backend, default ``PVA_APP_CONCURRENCY``) runs as a subprocess on
127.0.0.1 with a fresh data dir, and is driven only through its ``/chat`` and ``/upload`` endpoints with
``gradio_client``: one ``Client`` per session, as separate browsers would be.

What is asserted: no request fails, every answer is right (it cites the framework the eval case names and has
all of the case's key facts), every answer belongs to its own session (it is, word for word, the answer the
same question gets when asked alone), and chats finish while an upload is still being ingested. What is only
reported: latency, p50/p95 per request, printed and written to ``test-artifacts/concurrency.json``. Speed
targets live in the benchmarks, never in timed tests; every wait here is bounded so a hang fails instead of
blocking CI.

One in-process test pins down a race the upload test can only catch now and then: the splitter counting tokens
while chats embed, with the same tokenizer.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_app_client import ROOT, RunningApp, start_app, stop_app

from assistant.config import Settings
from assistant.types import message_text
from assistant.web.chat import plain_answer_text
from assistant.web.startup import WARMED_UP
from evals.dataset import QuestionCase, load_questions
from evals.metrics import fact_matches, percentile

pytestmark = pytest.mark.slow

ARTIFACT = ROOT / "test-artifacts" / "concurrency.json"
BASELINE = ROOT / "evals" / "baseline-extractive.json"

SESSION_CASES = [
    "fact-01",
    "fact-03",
    "fact-05",
    "fact-06",
    "fact-07",
    "fact-10",
    "fact-11",
    "fact-14",
    "fact-18",
    "fact-19",
    "fact-23",
    "list-01",
    "list-03",
    "list-07",
    "list-11",
    "list-12",
    "multi-02",
    "multi-07",
    "para-05",
    "para-09",
]
"""One eval case per session: each passes on the extractive backend in the committed baseline, and together
they cover all six frameworks."""

FOLLOW_UPS = {"fact-03": "follow-01", "fact-06": "follow-02", "list-03": "follow-04", "fact-10": "follow-09"}
"""Sessions that ask a follow-up next, in their own history: the follow-up eval case whose earlier question is
(nearly word for word) the session's first one."""

UPLOAD_CHAT_CASES = ["fact-04", "fact-21", "list-08", "para-13", "fact-12", "fact-15", "multi-01", "para-07"]
"""Asked while the upload is being ingested (passing cases not used by the sessions above)."""
UPLOAD_CHATTERS = 4
"""Sessions asking them, each one question after another from the moment the app starts on the upload (checking,
reading and splitting it: the splitter counts tokens with the tokenizer the chats embed with) until it is
embedding the chunks, then one more question."""

UPLOAD_SECTIONS = 160
"""Sections (one chunk each) in the generated upload: 178 KB of Markdown, which took 10–25 s to split and embed
on two shared cores, long enough that chats asked meanwhile must finish first unless something stalls them.
(Several MB would take ten minutes or more at the ingest speeds in docs/benchmarks.md.)"""

REQUEST_TIMEOUT_S = 150
"""Longest any single request may take before the test fails (normally well under 10 s)."""
BATCH_TIMEOUT_S = 240
"""Longest the 20 sessions may take together."""
UPLOAD_TIMEOUT_S = 300
WARM_UP_WAIT_S = 90
"""How long to wait for the app's background warm-up before measuring anyway (it takes 5–25 s on two cores)."""


@dataclass
class Turn:
    """One question asked in one session, and what came back."""

    session: int
    case: QuestionCase
    history: list
    messages: list
    latency_s: float
    started: float
    finished: float
    embedding_phase: bool = False
    """Asked while an upload was being embedded (the upload test only)."""

    @property
    def rendered(self) -> str:
        return message_text(self.messages[-1]["content"])

    @property
    def body(self) -> str:
        return plain_answer_text(self.rendered)

    @property
    def cited_titles(self) -> set[str]:
        return {html.unescape(t) for t in re.findall(r"<summary><b>\[\d+\]</b> (.*?)</summary>", self.rendered)}


def _cases() -> dict[str, QuestionCase]:
    return {case.id: case for case in load_questions()}


def _client(app: RunningApp):
    from gradio_client import Client

    return Client(app.url, verbose=False, download_files=False, analytics_enabled=False)


def _chat(client, question: str, history: list) -> tuple[list, float, float]:
    """Ask through ``/chat`` (what the Ask button calls); return the final messages and start/end times."""
    started = time.perf_counter()
    job = client.submit(question, history, [], api_name="/chat")
    _, messages = job.result(timeout=REQUEST_TIMEOUT_S)
    return messages, started, time.perf_counter()


def _problems(turn: Turn, titles: dict[str, str]) -> list[str]:
    """Why ``turn`` is not a correct answer to its own question (empty when it is)."""
    case = turn.case
    problems = []
    expected = [*turn.history, {"role": "user", "content": case.question}]
    shown = [(m["role"], message_text(m["content"])) for m in turn.messages[:-1]]
    if shown != [(m["role"], message_text(m["content"])) for m in expected]:
        problems.append(f"the history shown is not this session's: {shown}")
    if turn.messages[-1]["role"] != "assistant":
        problems.append("no answer")
    found = fact_matches(turn.body, case.key_facts)
    missing = [" / ".join(alts) for alts, ok in zip(case.key_facts, found, strict=True) if not ok]
    if missing:
        problems.append(f"missing key facts {missing}")
    uncited = {titles[g.doc_id] for g in case.gold} - turn.cited_titles
    if uncited:
        problems.append(f"does not cite {sorted(uncited)} (cites {sorted(turn.cited_titles)})")
    where = f"session {turn.session}, {case.id} ({case.question!r})"
    return [f"{where}: {p}\n  answer: {turn.body[:300]!r}" for p in problems]


def _latency(values: list[float]) -> dict[str, float | int | None]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "n": len(values),
        "p50_s": rounded(percentile(values, 50)),
        "p95_s": rounded(percentile(values, 95)),
        "max_s": rounded(max(values, default=None)),
    }


def _report(section: str, figures: dict, capsys: pytest.CaptureFixture) -> None:
    """Add ``figures`` under ``section`` in the JSON artifact, and print them past pytest's capture."""
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(ARTIFACT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[section] = figures
    data["machine"] = {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    ARTIFACT.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    with capsys.disabled():
        print(f"\n[concurrency] {section}: {json.dumps(figures)}")


def _warmed_up(app: RunningApp, timeout: float) -> bool:
    """Wait (bounded) for the app to log that its background warm-up is done, so latency is steady-state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if WARMED_UP in app.log.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    running = start_app(tmp_path_factory.mktemp("concurrency"))
    yield running
    stop_app(running)


@pytest.fixture(scope="module")
def warmed_up(app: RunningApp) -> bool:
    """Whether the app finished its background warm-up before the measuring started."""
    return _warmed_up(app, WARM_UP_WAIT_S)


@pytest.fixture(scope="module")
def titles(app: RunningApp) -> dict[str, str]:
    """document id → title, as the chat's footnotes name the framework by its title."""
    client = _client(app)
    try:
        return {row[1]: row[0] for row in client.predict(api_name="/documents")}
    finally:
        client.close()


def test_chosen_cases_pass_in_the_extractive_baseline() -> None:
    """The checks below are only fair for questions the extractive backend is known to answer."""
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))["cases"]
    cases = _cases()
    for case_id in [*SESSION_CASES, *FOLLOW_UPS.values(), *UPLOAD_CHAT_CASES]:
        assert baseline[case_id]["passed"], f"{case_id} fails in {BASELINE.name}: pick another case"
        assert cases[case_id].key_facts and cases[case_id].gold
    assert len(set(SESSION_CASES)) == 20 and set(FOLLOW_UPS) <= set(SESSION_CASES)
    assert not set(UPLOAD_CHAT_CASES) & set(SESSION_CASES)


def test_twenty_simultaneous_sessions(app: RunningApp, titles: dict[str, str], warmed_up: bool, capsys) -> None:
    cases = _cases()
    barrier = threading.Barrier(len(SESSION_CASES), timeout=120)

    def session(index: int, case_id: str) -> list[Turn]:
        try:
            client = _client(app)
        except BaseException:
            barrier.abort()  # the others stop waiting for this one
            raise
        try:
            barrier.wait()  # every client is connected: start together
            first = cases[case_id]
            messages, started, finished = _chat(client, first.question, [])
            turns = [Turn(index, first, [], messages, finished - started, started, finished)]
            if case_id in FOLLOW_UPS:
                follow = cases[FOLLOW_UPS[case_id]]
                history = messages
                messages, started, finished = _chat(client, follow.question, history)
                turns.append(Turn(index, follow, history, messages, finished - started, started, finished))
            return turns
        finally:
            client.close()

    pool = ThreadPoolExecutor(max_workers=len(SESSION_CASES), thread_name_prefix="session")
    began = time.perf_counter()
    try:
        futures = [pool.submit(session, i, case_id) for i, case_id in enumerate(SESSION_CASES)]
        _, pending = wait(futures, timeout=BATCH_TIMEOUT_S)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    wall = time.perf_counter() - began
    assert not pending, f"{len(pending)} sessions did not finish within {BATCH_TIMEOUT_S}s:\n{app.log_tail()}"
    errors = [repr(f.exception()) for f in futures if f.exception() is not None]
    assert not errors, f"{len(errors)} sessions failed: {errors}\n{app.log_tail()}"
    turns = [turn for f in futures for turn in f.result()]
    assert len(turns) == len(SESSION_CASES) + len(FOLLOW_UPS)

    problems = [p for turn in turns for p in _problems(turn, titles)]
    assert not problems, "\n".join(problems)

    # No cross-talk: each session got exactly the answer its own question gets when asked alone.
    client = _client(app)
    try:
        for turn in turns:
            alone, _, _ = _chat(client, turn.case.question, turn.history)
            alone_text = message_text(alone[-1]["content"])
            assert alone_text == turn.rendered, (
                f"session {turn.session} ({turn.case.id}) got an answer that differs from the one its question "
                f"gets alone:\n  concurrent: {turn.body[:300]!r}\n  alone: {plain_answer_text(alone_text)[:300]!r}"
            )
    finally:
        client.close()

    first_turns = [t.latency_s for t in turns if not t.history]
    _report(
        "sessions",
        {
            "sessions": len(SESSION_CASES),
            "requests": len(turns),
            "app_concurrency": Settings.model_fields["app_concurrency"].default,  # start_app sets no PVA_APP_*
            "backend": "extractive",
            "app_warmed_up": warmed_up,
            "wall_s": round(wall, 3),
            "all_requests": _latency([t.latency_s for t in turns]),
            "first_questions": _latency(first_turns),
            "follow_ups": _latency([t.latency_s for t in turns if t.history]),
        },
        capsys,
    )


def test_counting_tokens_while_embedding_stays_correct() -> None:
    """An upload's splitter counts tokens while chats embed questions with the same model: both must stay right.

    The app-level test below overlaps the two too, but only for the seconds a split takes, so it catches this race
    only now and then; here a counter and three embedders (the app answers up to four chats at once) run flat out
    side by side for a few seconds.
    """
    import numpy as np

    from assistant.services import get_services

    embeddings = get_services(Settings()).embeddings
    text = (ROOT / "corpus" / "uk-public-value-framework.md").read_text(encoding="utf-8")[:1500]
    questions = ["What are the principles of social value?", "Why?"]  # unequal lengths: the batch needs padding
    expected_count, expected_vectors = embeddings.count_tokens(text), np.asarray(embeddings.embed_documents(questions))
    assert expected_count > embeddings.max_tokens  # so a truncated count shows
    failures: list[str] = []
    done = threading.Event()

    def count() -> None:
        while not done.is_set():
            try:
                if (found := embeddings.count_tokens(text)) != expected_count:
                    failures.append(f"counted {found} tokens, not {expected_count}")
            except Exception as exc:  # what failed is the finding
                failures.append(f"counting failed: {exc!r}"[:200])

    def embed() -> None:
        until, rounds = time.monotonic() + 3, 0
        while rounds < 30 or time.monotonic() < until:
            rounds += 1
            try:
                vectors = np.asarray(embeddings.embed_documents(questions))
            except Exception as exc:  # what failed is the finding
                failures.append(f"embedding failed: {exc!r}"[:200])
                continue
            if not np.allclose(vectors, expected_vectors, atol=1e-5):
                failures.append("an embedding changed")

    counter = threading.Thread(target=count, daemon=True)
    embedders = [threading.Thread(target=embed, daemon=True) for _ in range(3)]
    counter.start()
    for thread in embedders:
        thread.start()
    for thread in embedders:
        thread.join(timeout=REQUEST_TIMEOUT_S)
    done.set()
    counter.join(timeout=REQUEST_TIMEOUT_S)
    assert not any(thread.is_alive() for thread in [counter, *embedders]), "counting or embedding hung"
    assert not failures, f"{len(failures)} failures, e.g. {sorted(set(failures))[:3]}"


def _big_markdown(path: Path, sections: int) -> Path:
    """A Markdown document of ``sections`` distinct sections (one chunk each), deterministic."""
    rng = random.Random(7)
    words = re.findall(
        r"\w+",
        "borough council resident allotment canal library bus depot ward survey budget tenant garden lantern "
        "quarry meadow harbour orchard bridge market ferry kiosk pavilion archive terrace mill chapel warden "
        "festival parish clinic reservoir towpath foundry granary cooperative almshouse",
    )
    parts = ["# Mossley Borough Estates Register\n"]
    for n in range(sections):
        parts.append(f"\n## Register entry {n + 1}: {rng.choice(words)} {rng.choice(words)}\n\n")
        sentences = []
        for _ in range(9):
            sentence = " ".join(rng.choice(words) for _ in range(14))
            sentences.append(f"{sentence.capitalize()} in zone {rng.randint(1, 9999)}.")
        parts.append(" ".join(sentences) + "\n")
    path.write_text("".join(parts), encoding="utf-8")
    return path


def _progress(job) -> str:
    """The upload's current progress description ("" before it reports any)."""
    units = job.status().progress_data or []
    return " ".join(unit.desc or "" for unit in units)


def test_chats_are_not_stalled_by_a_long_upload(
    app: RunningApp, titles: dict[str, str], warmed_up: bool, tmp_path, capsys
) -> None:
    """Chats asked all through a long upload (while it is split, then embedded) finish, correctly, before it does."""
    from gradio_client import handle_file

    cases = _cases()
    doc = _big_markdown(tmp_path / "Mossley Estates Register.md", UPLOAD_SECTIONS)
    uploader = _client(app)
    chatters = [_client(app) for _ in range(UPLOAD_CHATTERS)]
    embedding = threading.Event()  # set once the app reports it is embedding the upload's chunks

    def chatter(index: int, client) -> list[Turn]:
        """Ask question after question until the upload is being embedded, then one more."""
        turns: list[Turn] = []
        for case_id in itertools.cycle(UPLOAD_CHAT_CASES[index :: len(chatters)]):
            in_embedding_phase = embedding.is_set()
            case = cases[case_id]
            messages, started, finished = _chat(client, case.question, [])
            turns.append(Turn(index, case, [], messages, finished - started, started, finished, in_embedding_phase))
            if in_embedding_phase:
                return turns
        raise AssertionError("unreachable")  # pragma: no cover

    pool = ThreadPoolExecutor(max_workers=len(chatters), thread_name_prefix="chat")
    try:
        upload_started = time.perf_counter()
        upload = uploader.submit([handle_file(str(doc))], api_name="/upload")
        deadline = time.monotonic() + UPLOAD_TIMEOUT_S
        while not _progress(upload) and not upload.done() and time.monotonic() < deadline:
            time.sleep(0.02)  # until the app is working on the upload: checking, reading and splitting the file
        futures = [pool.submit(chatter, i, client) for i, client in enumerate(chatters)]
        while "Embedding" not in _progress(upload) and not upload.done() and time.monotonic() < deadline:
            time.sleep(0.02)
        embedding_seen = time.perf_counter()
        embedding.set()
        assert not upload.done(), f"the upload finished before it was seen embedding: {upload.result()}"
        rows, _, _ = upload.result(timeout=max(deadline - time.monotonic(), 1))
        upload_finished = time.perf_counter()
        _, pending = wait(futures, timeout=REQUEST_TIMEOUT_S)
        assert not pending, f"chats still running {REQUEST_TIMEOUT_S}s after the upload ended:\n{app.log_tail()}"
        errors = [repr(f.exception()) for f in futures if f.exception() is not None]
        assert not errors, f"{len(errors)} chat sessions failed: {errors}\n{app.log_tail()}"
        turns = [turn for f in futures for turn in f.result()]
    finally:
        embedding.set()
        pool.shutdown(wait=False, cancel_futures=True)
        for client in [uploader, *chatters]:
            client.close()

    assert rows["data"][0][1] == f"ingested {UPLOAD_SECTIONS + 1} chunks", rows  # + the title's outline chunk
    problems = [p for turn in turns for p in _problems(turn, titles)]
    assert not problems, f"{len(problems)} wrong answers:\n" + "\n".join(problems)
    late = [(t.case.id, round(t.finished - upload_finished, 2)) for t in turns if t.finished >= upload_finished]
    assert not late, f"chats finished only after the upload did (seconds after it): {late}"

    def since_upload(moment: float) -> float:
        return round(moment - upload_started, 3)

    def phase(embedding_phase: bool) -> dict:
        chosen = [t for t in turns if t.embedding_phase == embedding_phase]
        return {
            "last_finished_s": since_upload(max(t.finished for t in chosen)),
            **_latency([t.latency_s for t in chosen]),
        }

    _report(
        "upload",
        {
            "app_warmed_up": warmed_up,
            "upload_sections": UPLOAD_SECTIONS,
            "upload_bytes": doc.stat().st_size,
            "upload_s": since_upload(upload_finished),
            "embedding_seen_s": since_upload(embedding_seen),
            "chats_before_embedding": phase(False),
            "chats_while_embedding": phase(True),
        },
        capsys,
    )
