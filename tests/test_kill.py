"""An ingest killed with SIGKILL mid-way and run again converges to exactly the right chunks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.store import get_store
from ingest import ingest_paths


def _make_docs(folder: Path, n_docs: int = 6, paragraphs: int = 40) -> None:
    folder.mkdir()
    for d in range(n_docs):
        # Each part is ~150 tokens, so no two parts fit one chunk: one chunk per part, 40 per document.
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
    got = get_store(settings).collection.get(include=["metadatas"])
    out: dict[str, set[str]] = {}
    for chunk_id, meta in zip(got["ids"], got["metadatas"], strict=True):
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
    assert sum(len(v) for v in partial.values()) < 6 * 40, "the kill came too late to test anything"

    report = ingest_paths([docs], killed)
    assert not report.failed
    reference = Settings(data_dir=tmp_path / "reference")
    ingest_paths([docs], reference)
    assert _ids_by_doc(killed) == _ids_by_doc(reference)
    assert get_store(killed).count() == get_store(reference).count() == 6 * 40
    assert not journal.exists()
