"""Exporting drafts: the .docx opens with python-docx with its headings, lists and references; .md likewise; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from assistant.cli import app
from assistant.drafting import Draft, draft, load_request, save, to_docx, to_markdown
from assistant.drafting.export import CHECKLIST

EXAMPLES = Path(__file__).parents[1] / "examples"
RESPONSE = EXAMPLES / "response.yaml"
STATEMENT = EXAMPLES / "statement.yaml"

runner = CliRunner()


@pytest.fixture(scope="module")
def response(corpus_settings) -> Draft:
    return draft(load_request(RESPONSE), corpus_settings)


@pytest.fixture(scope="module")
def flagged(corpus_settings) -> Draft:
    """A draft with a flag: an outcome chosen without a commitment."""
    request = load_request(RESPONSE).model_dump()
    request["outcomes"] = [*request["outcomes"], "community-cohesion"]
    request["themes"] = []
    return draft(request, corpus_settings)


@pytest.fixture
def cli_index(corpus_settings, monkeypatch):
    """Point the CLI's settings at the bundled-corpus index."""
    from assistant.config import get_settings

    monkeypatch.setenv("PVA_DATA_DIR", str(corpus_settings.data_dir))
    get_settings.cache_clear()
    yield corpus_settings
    get_settings.cache_clear()


def _paragraphs(path: Path) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in Document(str(path)).paragraphs]


def test_docx_opens_with_title_headings_lists_and_references(response: Draft, tmp_path: Path) -> None:
    path = to_docx(response, tmp_path / "out" / "response.docx")
    paragraphs = _paragraphs(path)
    styles = {style for style, _ in paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "List Bullet"} <= styles
    assert ("Title", response.title) in paragraphs
    heading1 = [text for style, text in paragraphs if style == "Heading 1"]
    assert heading1[0] == "Summary" and heading1[-2:] == ["References", CHECKLIST]
    for section in response.sections:
        assert section.heading in heading1
    heading2 = {text for style, text in paragraphs if style == "Heading 2"}
    assert {"Our commitment", "Timeline", "Measures and reporting", "How this reflects the guidance"} <= heading2
    bullets = [text for style, text in paragraphs if style == "List Bullet"]
    for lines in load_request(RESPONSE).commitments.values():
        for line in lines:
            assert line in bullets
    texts = [text for _, text in paragraphs]
    assert f"Word count: {response.word_count} of {response.word_limit}" in texts
    references = texts[texts.index("References") + 1 : texts.index(CHECKLIST)]
    references = [line for line in references if line]  # the checklist starts on a new page
    assert len(references) == len(response.citations)
    for citation, line in zip(response.citations, references, strict=True):
        assert line.startswith(f"[{citation.n}] {citation.title} — {citation.section} — “")
        assert citation.quote[:40] in line


def test_docx_core_properties_name_the_draft_and_the_supplier(response: Draft, tmp_path: Path) -> None:
    properties = Document(str(to_docx(response, tmp_path / "r.docx"))).core_properties
    assert properties.title == "Grounds Maintenance Services 2025-2028"
    assert properties.author == "Greenway Grounds Ltd"
    assert properties.subject == "Social value response to Exampleshire County Council from Greenway Grounds Ltd"
    assert "python-docx" not in f"{properties.author} {properties.comments} {properties.last_modified_by}"


def test_the_checklist_ticks_what_was_found_and_opens_a_box_for_what_is_missing(
    response: Draft, tmp_path: Path
) -> None:
    texts = [text for _, text in _paragraphs(to_docx(response, tmp_path / "c.docx"))]
    checklist = texts[texts.index(CHECKLIST) :]
    assert checklist[1].startswith("Checked: every figure, date and name")
    assert (
        "Create new businesses, new jobs and new skills › 6 apprenticeships for local residents over 3 years"
        in checklist
    )
    assert "☑ quantity: 6" in checklist and "☑ time frame: over 3 years" in checklist
    assert sum(line.startswith("☐ no evidence given") for line in checklist) == 3
    md = to_markdown(response).splitlines()
    assert f"## {CHECKLIST}" in md
    assert "- [x] time frame: by 2027" in md
    assert sum(line.startswith("- [ ] no evidence given") for line in md) == 3
    assert not any("commitment gap" in line for line in md)  # the checklist, not the notes, lists the gaps


