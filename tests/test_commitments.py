"""Commitments as bid writers write them: every phrasing gives grammatical delivery, timeline and measure sentences."""

from __future__ import annotations

import re

import pytest

from assistant.drafting.commitments import Commitment, delivery_sentence, measure_sentence, timeline_sentence

# (as written, the form it is read as, the timeline sentence a bid writer would accept)
PHRASINGS = [
    ("We will create 500 jobs", "verb", "The timescale for our commitment to create 500 jobs is to be confirmed."),
    ("we will create 500 local jobs by 2027.", "verb", "By 2027, we will create 500 local jobs."),
    (
        "We'll recruit 10 apprentices over the contract term.",
        "verb",
        "Over the contract term, we will recruit 10 apprentices.",
    ),
    ("We’ll plant 1,000 trees by 2028", "verb", "By 2028, we will plant 1,000 trees."),
    ("Our team will volunteer 200 hours each year", "verb", "Each year, we will volunteer 200 hours."),
    ("Greenway Grounds Ltd will plant 300 trees by 2028", "verb", "By 2028, we will plant 300 trees."),
    (
        "We are committed to reducing landfill waste by 50% by March 2027.",
        "verb",
        "By March 2027, we will reduce landfill waste by 50%.",
    ),
    ("We aim to halve food waste within 2 years.", "verb", "Within 2 years, we will halve food waste."),
    ("We will be carbon neutral by 2030", "verb", "By 2030, we will be carbon neutral."),
    ("cut fleet emissions", "verb", "The timescale for our commitment to cut fleet emissions is to be confirmed."),
    ("Cut fleet emissions by 30% by 2027", "verb", "By 2027, we will cut fleet emissions by 30%."),
    (
        "Pay the Real Living Wage to all staff on the contract.",
        "verb",
        "The timescale for our commitment to pay the Real Living Wage to all staff on the contract is to be confirmed.",
    ),
    ("Host 4 community events a year;", "verb", "Each year, we will host 4 community events."),
    (
        "divert 90% of construction waste from landfill",
        "verb",
        "The timescale for our commitment to divert 90% of construction waste from landfill is to be confirmed.",
    ),
    (
        "Creating 20 work placements for care leavers by 2026",
        "verb",
        "By 2026, we will create 20 work placements for care leavers.",
    ),
    ("Cutting our diesel use by 40% within 3 years", "verb", "Within 3 years, we will cut our diesel use by 40%."),
    (
        "Upcycling office furniture",
        "gerund",
        "The timescale for our commitment to upcycling office furniture is to be confirmed.",
    ),
    (
        "Training for 50 staff in digital skills within 12 months",
        "gerund",
        "Within 12 months, we will deliver on our commitment to training for 50 staff in digital skills.",
    ),
    ("A new apprenticeship scheme", "noun", "The timescale for a new apprenticeship scheme is to be confirmed."),
    (
        "A new apprenticeship scheme from September 2025.",
        "noun",
        "From September 2025, we will deliver a new apprenticeship scheme.",
    ),
    ("500 local jobs", "noun", "The timescale for 500 local jobs is to be confirmed."),
    ("500 local jobs by 2026", "noun", "By 2026, we will deliver 500 local jobs."),
    (
        "30% reduction in green waste sent to landfill by the end of 2026",
        "noun",
        "By the end of 2026, we will achieve a 30% reduction in green waste sent to landfill.",
    ),
    (
        "£250,000 of subcontracts with SMEs based in the district",
        "noun",
        "The timescale for £250,000 of subcontracts with SMEs based in the district is to be confirmed.",
    ),
    ("net zero fleet by 2027", "noun", "By 2027, we will achieve net zero fleet."),
    (
        "Support for 20 care leavers into work",
        "noun",
        "The timescale for support for 20 care leavers into work is to be confirmed.",
    ),
    (
        "free healthy cooking workshops for parents in 10 schools each year",
        "noun",
        "Each year, we will deliver free healthy cooking workshops for parents in 10 schools.",
    ),
    (
        "a wellbeing offer for staff of all major suppliers, reviewed each year",
        "noun",
        "We will deliver a wellbeing offer for staff of all major suppliers, reviewed each year.",
    ),
    (
        "Our apprentices will mentor 10 school pupils each year",
        "sentence",
        "Each year, our apprentices will mentor 10 school pupils.",
    ),
]
SUPPLIER = ["Greenway Grounds Ltd"]
# Joins a template must never make, whatever the phrasing.
BAD = re.compile(
    r"\bto we\b|\bto our team\b|towards (?:cut|create|reduce|pay)\b|\bwill we\b|\bwill will\b|\bdeliver we\b|"
    r"\bwe we\b|\bto to\b|\bthe the\b|\bof we\b|\bcommitment to [A-Z][a-z]|\bTo [a-z]+ing\b|\bwe will [A-Z][a-z]|"
    r"\bwe will (?:our|a|an|the|\d)\b|\bour commitment to (?:a|an|the|\d)\b|[.;]\.$|\s[,.]",
)
_STOP = {"we", "will", "our", "team", "ltd", "are", "committed", "to", "aim", "a", "an", "the", "by", "of", "for"}


def _words(text: str) -> set[str]:
    text = text.lower().replace("we'll", "").replace("we’ll", "")
    return set(re.findall(r"£?\d[\d,]*\d%?|\d%?|[a-z][\w’'-]*", text))


@pytest.mark.parametrize(("written", "form", "timeline"), PHRASINGS, ids=[p[0][:40] for p in PHRASINGS])
def test_every_phrasing_gives_grammatical_sentences(written: str, form: str, timeline: str) -> None:
    commitment = Commitment.parse(written, SUPPLIER)
    assert commitment.clause.form == form
    sentences = [delivery_sentence(commitment), timeline_sentence(commitment), measure_sentence(commitment)]
    assert sentences[1] == timeline
    figures = re.findall(r"[£$]?\d[\d,.]*%?", written.rstrip(".;"))
    for sentence in sentences:
        assert sentence[0].isupper() and sentence.endswith(".") and not sentence.endswith(".."), sentence
        assert not BAD.search(sentence), sentence
        for figure in figures:
            assert figure.rstrip(".,") in sentence, (figure, sentence)
    # The delivery and measure sentences restate the whole commitment in its own words.
    own = {w for w in _words(written) if w not in _STOP and not w.endswith("ing")}
    for sentence in (sentences[0], sentences[2]):
        assert own <= _words(sentence) | {"ltd", "greenway", "grounds"}, (own - _words(sentence), sentence)


def test_imperatives_are_lower_cased_and_names_are_not() -> None:
    assert Commitment.parse("Cut fleet emissions").clause.text == "cut fleet emissions"
    assert Commitment.parse("We will Pay the Real Living Wage").clause.text == "pay the Real Living Wage"
    assert Commitment.parse("NHS health checks for all staff").clause.text == "NHS health checks for all staff"


@pytest.mark.parametrize(
    ("written", "measure"),
    [
        ("500 local jobs by 2026", "We will count the local jobs delivered against the target of 500 by 2026."),
        (
            "40% of spend with local SMEs by 2027",
            "We will measure the share of spend with local SMEs against the target of 40% by 2027.",
        ),
        (
            "£50,000 skills fund",
            "We will measure the amount spent or invested (skills fund) against the commitment of £50,000.",
        ),
        (
            "We will cut fleet emissions by 30%",
            "We will track and report progress on our commitment to cut fleet emissions by 30%.",
        ),
    ],
)
def test_a_measure_counts_against_the_stated_quantity_or_tracks_progress(written: str, measure: str) -> None:
    assert measure_sentence(Commitment.parse(written)) == measure
