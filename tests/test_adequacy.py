"""Answer adequacy over a made-up council guide (not the corpus): the chosen text must address the question's focus.

Real Chroma on the test's data dir, the real BM25 index and the real embedding model; the extractive backend.
"""

from __future__ import annotations

import pytest

from assistant import adequacy, value_shapes
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
def guide(ingest_document) -> Settings:
    return ingest_document("riverton-waste-guide.md", GUIDE)


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
    focus = focus_terms("Which terms does section 5 define, according to the Kerbside rules?", index)
    words = [term.word for term in focus]
    assert "Kerbside" in words
    assert not {"section", "5", "terms", "according"} & set(words)
    indexed = [term.chunks for term in focus if term.chunks]
    assert indexed == sorted(indexed) and [term.chunks for term in focus][: len(indexed)] == indexed


def test_a_small_index_checks_names_and_asked_for_words_but_no_plain_word_is_rare(guide) -> None:
    index = get_services(guide).bm25_index()
    assert len(index) < 49  # the premise: too few chunks to show an ordinary word rare
    assert [t.word for t in focus_terms("Can fridges be left with garden waste?", index)] == []
    assert [t.word for t in focus_terms("Does the Ashdown HWRC take fridges?", index)] == ["HWRC", "Ashdown"]
    assert [t.word for t in focus_terms("What does the bulky item charge cover, and when is it compared?", index)] == []


@pytest.mark.parametrize(
    ("word", "chunks", "size", "name", "rare"),
    [
        pytest.param("fridges", 1, 20, False, False, id="plain word, small index: never rare"),
        pytest.param("fridges", 0, 30, False, False, id="plain word absent from 30 chunks: not shown rare"),
        pytest.param("fridges", 1, 300, False, True, id="plain word in 1 of 300 chunks"),
        pytest.param("fridges", 40, 300, False, False, id="plain word in 40 of 300 chunks"),
        pytest.param("compared", 0, 300, False, False, id="verb form"),
        pytest.param("say", 0, 300, False, False, id="generic word"),
        pytest.param("five", 1, 300, False, False, id="number word"),
        pytest.param("they're", 0, 300, False, False, id="contraction"),
        pytest.param("r", 0, 300, False, False, id="a letter"),
        pytest.param("Zanussi", 1, 20, True, True, id="name, small index"),
        pytest.param("Zanussi", 40, 300, True, False, id="common name"),
    ],
)
def test_which_question_words_are_rare(word, chunks, size, name, rare) -> None:
    assert adequacy._rare(word, chunks, size, name) is rare


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Who maintains the Riverton Waste Policy?", {"Riverton", "Waste", "Policy"}),
        ("What does the short name CC-BY-SA mean?", {"CC-BY-SA"}),
        ("Which options do the site_defaults files set?", {"site_defaults"}),
        ("What does the principle 'do not over-claim' say?", {"over-claim"}),
        ("how do councils check their spending?", set()),
    ],
)
def test_names_by_shape(text, names) -> None:
    assert names <= adequacy.names_in(text)
    assert not {"how", "councils", "check", "spending", "do", "say", "mean"} & adequacy.names_in(text)