def test_markdown_has_the_same_structure(response: Draft) -> None:
    md = to_markdown(response)
    lines = md.splitlines()
    assert lines[0] == f"# {response.title}"
    assert "## Summary" in lines and "## References" in lines
    for section in response.sections:
        assert f"## {section.heading}" in lines
    assert "### Timeline" in lines
    assert f"*Word count: {response.word_count} of {response.word_limit}*" in lines
    assert "- 6 apprenticeships for local residents over 3 years" in lines
    for citation in response.citations:
        assert any(line.startswith(f"{citation.n}. [{citation.n}] {citation.title} — ") for line in lines)
    assert "Drafting notes" not in md  # nothing flagged


def test_flags_are_listed_as_drafting_notes_outside_the_body(flagged: Draft, tmp_path: Path) -> None:
    md = to_markdown(flagged)
    assert "## Drafting notes (not part of the response)" in md
    assert "no commitment: no commitment is given for “Improve community cohesion”" in md
    texts = [text for _, text in _paragraphs(to_docx(flagged, tmp_path / "flagged.docx"))]
    assert "Drafting notes (not part of the response)" in texts


def test_save_picks_the_format_by_suffix(response: Draft, tmp_path: Path) -> None:
    assert save(response, tmp_path / "a.md").read_text(encoding="utf-8") == to_markdown(response)
    assert Document(str(save(response, tmp_path / "a.DOCX"))).paragraphs
    with pytest.raises(ValueError, match=r"use a \.docx \(Word\) or \.md \(Markdown\) file name"):
        save(response, tmp_path / "a.pdf")


# ------------------------------------------------------------------------------------------------ the CLI


@pytest.mark.parametrize(
    ("example", "out", "heading"),
    [(RESPONSE, "response.docx", "Create new businesses, new jobs and new skills"), (STATEMENT, "s.md", "Successes")],
)
def test_cli_drafts_the_examples_to_a_file(cli_index, tmp_path: Path, example, out, heading) -> None:
    target = tmp_path / out
    result = runner.invoke(app, ["draft", "--input", str(example), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and f"Wrote {target}" in result.output.replace("\n", "")
    if target.suffix == ".docx":
        headings = [text for style, text in _paragraphs(target) if style.startswith("Heading")]
    else:
        headings = [
            line.lstrip("# ") for line in target.read_text(encoding="utf-8").splitlines() if line.startswith("#")
        ]
    assert heading in headings and "References" in headings


def test_cli_json_prints_sections_citations_flags_and_word_count(cli_index) -> None:
    result = runner.invoke(app, ["draft", "--input", str(RESPONSE), "--json", "--backend", "extractive"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"sections", "citations", "flags", "word_count", "word_limit"} <= set(data)
    assert [s["outcome_id"] for s in data["sections"][:2]] == [
        "new-businesses-jobs-skills",
        "environmental-stewardship",
    ]
    assert data["citations"] and data["word_count"] <= data["word_limit"] and data["backend"] == "extractive"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "nowhere.yaml"], "input file not found"),
        (["--input", str(RESPONSE), "--out", "draft.pdf"], "use a .docx (Word) or .md (Markdown)"),
        (["--input", str(RESPONSE), "--backend", "nonsense"], "Unknown chat backend"),
    ],
)
def test_cli_reports_bad_input_with_exit_status_2(cli_index, args, message) -> None:
    result = runner.invoke(app, ["draft", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_cli_reports_an_invalid_request(cli_index, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(RESPONSE.read_text(encoding="utf-8").replace("word_limit: 750", "word_limit: 7"), encoding="utf-8")
    result = runner.invoke(app, ["draft", "--input", str(bad)])
    assert result.exit_code == 2
    assert "word_limit 7 is outside 50..5000" in " ".join(result.output.split())
