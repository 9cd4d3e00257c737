"""The shared text rules: citation markers, list and heading markers (sentences and content words: test_grounding)."""

from __future__ import annotations

import pytest

from assistant.text import citation_numbers, plain_lines, strip_citations, strip_list_marker


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("A claim [2].", [2]),
        ("A claim [1, 3] and another [3; 2].", [1, 3, 2]),
        ("A range [1–3].", [1, 2, 3]),
        ("A range [2-4] then [1][2].", [2, 3, 4, 1]),
        ("Spaced [1 – 2].", [1, 2]),
        ("Mixed [1, 3–4].", [1, 3, 4]),
        ("Not a citation [a] or [ 1 ] or (1).", []),
        ("Backwards [3–1].", [1, 2, 3]),
    ],
)
def test_citation_numbers(text: str, numbers: list[int]) -> None:
    assert citation_numbers(text) == numbers


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("A claim [1–2].", "A claim."),
        ("A claim.[1] [2-3]", "A claim."),
        ("Cites [1, 2], then goes on [3].", "Cites, then goes on."),
    ],
)
def test_strip_citations_removes_ranges_too(sentence: str, expected: str) -> None:
    assert strip_citations(sentence) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("- item", "item"),
        ("  * item", "item"),
        ("+ item", "item"),
        ("• item", "item"),
        ("12. item", "item"),
        ("3) item", "item"),
        ("2012. The Act", "2012. The Act"),
        ("-not a marker", "-not a marker"),
        ("Plain text - with a dash", "Plain text - with a dash"),
    ],
)
def test_strip_list_marker(line: str, expected: str) -> None:
    assert strip_list_marker(line) == expected


def test_plain_lines_drops_markers_and_heading_marks_but_keeps_a_heading_number() -> None:
    text = "## 1. Policy advice\n\nLead-in:\n- first item\n2. second item\n#hashtag"
    assert plain_lines(text) == "1. Policy advice\n\nLead-in:\nfirst item\nsecond item\n#hashtag"
