"""Retrieval beyond the whole question: per-part search, a document's front matter, headings in BM25.

Table tests over made-up documents (not the corpus), on a real Chroma in the test's data dir with the real
embedding model, so the rules are shown to hold for any well-structured guidance document.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.query_plan import answer_evidence, front_matter_evidence, sub_queries
from assistant.retrieval import search, with_part_heads
from ingest import ingest_paths

# --------------------------------------------------------------------------------------------- question forms


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "How many checks do zone two and zone five of the depot plan have?",
            [
                "How many checks do zone two of the depot plan have?",
                "How many checks do zone five of the depot plan have?",
            ],
        ),
        (
            "What are rules C and D of the grant scheme?",
            ["What are rules C of the grant scheme?", "What are rules D of the grant scheme?"],
        ),
        (
            "What does the gritting rota do, and who signs it off?",
            ["What does the gritting rota do", "who signs it off (gritting rota)"],
        ),
        ("When was the levy set, and what must landlords pay?", ["When was the levy set", "what must landlords pay"]),
        ("What are the duties of wardens and stewards?", []),  # two nouns, no labels: one question
        ("What is zone two of the depot plan?", []),
    ],
)
def test_sub_queries(question: str, parts: list[str]) -> None:
    assert sub_queries(question) == parts


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("Who wrote the fleet handbook?", True),
        ("Who are the authors of the tenancy strategy?", True),
        ("What is the date of version 3 of the fleet handbook?", True),
        ("When was the tenancy strategy published?", True),
        ("Who approves overtime claims?", False),
        ("When was the levy introduced?", False),
        ("What is the fleet handbook?", False),
    ],
)
def test_front_matter_questions(question: str, asks: bool) -> None:
    assert (front_matter_evidence(question) is not None) is asks


@pytest.mark.parametrize(
    ("question", "text", "holds"),
    [
        ("What is the duty officer's email address?", "Write to duty.officer@riverton.example.org any time.", True),
        ("What is the duty officer's email address?", "The duty officer answers emails within a day.", False),
        ("What is the out-of-hours phone number?", "Call 01632 960 123 after 6pm.", True),
        ("What is the out-of-hours phone number?", "Phone the duty officer after 6pm.", False),
        ("Which website lists the road closures?", "See https://roads.riverton.example.org/closures.", True),
        ("Which website lists the road closures?", "Road closures are listed online.", False),
    ],
)
def test_contact_questions_want_a_contact_detail(question: str, text: str, holds: bool) -> None:
    shape = answer_evidence(question)
    assert shape is not None
    assert bool(shape.search(text)) is holds


@pytest.mark.parametrize("question", ["Who answers emails out of hours?", "What does the duty officer do?"])
def test_other_questions_want_no_shape(question: str) -> None:
    assert answer_evidence(question) is None


@pytest.mark.parametrize(
    ("order", "parts", "k", "top"),
    [
        (["a1", "a2", "a3", "x", "y", "b1"], [["a1", "a2"], ["b1", "a1"]], 3, ["a1", "a2", "b1"]),
        (["a1", "b1", "a2"], [["a1"], ["b1"]], 2, ["a1", "b1"]),  # both heads already there: order kept
        (["a1", "a2", "a3"], [["a1"], ["a1"]], 2, ["a1", "a2"]),  # one head for both parts
        (["x", "y", "z"], [["b1"], ["c1"]], 2, ["b1", "c1"]),
    ],
)
def test_each_part_gets_its_best_chunk(order: list[str], parts: list[list[str]], k: int, top: list[str]) -> None:
    merged = with_part_heads(order, parts, k)
    assert merged[:k] == top
    assert sorted(merged) == sorted(set(order) | {p[0] for p in parts})


# --------------------------------------------------------------------------------------------- real documents


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


HANDBOOK = """---
id: fleet-handbook
title: Harbourside Fleet Handbook
---
# Harbourside Fleet Handbook, edition 4

by Odile Marchetti-Hayes

Edition 4 of 2 February 2024. Copyright © 2019-2024 Harbourside District Council.

## 1. Using the fleet handbook

The fleet handbook tells drivers how to book, check and return a council vehicle. The fleet handbook applies to
every pool car, van and minibus, and to hired vehicles used on council business.

## 2. Booking a vehicle

Vehicles are booked through the fleet desk at least two working days ahead. The fleet handbook sets the order of
priority: emergency work first, then statutory visits, then everything else.

## 3. Daily checks

Before each journey the driver checks tyres, lights, fluid levels and the damage sheet, as the fleet handbook
requires. Defects are reported to the fleet desk before the vehicle leaves the depot.

## 4. Fuel cards

Fuel cards stay with the vehicle. Receipts are kept for every purchase and handed in with the logbook at the end
of the month, as set out in this fleet handbook.

## 5. Accidents

After an accident the driver makes the scene safe, exchanges details and phones the fleet desk. The fleet
handbook's accident form is completed the same day.

## 6. Booking form template

Copy this template into the fleet desk's booking mailbox, replacing the example details with your own:

    Driver: Alex Example <alex.example@example.org>
    Vehicle: pool car
    Dates: 3 to 5 March

## 7. Driver training

Tomasz Wren runs the driver training days. Tomasz Wren assesses every new driver on a minibus before they may
book one, and Tomasz Wren signs the training record that the fleet desk keeps. Ask Tomasz Wren about dates.

## 8. Contacts

