"""Answers shaped by a document's structure, over a made-up handbook (not the corpus): a lead-in ending in "."
with its list, the outline of a chapter the question names, and the glossary row of exactly the term asked.

Real Chroma on the test's data dir and the real embedding model; the extractive backend.
"""

from __future__ import annotations

import re

import pytest

from assistant import adequacy
from assistant.adequacy import focus_terms
from assistant.answer import ask
from assistant.config import Settings
from assistant.extractive import names_heading
from assistant.services import get_services
from assistant.shapes import counted_noun, defines, shape_of

HANDBOOK = """# Riverton Parking Permit Handbook

## 1. Introduction

This handbook explains how parking permits are issued in Riverton. It is meant for residents, businesses and the \
officers who process their applications. This chapter gives an overview, and nothing else.

This handbook describes edition 3 of the permit scheme. Edition 3 of 4 March 2024 replaced the paper permits.

## 2. Applications

Applications are made online or at the civic centre, and each one is checked within ten working days. An \
application that is missing a required detail is returned to the applicant without a decision. Giving false \
information on an application is an offence, and a permit obtained that way is cancelled.

The following details may be given in an application.
- Vehicle registration: required.
- Proof of address: required.
- Blue badge number: optional.
- Second vehicle registration: optional.

## 3. Permit codes

Each permit carries a short code printed on its windscreen disc. The codes have the same meaning in every zone.

- PK-RES: Resident permit for one vehicle registered at an address in the zone.
- PK-RES-EV: Resident permit for an electric vehicle, with access to the charging bays.
- PK-BUS: Business permit for vehicles used by a firm trading in the zone.
- PK-BUS-EV: Business permit for an electric vehicle used by a firm trading in the zone.
- PK-VIS: Visitor permit valid for a single day.
- PK-CAR: Carer permit for people who visit a resident needing care.

## 4. Enforcement

This chapter covers what happens when a vehicle is parked without a valid permit.

### 4.1. Penalty charges

A civil enforcement officer issues a penalty charge notice to a vehicle parked without a valid permit. The charge \
is halved when it is paid within fourteen days.

### 4.2. Appeals

A driver may appeal against a penalty charge in writing within twenty-eight days. An independent adjudicator \
decides appeals the council rejects.

### 4.3. Removal of vehicles

A vehicle left in a bay for more than seven days without a permit may be removed to the council's pound. It is \
released when the owner pays the removal fee.

## 5. Renewals

The 2023 survey of parking bays updated the map of parking bays in every zone. Riverton has 340 resident bays \
and 45 visitor spaces.

Permits last twelve months. The council sends a reminder six weeks before a permit expires, and a renewal may be \
made online in the same way as a first application.
"""


@pytest.fixture
def handbook(ingest_document) -> Settings:
    return ingest_document("riverton-parking-permits.md", HANDBOOK)


