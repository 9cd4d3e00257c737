"""Ingestion into a real Chroma on a temp dir with the real embedding model."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.services import get_services
from ingest import ingest_paths, list_documents, remove_document

POLICY = """---
id: travel-policy
title: Travel Policy
---
# Travel Policy

## Rail

Staff travel standard class by rail for journeys under three hours. Tickets are booked through the
corporate travel desk at least seven days ahead, and receipts are kept for audit by the finance team.

## Air

- Flights need director approval, recorded in the travel log with the business case for the journey.
- Economy class only.
- Carbon emissions of every flight are reported to the sustainability board each quarter.
"""


@pytest.fixture
def settings(settings):
    """Small chunks, so the short test documents split into one chunk per section."""
    return settings.model_copy(update={"chunk_tokens": 72})


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _chunks(settings) -> dict[str, dict]:
    got = get_services(settings).store.get(include=["documents", "metadatas"])
    return {i: {"text": d, **m} for i, d, m in zip(got.ids, got.documents, got.metadatas, strict=True)}


def test_corpus_ingest_stores_every_framework(corpus_settings) -> None:
    docs = {d.doc_id: d for d in list_documents(corpus_settings)}
    assert set(docs) == {
        "cipfa-ifac-good-governance",
        "lga-national-toms",
        "oecd-public-sector-skills",
        "social-value-act-and-model",
        "social-value-principles",
        "uk-public-value-framework",
    }
    metas = _chunks(corpus_settings).values()
    assert all({"doc_id", "title", "source", "section", "position", "start", "end", "hash"} <= set(m) for m in metas)
    sections = {m["section"] for m in metas}
    assert any(s.endswith("Pillar two: managing inputs (9 questions)") for s in sections)


def test_reingest_unchanged_writes_nothing(settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    _write(folder, "policy.md", POLICY)
    first = ingest_paths([folder], settings)
    assert first.total("added") == 3 and not first.failed  # two sections and the title's outline chunk
    before = _chunks(settings)
    second = ingest_paths([folder], settings)
    assert (second.total("added"), second.total("updated"), second.total("removed")) == (0, 0, 0)
    assert second.total("unchanged") == 3
    assert _chunks(settings) == before


def test_changed_file_replaces_exactly_its_old_chunks(settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    _write(folder, "policy.md", POLICY)
    _write(folder, "other.md", "# Other\n\nUnrelated text that stays.\n")
    ingest_paths([folder], settings)
    other_before = {k: v for k, v in _chunks(settings).items() if v["doc_id"] == "other"}
    _write(folder, "policy.md", POLICY.replace("Economy class only.", "Premium economy for long haul."))
    report = ingest_paths([folder], settings)
    assert (report.total("added"), report.total("removed")) == (1, 1)
    chunks = _chunks(settings)
    texts = [c["text"] for c in chunks.values() if c["doc_id"] == "travel-policy"]
    # The title line (its outline: Rail, Air), Rail and Air.
    assert len(texts) == 3 and any("Premium economy" in t for t in texts)
    assert not any("Economy class only" in t for t in texts)
    assert {k: v for k, v in chunks.items() if v["doc_id"] == "other"} == other_before


DUTIES = "The supplier must, in every year of the contract:"
ITEMS = [f"- Duty {i}: report outcome number {i} to the contract board with evidence." for i in range(12)]


def test_outline_metadata_gives_child_headings_and_whole_lists(settings, tmp_path: Path) -> None:
    from assistant.index.outline import child_headings, whole_list

    text = "# Contract\n\nIntro.\n\n## Duties\n\n" + DUTIES + "\n" + "\n".join(ITEMS) + "\n\n## Payment\n\nMonthly.\n"
    ingest_paths([_write(tmp_path, "contract.md", text)], settings)
    chunks = sorted(_chunks(settings).values(), key=lambda c: c["start"])
    assert child_headings(chunks[0]) == ["Duties", "Payment"]
    in_list = [c for c in chunks if "list_start" in c]
    assert len(in_list) > 1
    assert all(c["section"] == "Contract › Duties" and child_headings(c) == [] for c in in_list)
    assert whole_list(get_services(settings).store, in_list[-1]) == DUTIES + "\n" + "\n".join(ITEMS)
    assert all(whole_list(get_services(settings).store, c) is None for c in chunks if "list_start" not in c)


def test_outline_metadata_follows_a_changed_document(settings, tmp_path: Path) -> None:
    intro = "This contract sets out what the supplier delivers, how it is paid and how the council checks the work."
    text = f"# Contract\n\n{intro}\n\n## Duties\n\n{DUTIES}\n" + "\n".join(ITEMS) + "\n"
    path = _write(tmp_path, "contract.md", text)
    ingest_paths([path], settings)
    assert any("list_start" in c for c in _chunks(settings).values())
    shorter = f"# Contract\n\n{intro}\n\n## Duties\n\n{DUTIES}\n" + "\n".join(ITEMS[:2]) + "\n\n"
    _write(tmp_path, "contract.md", shorter + f"## Payment\n\nInvoices are paid monthly. {intro}\n")
    report = ingest_paths([path], settings)
    after = _chunks(settings).values()
    assert not any("list_start" in c for c in after)  # the shorter list fits in one chunk now
    [opening] = [c for c in after if c["text"] == intro]  # same text, same id: its metadata was updated
    assert report.total("updated") >= 1 and opening["children"] == '["Duties", "Payment"]'


def test_list_and_remove(settings, tmp_path: Path) -> None:
    ingest_paths([_write(tmp_path, "policy.md", POLICY)], settings)
    [doc] = list_documents(settings)
    assert (doc.doc_id, doc.title, doc.chunks) == ("travel-policy", "Travel Policy", 3)  # title line, Rail, Air
    assert doc.ingested_at
    assert remove_document("travel-policy", settings) == 3
    assert list_documents(settings) == []
    assert remove_document("travel-policy", settings) == 0


def test_bad_files_are_reported_and_the_rest_ingest(settings, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    _write(folder, "good.md", "# Good\n\nA readable governance note.\n")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "latin1.txt").write_bytes("Caf\xe9 governance".encode("latin-1"))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    report = ingest_paths([folder], settings)
    errors = {Path(f.path).name: f.error for f in report.failed}
    assert set(errors) == {"empty.txt", "binary.md", "latin1.txt", "broken.pdf", "broken.docx"}
    assert "empty" in errors["empty.txt"]
    assert "binary" in errors["binary.md"]
    assert "UTF-8" in errors["latin1.txt"]
    assert "PDF" in errors["broken.pdf"] and "corrupt" in errors["broken.pdf"]
    assert "corrupt" in errors["broken.docx"]
    assert [d.doc_id for d in list_documents(settings)] == ["good"]


def test_duplicate_doc_ids_in_one_run_are_refused(settings, tmp_path: Path) -> None:
    _write(tmp_path / "a", "notes.md", "# Notes A\n\nFirst.\n")
    _write(tmp_path / "b", "notes.md", "# Notes B\n\nSecond.\n")
    report = ingest_paths([tmp_path / "a", tmp_path / "b"], settings)
    assert len(report.failed) == 1 and "already used" in report.failed[0].error


@pytest.mark.parametrize("name", ["notes.markdown", "NOTES.MD"])
def test_suffixes_are_case_insensitive(settings, tmp_path: Path, name: str) -> None:
    report = ingest_paths([_write(tmp_path, name, "# N\n\nText.\n")], settings)
    assert not report.failed and report.total("added") == 1
