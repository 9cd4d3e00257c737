"""Each loader on small files the tests generate: headings kept, bad files explained."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import ingest_paths
from ingest.loaders import LoadError, load_file


def make_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    pdf.output(str(path))
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        writer.append(PdfReader(path))
        writer.encrypt(password)
        with path.open("wb") as fh:
            writer.write(fh)
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Procurement Note"
    document.add_heading("Procurement Note", level=1)
    document.add_heading("Social value", level=2)
    document.add_paragraph("Suppliers commit to local apprenticeships.")
    document.add_paragraph("Report quarterly", style="List Bullet")
    document.save(str(path))
    return path


def test_pdf_text_is_read_without_made_up_page_sections(tmp_path: Path) -> None:
    doc = load_file(make_pdf(tmp_path / "report.pdf", ["Governance is about outcomes.", "Second page text."]))
    assert doc.text == "Governance is about outcomes.\n\nSecond page text.\n"
    assert doc.title == "report"  # no metadata title and no heading: the file name is the last resort


def test_docx_headings_and_lists(tmp_path: Path) -> None:
    doc = load_file(make_docx(tmp_path / "note.docx"))
    assert doc.title == "Procurement Note"
    assert "# Procurement Note" in doc.text and "## Social value" in doc.text
    assert "- Report quarterly" in doc.text


def test_html_keeps_headings_and_drops_scripts(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Council Page</title><script>alert('x')</script></head><body>"
        "<h1>Council Page</h1><h2>Outcomes</h2><p>We define outcomes.</p>"
        "<ul><li>Jobs</li><li>Skills</li></ul><img src=x onerror=alert(1)></body></html>",
        encoding="utf-8",
    )
    doc = load_file(path)
    assert doc.title == "Council Page"
    assert "## Outcomes" in doc.text and "- Jobs" in doc.text and "We define outcomes." in doc.text
    assert "alert" not in doc.text


def test_markdown_front_matter_sets_identity(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text("---\nid: My Doc\ntitle: A Title\nurl: https://example.org/a\n---\n# Heading\n\nBody.\n")
    doc = load_file(path)
    assert (doc.doc_id, doc.title, doc.source) == ("my-doc", "A Title", "https://example.org/a")
    assert doc.text.startswith("# Heading")


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(LoadError, match="unsupported file type"):
        load_file(path)


def test_every_format_ingests_and_is_searchable(settings, tmp_path: Path) -> None:
    from assistant.services import get_services

    make_pdf(tmp_path / "a.pdf", ["Pothole repairs are reported monthly to the cabinet."])
    make_docx(tmp_path / "b.docx")
    (tmp_path / "c.html").write_text("<h1>Libraries</h1><p>Library opening hours are reviewed yearly.</p>")
    (tmp_path / "d.txt").write_text("Allotment waiting lists are published online.")
    report = ingest_paths([tmp_path], settings)
    assert not report.failed and report.total("added") == 4
    hits = get_services(settings).store.vectorstore.similarity_search("when are library hours reviewed?", k=1)
    assert hits[0].metadata["doc_id"] == "c"