@pytest.mark.parametrize(
    ("words", "texts", "held"),
    [
        ("email address", ["Contact the waste team at waste@riverton.example.org."], True),
        ("email address", ["Contact the waste team by phone or in person."], False),
        ("date", ["The guide was issued on 3 March 2021."], True),
        ("date", ["The guide was issued last spring."], False),
        ("version", ["This is release 2.4.1 of the guide."], True),
        ("website", ["Book online at https://riverton.example.org/bulky."], True),
        ("colour", ["Recycling boxes are blue."], False),
    ],
)
def test_a_value_of_the_kind_asked_for_answers_it(words, texts, held) -> None:
    assert value_shapes.holds_value(words, texts) is held


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
            "Can Zanussi fridges be left with garden waste?",
            ["Garden waste is collected fortnightly from March to November for households that subscribe."],
            ["Zanussi"],
            id="focus name missing",
        ),
        pytest.param(
            "What is the waste team's email address?",
            ["Contact the waste team at waste@riverton.example.org."],
            [],
            id="asked-for kind held as a value",
        ),
        pytest.param(
            "Which fee is charged for a bulky item collection?",
            ["Residents can book a bulky item collection online for a fee of £30 for up to three items."],
            [],
            id="asked-for noun present",
        ),
        pytest.param(
            "How long does the crew take to return for a missed bin?",
            ["A missed bin can be reported online, and the crew will return to collect it."],
            ["how long"],
            id="how long, and no figure in the text",
        ),
        pytest.param(
            "How long does the crew take to return for a missed bin?",
            ["The crew will return within three working days of the report."],
            [],
            id="how long, answered with a figure",
        ),
        pytest.param(
            "How long may a bin stay at the kerb?",
            ["Bins left out permanently block the pavement, and the crew may report them."],
            ["how long"],
            id="how long, and a word of time that is no answer",
        ),
        pytest.param(
            "How much does a bulky item collection cost?",
            ["Residents can book a bulky item collection online for a fee of £30 for up to three items."],
            [],
            id="how much, answered with a figure in digits",
        ),
        pytest.param(
            "How many items may a bulky collection take?",
            ["The following items are taken:\nFridges and freezers\nSofas\nMattresses"],
            [],
            id="how many, answered with a list: counted by its entries",
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


def test_a_name_in_the_opening_of_the_units_document_qualifies_it(guide) -> None:
    services = get_services(guide)
    question = "Who runs the Ashdown scheme for garden waste?"
    texts = ["Garden waste is collected fortnightly from March to November for households that subscribe."]
    args = (question, texts, ["Riverton Council Waste Collection Guide"], services.bm25_index(), services.vectors)
    assert unaddressed(*args) == ["Ashdown"]
    assert unaddressed(*args, openings=["The Ashdown scheme sets out how Riverton collects waste."]) == []


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
    question = "What is meant by an HWRC?"
    found = search(question, guide, k=10, services=services)
    without = [chunk for chunk in found if "HWRC |" not in chunk.text]
    assert without and len(without) < len(found)  # the premise: one chunk holds the term
    rescued = with_focus_chunk(question, without, guide, services)
    assert rescued[0] == without[0] and "HWRC |" in rescued[1].text
    assert with_focus_chunk(question, found, guide, services) == found  # nothing to add when it was retrieved


CONTACTS = """# Riverton Recycling Plan

## 1. Aims

The plan was written by Jane Moss for the Riverton waste team. It aims to raise the recycling rate every year.

## 2. Depots

Jane Moss visits each depot twice a year to check the sorting lines and the crews' safety equipment.

## 3. Contacts

Questions about the plan go to Jane Moss, plan.team@riverton.example.org, or by post to the council offices.
"""


def test_a_chunk_holding_the_kind_of_value_asked_for_is_read(guide, tmp_path) -> None:
    path = tmp_path / "riverton-recycling-plan.md"
    path.write_text(CONTACTS, encoding="utf-8")
    assert not ingest_paths([path], guide).failed
    services = get_services(guide)
    question = "What is Jane Moss's email address?"
    assert value_shapes.value_kind(question) == "email"
    assert value_shapes.value_kind("What is the link between A and B?") is None
    found = search(question, guide, k=10, services=services)
    without = [chunk for chunk in found if "@" not in chunk.text]
    rescued = with_focus_chunk(question, without, guide, services)
    assert rescued[0] == without[0] and "plan.team@riverton.example.org" in rescued[1].text
    answer = ask(question, settings=guide, backend="extractive")
    assert not answer.refused and "plan.team@riverton.example.org" in answer.answer, answer.answer


@pytest.mark.parametrize(
    ("word", "question", "text", "gap"),
    [
        pytest.param(
            "cooperate",
            "What skills help councils cooperate across organisations to tackle complex problems?",
            "Council staff are required to work across organisational boundaries to address complex challenges.",
            [],
            id="a paraphrase's verb, said in other words",
        ),
        pytest.param(
            "credit",
            "Is it ok for us to take credit for value we did not create?",
            "Do not over-claim: only claim the value that activities are responsible for creating.",
            [],
            id="a paraphrase's noun, said in other words",
        ),
        pytest.param(
            "asbestos",
            "How much does it cost to have asbestos collected?",
            "Residents can book a bulky item collection online for a fee of £30 for up to three items.",
            ["asbestos"],
            id="a subject the text lacks pulls the question away from it",
        ),
    ],
)
def test_a_plain_focus_word_said_in_other_words_is_addressed(guide, monkeypatch, word, question, text, gap) -> None:
    # The focus is fixed here (a rare plain word of a large index); the check is whether leaving the word out of the
    # question brings it closer to the unit (the texts lack the subject) or not (they say it in other words).
    monkeypatch.setattr(adequacy, "focus_terms", lambda question, index: [adequacy.Term(word, word, 0)])
    services = get_services(guide)
    assert unaddressed(question, [text], [""], services.bm25_index(), services.vectors) == gap
