"""Answer adequacy over a made-up council guide (not the corpus): the chosen text must address the question's focus.

Real Chroma on the test's data dir, the real BM25 index and the real embedding model; the extractive backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import adequacy
from assistant.adequacy import asked_for, focus_terms, unaddressed, with_focus_chunk
from assistant.answer import ask
from assistant.config import Settings
from assistant.retrieval import search
from assistant.services import get_services
from ingest import ingest_paths

GUIDE = """# Riverton Council Waste Collection Guide

## 1. Household collections

General waste bins are emptied every two weeks. Recycling boxes are collected weekly, on the same day as food \
waste. Bins must be placed at the kerb by 7am on collection day.

## 2. Bulky items

Residents can book a bulky item collection online for a fee of £30 for up to three items. Fridges and freezers \
count as one item each.

## 3. Missed collections

A missed bin can be reported within two working days. The crew will return within three working days of the report.

## 4. Garden waste

Garden waste is collected fortnightly from March to November for households that subscribe to the service.

## 5. Terms used in this guide

- Kerbside | The edge of the pavement in front of a home, where bins are left for the crew.
- HWRC | Household Waste Recycling Centre, the site where residents take waste the crews do not collect.
- Subscriber | A household that pays the yearly charge for garden waste collections.
"""


@pytest.fixture
def guide(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(adequacy, "MIN_CHUNKS", 1)  # a test index is small: the rarity check runs on it anyway
    path = tmp_path / "riverton-waste-guide.md"
    path.write_text(GUIDE, encoding="utf-8")
    report = ingest_paths([path], settings)
    assert not report.failed, report.failed
    return settings


@pytest.mark.parametrize(
    ("question", "named"),
    [
        pytest.param("Which colour are the recycling boxes?", "colour", id="what a which-question asks for"),
    ],
)
def test_related_text_that_leaves_out_the_focus_is_not_covered(guide, question, named) -> None:
    answer = ask(question, settings=guide, backend="extractive")
    assert answer.refused, answer.answer
    assert answer.answer.startswith("The texts don't cover") and named in answer.answer
    assert len(answer.answer) < 200 and "\n" not in answer.answer


@pytest.mark.parametrize(
    ("question", "present"),
    [
        pytest.param("How often are general waste bins picked up?", "every two weeks", id="other words: picked up"),
        pytest.param("What does HWRC stand for?", "Household Waste Recycling Centre", id="glossary row expands"),
        pytest.param("How much does a bulky item collection cost?", "£30", id="answered in other words"),
    ],
)
def test_text_that_addresses_the_question_is_answered(guide, question, present) -> None:
    answer = ask(question, settings=guide, backend="extractive")
    assert not answer.refused, answer.answer
    assert present in answer.answer


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("Which Python version is the default?", ["Python", "version"]),
        ("What checksum does the tool use?", ["checksum"]),
        ("What is the date of the release?", []),
        ("How long are records kept?", []),
    ],
)
def test_what_a_which_question_asks_for(question, asked) -> None:
    assert asked_for(question) == asked


def test_the_focus_is_the_rarest_word_and_never_a_label_or_a_lists_noun(guide) -> None:
    index = get_services(guide).bm25_index()
    focus = focus_terms("Which terms does section 5 define, according to the kerbside rules?", index)
    words = [term.word for term in focus]
    assert "kerbside" in words
    assert not {"section", "5", "terms", "according"} & set(words)
    indexed = [term.chunks for term in focus if term.chunks]
    assert indexed == sorted(indexed) and [term.chunks for term in focus][: len(indexed)] == indexed


def test_a_small_index_is_not_checked(guide, monkeypatch) -> None:
    monkeypatch.setattr(adequacy, "MIN_CHUNKS", 1000)
    answer = ask("Which colour are the recycling boxes?", settings=guide, backend="extractive")
    assert not answer.answer.startswith("The texts don't cover colour")


@pytest.mark.parametrize(
    ("question", "texts", "gap"),
    [
        pytest.param(
            "Which lorry model is used for the recycling boxes?",
            ["Recycling boxes are collected weekly, on the same day as food waste."],
            ["lorry model"],
            id="asked-for noun missing",
        ),
        pytest.param(
            "Can fridges be left with garden waste?",
            ["Garden waste is collected fortnightly from March to November for households that subscribe."],
            ["fridges"],
            id="focus word missing",
        ),
        pytest.param(
            "Which fee is charged for a bulky item collection?",
            ["Residents can book a bulky item collection online for a fee of £30 for up to three items."],
            [],
            id="asked-for noun present",
        ),
    ],
)
def test_unaddressed_words(guide, question, texts, gap) -> None:
    services = get_services(guide)
    assert (
        unaddressed(
            question, texts, ["Riverton Council Waste Collection Guide"], services.bm25_index(), services.vectors
        )
        == gap
    )


STREETS = "\n\n".join(
    f"## {n}. Ward {n} streets\n\n"
    + " ".join(
        f"Street {n}.{i} is swept every {i + 1} days, and its litter bins are emptied by the ward {n} crew before "
        f"{i + 6} in the morning, when the collection vehicles have left the depot for their rounds."
        for i in range(9)
    )
    for n in range(1, 5)
)


def test_a_chunk_holding_the_focus_word_is_read_when_retrieval_missed_it(guide, tmp_path) -> None:
    path = tmp_path / "riverton-street-cleaning.md"
    path.write_text(f"# Riverton Street Cleaning Plan\n\n{STREETS}\n", encoding="utf-8")
    assert not ingest_paths([path], guide).failed
    services = get_services(guide)
    question = "What is meant by a subscriber?"
    found = search(question, guide, k=10, services=services)
    without = [chunk for chunk in found if "Subscriber |" not in chunk.text]
    assert without and len(without) < len(found)  # the premise: one chunk holds the term
    rescued = with_focus_chunk(question, without, guide, services)
    assert rescued[0] == without[0] and "Subscriber |" in rescued[1].text
    assert with_focus_chunk(question, found, guide, services) == found  # nothing to add when it was retrieved
