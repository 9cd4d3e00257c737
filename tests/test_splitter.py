"""Heading-aware chunking: heading paths, whole list items, the embedding model's token window."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.services import get_services
from ingest.splitter import SECTION_SEPARATOR, split_markdown


@pytest.fixture(scope="module")
def count_tokens():
    return get_services(Settings()).embeddings.count_tokens


DOC = """# UK Public Value Framework

Intro paragraph about the four pillars.

## Pillar two: managing inputs (9 questions)

### Benchmarking & cost control

- How does the public body use cost benchmarking to improve efficiency and performance?

### Cost shifting

- How aware is the public body of cost shifting risks?
- What strategy and contingency plans are in place to effectively manage risks?
"""


def test_a_small_document_stays_whole_with_its_subheadings(count_tokens) -> None:
    [chunk] = split_markdown(DOC, "UK Public Value Framework", count_tokens)
    assert chunk.section == "UK Public Value Framework"
    assert "### Benchmarking & cost control" in chunk.text and chunk.text.endswith("manage risks?")


def test_every_chunk_carries_its_heading_path(count_tokens) -> None:
    chunks = split_markdown(DOC, "UK Public Value Framework", count_tokens, max_tokens=72)
    by_section = {c.section: c.text for c in chunks}
    assert by_section["UK Public Value Framework"] == "Intro paragraph about the four pillars."
    path = SECTION_SEPARATOR.join(
        ["UK Public Value Framework", "Pillar two: managing inputs (9 questions)", "Benchmarking & cost control"]
    )
    assert by_section[path].startswith("- How does the public body use cost benchmarking")
    # Short sections stay whole: both cost-shifting questions in one chunk.
    cost = [c for c in chunks if c.section.endswith("Cost shifting")]
    assert len(cost) == 1 and cost[0].text.count("\n- ") == 1


def test_small_sibling_sections_are_packed_under_their_parent(count_tokens) -> None:
    text = "# Model\n\nIntro. " + "Long intro sentence about the model. " * 40 + "\n\n"
    text += "".join(f"### Theme {i}\n\n- Outcome {i}\n\n" for i in range(5))
    chunks = split_markdown(text, "Model", count_tokens)
    packed = [c for c in chunks if "### Theme 0" in c.text]
    assert len(packed) == 1 and packed[0].section == "Model"
    assert all(f"- Outcome {i}" in packed[0].text for i in range(5))


def test_spans_index_into_the_original_text(count_tokens) -> None:
    for max_tokens in (48, 256):
        for chunk in split_markdown(DOC, "UK Public Value Framework", count_tokens, max_tokens=max_tokens):
            assert DOC[chunk.start : chunk.end] == chunk.text
    positions = [c.position for c in split_markdown(DOC, "UK Public Value Framework", count_tokens, max_tokens=72)]
    assert positions == list(range(len(positions)))


def test_title_is_prefixed_when_the_document_has_no_h1(count_tokens) -> None:
    chunks = split_markdown("## Part one\n\nSome text.\n\n## Part two\n\nMore.\n", "My Notes", count_tokens, 64)
    assert chunks[0].section == "My Notes"  # small enough to stay whole under the title
    assert "## Part one" in chunks[0].text


def test_long_lists_are_cut_between_items_and_fit_the_window(count_tokens) -> None:
    items = [
        f"- Question {i}: how does the public body plan to improve outcome number {i} for users?" for i in range(80)
    ]
    text = "# Long\n\n## Many questions\n\n" + "\n".join(items) + "\n"
    chunks = split_markdown(text, "Long", count_tokens, max_tokens=256)
    assert len(chunks) > 1
    rebuilt = [line for c in chunks for line in c.text.splitlines()]
    assert rebuilt == items  # every item whole, none lost, order kept
    for chunk in chunks:
        assert count_tokens(chunk.embed_text) + 2 <= 256


def test_a_huge_paragraph_is_split_to_fit(count_tokens) -> None:
    sentence = "Public value describes the value that an organization contributes to society. "
    text = "# Doc\n\n" + sentence * 60
    chunks = split_markdown(text, "Doc", count_tokens, max_tokens=128)
    assert len(chunks) > 2
    assert all(count_tokens(c.embed_text) + 2 <= 128 for c in chunks)


def test_headings_inside_code_fences_are_not_sections(count_tokens) -> None:
    text = "# Doc\n\n```\n# not a heading\n```\n\nAfter.\n"
    chunks = split_markdown(text, "Doc", count_tokens)
    assert {c.section for c in chunks} == {"Doc"}


def test_each_chunk_knows_its_sections_child_headings(count_tokens) -> None:
    chunks = {c.section: c for c in split_markdown(DOC, "UK Public Value Framework", count_tokens, max_tokens=72)}
    assert chunks["UK Public Value Framework"].children == ("Pillar two: managing inputs (9 questions)",)
    pillar = [c for c in chunks.values() if c.section.endswith("Cost shifting")][0]
    assert pillar.children == ()
    whole = split_markdown(DOC, "UK Public Value Framework", count_tokens)[0]
    assert whole.children == ("Pillar two: managing inputs (9 questions)",)


def test_a_heading_with_only_sub_headings_under_it_keeps_a_chunk_for_its_outline(count_tokens) -> None:
    body = "Long sentence about how the council plans its services and reports on them. " * 12
    text = f"# Handbook\n\n## 3. Services\n\n### 3.1. Waste\n\n{body}\n\n### 3.2. Parks\n\n{body}\n\n"
    text += f"## 4. Staff\n\n{body}\n"
    chunks = split_markdown(text, "Handbook", count_tokens, max_tokens=128)
    [services] = [c for c in chunks if c.section == SECTION_SEPARATOR.join(["Handbook", "3. Services"])]
    assert services.text == "## 3. Services" and services.children == ("3.1. Waste", "3.2. Parks")
    assert text[services.start : services.end] == services.text
    [top] = [c for c in chunks if c.section == "Handbook"]  # the title line carries the document's outline
    assert top.text == "# Handbook" and top.children == ("3. Services", "4. Staff")


def test_a_lead_in_stays_with_its_list_when_a_section_is_cut(count_tokens) -> None:
    lead = "Good governance also requires effective arrangements for:"
    items = "\n".join(f"- {letter}. Arrangement {letter} for the public body." for letter in "CDEFG")
    text = "# Doc\n\n" + "Governance comprises the arrangements put in place. " * 12 + f"\n\n{lead}\n\n{items}\n"
    chunks = split_markdown(text, "Doc", count_tokens, max_tokens=128)
    assert len(chunks) > 1
    [with_list] = [c for c in chunks if "- C." in c.text]
    assert lead in with_list.text and with_list.text.endswith("Arrangement G for the public body.")


def test_a_list_split_over_chunks_carries_its_span(count_tokens) -> None:
    items = "\n".join(f"- Question {i}: how does the public body improve outcome {i} for its users?" for i in range(30))
    text = f"# Doc\n\nIntro.\n\n## Questions\n\nAsk these questions:\n{items}\n\n## After\n\nShort text.\n"
    chunks = split_markdown(text, "Doc", count_tokens, max_tokens=128)
    spans = {c.list_span for c in chunks if c.list_span}
    lo = text.index("Ask these questions:")
    hi = text.index("users?", text.index("Question 29")) + len("users?")
    assert spans == {(lo, hi)}
    assert sum(1 for c in chunks if c.list_span) > 1
    assert all(c.list_span is None for c in chunks if "Short text." in c.text)


def test_corpus_chunks_fit_the_model_window(corpus_settings) -> None:
    from assistant.services import get_services

    embeddings = get_services(corpus_settings).embeddings
    got = get_services(corpus_settings).store.get(include=["documents", "metadatas"])
    assert len(got.ids) > 20
    for text, meta in zip(got.documents, got.metadatas, strict=True):
        assert embeddings.count_tokens(f"{meta['section']}\n\n{text}") + 2 <= embeddings.max_tokens
        assert meta["section"]