@pytest.mark.parametrize(
    ("question", "present", "absent"),
    [
        pytest.param(
            "Which details may be given in an application?",
            ["following details", "Vehicle registration", "Proof of address", "Blue badge number", "Second vehicle"],
            [],
            id="a lead-in ending in '.' is answered with the list after it",
        ),
        pytest.param(
            "What topics does the Enforcement chapter of the handbook cover?",
            ["Penalty charges", "Appeals", "Removal of vehicles"],
            ["overview"],
            id="a chapter named by its heading words: its outline",
        ),
        pytest.param(
            "What does the permit code PK-RES mean?",
            ["Resident permit for one vehicle"],
            ["PK-RES-EV", "PK-BUS"],
            id="the row of exactly the term asked, not a longer code that starts with it",
        ),
        pytest.param(
            "What does the permit code PK-BUS-EV stand for?",
            ["Business permit for an electric vehicle"],
            ["PK-RES", "PK-BUS:"],
            id="stand for: the glossary row, though its words are not the code's initials",
        ),
        pytest.param(
            "What is the date of edition 3 of the permit scheme?",
            ["4 March 2024"],
            [],
            id="a date question about a labelled entry: the sentence naming it that holds a date",
        ),
        pytest.param(
            "How many parking bays are there?",
            ["340 resident bays"],
            [],
            id="how many X: the sentence giving a number of X, not one holding a year",
        ),
        pytest.param(
            "What do Riverton parking permits expect about lying on a form?",
            ["false information"],
            [],
            id="the document's own subject words do not pick the sentence that repeats them",
        ),
        pytest.param(
            "What do the Riverton parking permit rules say about dishonest applicants?",
            ["false information"],
            [],
            id="subject words again, the answer said in other words",
        ),
        pytest.param(
            "What does the Riverton parking permit handbook say about paying a charge early?",
            ["halved when it is paid within fourteen days"],
            ["Renewals"],
            id="what the handbook named says about something: not the handbook's outline",
        ),
    ],
)
def test_answers_follow_the_documents_structure(handbook, question, present, absent) -> None:
    answer = ask(question, settings=handbook, backend="extractive")
    assert not answer.refused, answer.answer
    for text in present:
        assert text in answer.answer, answer.answer
    for text in absent:
        assert text not in answer.answer, answer.answer
    assert answer.grounding.supported == answer.grounding.total > 0


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        ("PK-RES", "PK-RES: Resident permit.", True),
        ("PK-RES", "| PK-RES | Resident permit |", True),
        ("PK-RES", "PK-RES – Resident permit.", True),
        ("PK-RES", "PK-RES-EV: Resident permit for an electric vehicle.", False),
        ("PK-RES", "Use PK-RES: it is cheaper.", False),
        ("LSR", "Local Supplier Register (LSR): the firms that passed checks.", False),
    ],
)
def test_a_glossary_row_defines_exactly_its_term(term, text, expected) -> None:
    assert defines(term, text) is expected


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("What does the permit code PK-BUS-EV stand for?", "PK-BUS-EV"),
        ("What does the licence name CC-BY-SA mean?", "CC-BY-SA"),
        ("What does LSR stand for?", "LSR"),
    ],
)
def test_the_term_of_an_expansion_question(question, term) -> None:
    shape = shape_of(question)
    assert (shape.kind, shape.term) == ("acronym", term)


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("How many parking bays are there?", "bays"),
        ("how many measures r there", "measures"),
        ("How many checks do zone two and zone four have?", "checks"),
        ("How many resident permit holders does the scheme allow?", "holders"),
        ("When do permits expire?", ""),
    ],
)
def test_what_a_how_many_question_counts(question, noun) -> None:
    assert counted_noun(question) == noun


@pytest.mark.parametrize(
    ("question", "heading", "expected"),
    [
        ("What topics does the Enforcement chapter cover?", "4. Enforcement", True),
        ("What does section Appeals say?", "4.2. Appeals", True),
        ("Which fields may be present in a header stanza?", "5.1. Header stanza (once)", True),
        ("What are the penalties?", "4.1. Penalty charges", False),
        ("What does the reinforcement plan say?", "4. Enforcement", False),
    ],
)
def test_a_question_names_a_heading_by_its_words(question, heading, expected) -> None:
    assert names_heading(question, heading) is expected


def test_a_named_chapters_outline_is_not_refused_for_the_questions_own_words(handbook, monkeypatch) -> None:
    """'Chapter' names a part of the document and 'cover' is the question's verb: neither is its focus."""
    monkeypatch.setattr(adequacy, "PLAIN_SHARE", 1.0)  # a test index is small: let every plain word count as rare
    question = "What topics does the Enforcement chapter of the handbook cover?"
    words = {term.word.lower() for term in focus_terms(question, get_services(handbook).bm25_index())}
    assert not {"chapter", "cover", "topics"} & words
    answer = ask(question, settings=handbook, backend="extractive")
    assert not answer.refused, answer.answer
    assert "Removal of vehicles" in answer.answer


def test_an_outline_shows_its_headings_whole_without_section_numbers(handbook) -> None:
    """'4.1. Penalty charges' would be checked as two sentences, '4.1.' and the rest: the number is left out."""
    question = "What topics does the Enforcement chapter of the handbook cover?"
    lines = [line for line in ask(question, settings=handbook, backend="extractive").answer.splitlines() if line]
    assert any(line.startswith("- Penalty charges [") for line in lines), lines
    assert not any(re.match(r"^-?\s*\d+(?:\.\d+)*\.?\s*(?:\[\d+\])?$", line) for line in lines), lines


BOOKING = """# Riverton Hall Booking Rules

## Booking records

The fields which may appear in a booking record are:

- **Hirer:** the person who signs the booking form. The hirer is responsible for the hall during the booking.
- **Purpose:** what the hall is booked for. A purpose that changes needs a new booking.
- **Hours:** when the booking starts and ends. Setting up and clearing away count as booked hours.
"""


def test_an_item_of_several_sentences_stays_one_item(ingest_document) -> None:
    settings = ingest_document("riverton-hall-booking.md", BOOKING)
    answer = ask("Which fields may appear in a booking record?", settings=settings, backend="extractive")
    items = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    assert len(items) == 3, answer.answer
    assert "The hirer is responsible for the hall" in items[0], answer.answer
    assert "Setting up and clearing away" in items[2], answer.answer
