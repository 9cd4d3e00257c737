"""Outlines stored at ingest and read back by the answer: a made-up handbook in the shape of real manuals.

A chapter with nothing but sections under it, some long (each its own chunk) and some short (packed together
into one chunk under the chapter's path): an outline question must still name every section.
"""

from __future__ import annotations

from pathlib import Path

from assistant.answer import ask
from assistant.config import Settings
from ingest import ingest_paths

LONG = (
    "Crews work from the depot on Mill Lane and start their rounds at seven in the morning on weekdays. "
    "Each round is planned so that a street is visited on the same day every week, and changes are posted "
    "to residents a month ahead. Missed collections reported before noon are collected the next working day. "
) * 3

SECTIONS = ["Grey bin collections", "Garden waste permits", "Street lighting", "Public toilets"]

HANDBOOK = (
    "Navigation\n\n* Home »\n* Riverton Services Handbook\n\n"
    "1. Introduction¶\n\nThis handbook explains the services the council runs for residents.\n\n"
    "2. Services¶\n\n"
    f"2.1. {SECTIONS[0]}¶\n\n{LONG}\n\n"
    f"2.2. {SECTIONS[1]}¶\n\n{LONG}\n\n{LONG}\n\n"
    f"2.3. {SECTIONS[2]}¶\n\nLamps are checked monthly.\n\n"
    f"2.4. {SECTIONS[3]}¶\n\nToilets open from eight.\n\n"
    "3. Contacts¶\n\nCall the contact centre on weekdays.\n"
)


def test_an_outline_question_names_every_section_even_those_packed_together(settings: Settings, tmp_path) -> None:
    path = Path(tmp_path) / "riverton-handbook.txt"
    path.write_text(HANDBOOK, encoding="utf-8")
    report = ingest_paths([path], settings)
    assert not report.failed, report.failed
    # One chunk retrieved, the chapter's heading: its sections are read back from the store.
    one = settings.model_copy(update={"top_k": 1})
    answer = ask("What are the sections of chapter 2, Services?", [], settings=one, backend="extractive")
    for name in SECTIONS:
        assert name in answer.answer, answer.answer
