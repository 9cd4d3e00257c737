"""A draft as Word (.docx, through python-docx) and Markdown: the body the word count counts, then the references and
drafting notes a bid writer resolves before submission."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.shared import Pt

from assistant.drafting.checklist import ELEMENTS, advice
from assistant.drafting.types import CommitmentCheck, Draft, DraftFlag
from assistant.types import Citation

__all__ = ["EXPORT_SUFFIXES", "save", "to_docx", "to_markdown"]

EXPORT_SUFFIXES = (".docx", ".md")
REFERENCES = "References"
NOTES = "Drafting notes (not part of the response)"
CHECKLIST = "Commitment checklist (not part of the response)"
_IN_CHECKLIST = "commitment_gap"
"""The flag kind the checklist shows, so the notes do not repeat it."""


def _subtitle(draft: Draft) -> str:
    if draft.kind == "statement":
        who = f" of {draft.supplier}" if draft.supplier else ""
        return f"Social value statement{who}"
    who = f" from {draft.supplier}" if draft.supplier else ""
    return f"Social value response to {draft.buyer}{who}".strip()


def _word_line(draft: Draft) -> str:
    line = f"Word count: {draft.word_count} of {draft.word_limit}"
    if draft.over_limit:
        line += f" ({draft.word_count - draft.word_limit} over the limit)"
    return line


def _reference(citation: Citation) -> str:
    return f"{citation.title} — {citation.section} — “{citation.quote}”"


def _note(flag: DraftFlag) -> str:
    state = " (removed)" if flag.removed else ""
    sentence = f" — in: “{flag.sentence}”" if flag.sentence and flag.sentence != flag.text else ""
    return f"{flag.kind.replace('_', ' ')}: {flag.text}{state} [{flag.where}]{sentence}"


def _notes(draft: Draft) -> list[DraftFlag]:
    return [flag for flag in draft.flags if flag.kind != _IN_CHECKLIST]


def _checked_line(draft: Draft) -> str:
    return "Checked: " + "; ".join(draft.checked) + "." if draft.checked else ""


def _check_lines(check: CommitmentCheck) -> list[tuple[bool, str]]:
    """One (ticked, text) line per element: what showed it, or what to add."""
    return [
        (True, f"{element}: {check.found[element]}") if element in check.found else (False, advice(element))
        for element in ELEMENTS
    ]


def _md_escape_start(text: str) -> str:
    """Keep a line that starts like Markdown syntax (``#``, ``1.``) from being read as a heading or list."""
    if text[:1] in "#>" or (text.split(".")[0].isdigit() and "." in text[:4]):
        return "\\" + text
    return text


def to_markdown(draft: Draft) -> str:
    """The draft as Markdown: ``#`` title, ``##`` sections, ``###`` parts, lists, references, notes."""
    lines = [f"# {draft.title}", "", f"*{_subtitle(draft)}*", ""]
    if draft.question:
        lines += [f"> **Question:** {' '.join(draft.question.split())}", ""]
    lines += [f"*{_word_line(draft)}*", ""]
    previous = ""
    for block in draft.blocks():
        if block.kind == "li":
            if previous != "li" and lines and lines[-1] != "":
                lines.append("")
            lines.append(f"- {block.text}")
        else:
            if lines and lines[-1] != "":
                lines.append("")
            if block.kind == "h1":
                lines.append(f"## {block.text}")
            elif block.kind == "h2":
                lines.append(f"### {block.text}")
            elif block.kind == "theme":
                lines.append(f"*{block.text}*")
            else:
                lines.append(_md_escape_start(block.text))
            lines.append("")
        previous = block.kind
    if lines[-1] != "":
        lines.append("")
    if draft.citations:
        lines += [f"## {REFERENCES}", ""]
        for citation in draft.citations:
            source = f" <{citation.source}>" if citation.source.startswith(("http://", "https://")) else ""
            lines.append(f"{citation.n}. [{citation.n}] {_reference(citation)}{source}")
        lines.append("")
    notes = _notes(draft)
    if notes:
        lines += [f"## {NOTES}", ""]
        lines += [f"- {_note(flag)}" for flag in notes]
        lines.append("")
    if draft.checks:
        lines += [f"## {CHECKLIST}", ""]
        if draft.checked:
            lines += [f"*{_checked_line(draft)}*", ""]
        for check in draft.checks:
            lines += [f"**{check.outcome} › {check.commitment}**", ""]
            lines += [f"- [{'x' if ok else ' '}] {text}" for ok, text in _check_lines(check)]
            lines.append("")
    return "\n".join(lines)


def to_docx(draft: Draft, path: str | Path) -> Path:
    """Write the draft as a Word document at ``path`` (parent folders are created); returns the path.

    Only built-in styles are used (``Title``, ``Heading 1/2``, ``List Bullet``, ``Intense Quote``), so the text takes
    on the organisation's own styles when pasted into their bid template.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = Document()
    properties = document.core_properties
    properties.title = draft.title
    properties.subject = _subtitle(draft)
    properties.author = properties.last_modified_by = draft.supplier or ""
    properties.comments = ""  # the template says "generated by python-docx"
    document.add_heading(draft.title, level=0)
    subtitle = document.add_paragraph()
    subtitle.add_run(_subtitle(draft)).italic = True
    if draft.question:
        quote = document.add_paragraph(style="Intense Quote")
        quote.add_run("Question: ").bold = True
        quote.add_run(" ".join(draft.question.split()))
    count = document.add_paragraph()
    run = count.add_run(_word_line(draft))
    run.italic = True
    run.font.size = Pt(9)
    for block in draft.blocks():
        if block.kind == "h1":
            document.add_heading(block.text, level=1)
        elif block.kind == "h2":
            document.add_heading(block.text, level=2)
        elif block.kind == "theme":
            document.add_paragraph().add_run(block.text).italic = True
        elif block.kind == "li":
            document.add_paragraph(block.text, style="List Bullet")
        else:
            document.add_paragraph(block.text)
    if draft.citations:
        document.add_heading(REFERENCES, level=1)
        for citation in draft.citations:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"[{citation.n}] ").bold = True
            paragraph.add_run(_reference(citation))
            if citation.source.startswith(("http://", "https://")):
                paragraph.add_run(f" ({citation.source})").font.size = Pt(8)
    notes = _notes(draft)
    if notes:
        document.add_heading(NOTES, level=1)
        for flag in notes:
            document.add_paragraph(_note(flag), style="List Bullet")
    if draft.checks:
        _docx_checklist(document, draft)
    document.save(str(path))
    return path


def _docx_checklist(document: DocumentObject, draft: Draft) -> None:
    """The checklist on a page of its own: each commitment with a ticked or open box per element."""
    document.add_page_break()
    document.add_heading(CHECKLIST, level=1)
    if draft.checked:
        document.add_paragraph().add_run(_checked_line(draft)).italic = True
    for check in draft.checks:
        document.add_paragraph().add_run(f"{check.outcome} › {check.commitment}").bold = True
        for ok, text in _check_lines(check):
            document.add_paragraph(f"{'☑' if ok else '☐'} {text}", style="List Bullet")


def save(draft: Draft, path: str | Path) -> Path:
    """Write the draft as ``.docx`` or ``.md``, chosen by the suffix of ``path``.

    Raises:
        ValueError: any other suffix (the message names the two that work).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return to_docx(draft, path)
    if suffix == ".md":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_markdown(draft), encoding="utf-8")
        return path
    raise ValueError(f"cannot export to {path.name!r}: use a .docx (Word) or .md (Markdown) file name")