- Fleet desk: fleet.desk@harbourside.example.gov.uk
- Training: tomasz.wren@harbourside.example.gov.uk
- Insurance: claims@harbourside.example.gov.uk
"""


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("Who wrote the Harbourside Fleet Handbook?", "by Odile Marchetti-Hayes"),
        ("What is the date of edition 4 of the fleet handbook?", "2 February 2024"),
    ],
)
def test_front_matter_answers_who_wrote_and_when(
    settings: Settings, tmp_path: Path, question: str, phrase: str
) -> None:
    small = settings.model_copy(update={"chunk_tokens": 64})
    ingest_paths([_write(tmp_path, "fleet.md", HANDBOOK)], small)
    found = search(question, small, k=3)
    assert phrase in found[0].text, [chunk.text[:60] for chunk in found]


def test_a_contact_question_finds_the_address_of_whom_it_names(settings: Settings, tmp_path: Path) -> None:
    small = settings.model_copy(update={"chunk_tokens": 64})
    ingest_paths([_write(tmp_path, "fleet.md", HANDBOOK)], small)
    found = search("What is Tomasz Wren's email address?", small, k=3)
    assert "tomasz.wren@" in found[0].text, [chunk.text[:60] for chunk in found]


DEPOT = """---
id: depot-plan
title: Northgate Depot Safety Plan
---
# Northgate Depot Safety Plan

## Zone one: the gatehouse (4 checks)

Visitors sign in, wear a badge and are met by a host. Visitors bound for zone three are walked across by their
host after the gatehouse checks. Deliveries wait in the lay-by until called forward; the gatehouse checks cover
the barrier, tested every morning, and the visitor book, checked weekly by the site manager.

## Zone two: the workshop (7 checks)

Lifting gear is inspected every six months, guards stay on every machine, spill kits are stocked, eye protection
is worn at the grinders, the extraction system is tested yearly, hot work needs a permit and the first aid box is
checked monthly.

## Zone three: the yard (5 checks)

The one-way system is marked, reversing needs a banksman, lighting is checked at dusk, pedestrians keep to the
walkways and the speed limit is five miles an hour.

## Zone four: the salt barn (11 checks)

### Loading the gritters

How many checks does loading need? The depot safety plan sets four checks: trained drivers only, the reversing
camera, open barn doors and the dust level.

### Storing salt

How many checks does storage need? The depot safety plan sets three checks: the stack below the marked line, the
roof after storms and the drainage channel.

### Working alone in the barn

How many checks does lone working need? The depot safety plan sets four checks: the radio, the hourly call to the
gatehouse, the emergency stops and the lone-working log.
"""


def test_two_named_entries_each_keep_a_slot(settings: Settings, tmp_path: Path) -> None:
    small = settings.model_copy(update={"chunk_tokens": 64})
    ingest_paths([_write(tmp_path, "depot.md", DEPOT)], small)
    found = search("How many checks do zone two and zone four of the depot safety plan have?", small, k=3)
    sections = [chunk.section for chunk in found]
    assert any("Zone two" in s for s in sections), sections
    assert any("Zone four" in s for s in sections), sections


def test_a_heading_outweighs_a_passing_mention(settings: Settings, tmp_path: Path) -> None:
    small = settings.model_copy(update={"chunk_tokens": 64})
    ingest_paths([_write(tmp_path, "depot.md", DEPOT)], small)
    found = search("Which checks apply in zone three?", small, k=3, mode="bm25")
    assert "Zone three" in found[0].section, [chunk.section for chunk in found]


LICENCE = """---
id: street-trading
title: Street Trading Licence Process
---
# Street Trading Licence Process

## Stage one: application (3 steps)

The applicant sends two copies of the form, two photographs and the fee to the licensing team, who check that
two forms of identity are enclosed.

## Stage two: consultation (4 steps)

The licensing team consults the police, highways, environmental health and the ward councillors for 28 days.

## Stage three: decision (2 steps)

Two officers review the application and the consultation replies; the decision is sent within two weeks, and
two conditions are always attached.

## Stage four: appeal (2 steps)

An applicant refused a licence may appeal within two months to the magistrates' court, sending two copies of
the decision and two copies of the application.
"""


@pytest.mark.parametrize(
    ("question", "heading"),
    [
        ("How many checks does zone two of the depot safety plan have?", "Zone two"),
        ("What is zone two of the depot safety plan?", "Zone two"),
        ("What is zone three?", "Zone three"),
        ("What is zone one of the plan?", "Zone one"),
        ("How many checks does zone 3 have?", "Zone three"),
        ("What checks does zone two of the depot safety plan need?", "Zone two"),
        ("What is checked in zone 1?", "Zone one"),
        ("What does zone three cover?", "Zone three"),
        ("What happens in stage two of the street trading licence process?", "Stage two"),
        ("How many steps does stage two of the licence process have?", "Stage two"),
        ("What is stage two?", "Stage two"),
        ("What happens at stage 2 of a street trading licence application?", "Stage two"),
        ("What is stage three of the street trading licence process?", "Stage three"),
    ],
)
def test_an_entry_named_by_its_label_ranks_its_own_section_first(
    settings: Settings, tmp_path: Path, question: str, heading: str
) -> None:
    # "two" is common in the stages' text, the embedding model sees "stage two" as near "stage four" as itself
    # and "stage 2" matches "Stage two" on neither side: the heading path is what tells the entries apart.
    small = settings.model_copy(update={"chunk_tokens": 64})
    ingest_paths([_write(tmp_path, "depot.md", DEPOT), _write(tmp_path, "licence.md", LICENCE)], small)
    found = search(question, small, k=1)
    assert heading in found[0].section, [chunk.section for chunk in found]
