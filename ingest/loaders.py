"""Turn a file of any supported format into Markdown-shaped text that keeps its structure.

Every loader returns a :class:`LoadedDocument` whose ``text`` uses ``#`` headings and ``-``/``1.`` list items
(nested by four spaces, each list directly under its lead-in), so one heading-aware splitter serves all
formats. Markdown is kept as written. Plain text and PDF are laid-out pages: :mod:`ingest.layout` drops their
page furniture and reflows their paragraphs, :mod:`ingest.structure` finds headings and lists (a PDF's from its
outline or fonts, :mod:`ingest.pdf`); Word and HTML mark their own (:mod:`ingest.markup`). The title comes from
front matter or the document's metadata (PDF /Title, Word core properties, HTML ``<title>``), else its first
heading; the file name is the last resort. A file that cannot be read raises :class:`LoadError` whose message
says what is wrong and what to do next; the ingest reports it and goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ingest.layout import drop_furniture, lines_from_text, mend_page_breaks, wrap_width
from ingest.markup import docx_blocks, html_blocks
from ingest.structure import blocks_from_lines, to_markdown

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".pdf", ".docx", ".html", ".htm")


class LoadError(Exception):
    """A file that cannot be ingested; ``str(err)`` is the reason with the next step."""


@dataclass(frozen=True)
class LoadedDocument:
    """A file's text as Markdown, with the document's identity."""

    doc_id: str
    title: str
    source: str
    text: str
    meta: dict[str, str] = field(default_factory=dict)


_ENCRYPTED_PDF = "the PDF is encrypted: save an unprotected copy (or decrypt it) and try again with that"


def slugify(name: str) -> str:
    """A stable document id from a file name: lower case, ASCII letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "document"


def load_file(path: Path) -> LoadedDocument:
    """Load one file; raise :class:`LoadError` with a readable reason when it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(
            f"unsupported file type '{suffix or '(none)'}': convert it to one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read the file ({exc.strerror}): check it exists and is readable") from exc
    if not data.strip():
        raise LoadError("the file is empty: add text to it, or remove it from the folder")
    reader = _READERS[suffix]
    doc = reader(path, data)
    if not doc.text.strip():
        raise LoadError("no text could be extracted: if it is a scanned document, run OCR on it first")
    return doc


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise LoadError("this looks like a binary file, not text: ingest the original document instead")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"the file is not UTF-8 text (bad byte at position {exc.start}): save it as UTF-8 and try again"
        ) from exc


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, flags=re.DOTALL)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"the YAML front matter is not valid ({exc.__class__.__name__}): fix or remove it") from exc
    if not isinstance(meta, dict):
        raise LoadError("the YAML front matter is not a mapping of keys to values: fix or remove it")
    return {str(k): str(v) for k, v in meta.items()}, text[match.end() :]


def _first_heading(text: str) -> str | None:
    """The first top-level heading, else the first heading of any level (outside code fences)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    for pattern in (r"^#\s+(.+?)\s*$", r"^#{1,6}\s+(.+?)\s*$"):
        if match := re.search(pattern, text, flags=re.MULTILINE):
            return match.group(1)
    return None


def _usable_title(title: object) -> str | None:
    """A metadata title worth showing: not empty, not a placeholder, not a file name left by the authoring tool."""
    text = " ".join(str(title or "").split())
    if not text or re.fullmatch(r"(?i)untitled|document\d*|title|none|null|slide \d+", text):
        return None
    if re.search(r"(?i)\.(docx?|pdf|odt|rtf|txt|pptx?|xlsx?|md|html?)$|^microsoft \w+ - ", text):
        return None
    return text


def _document(path: Path, text: str, meta: dict[str, str], title: str | None = None) -> LoadedDocument:
    doc_id = slugify(meta.get("id") or path.stem)
    title = (
        meta.get("title")
        or _usable_title(title)
        or _first_heading(text)
        or path.stem.replace("_", " ").replace("-", " ")
    )
    return LoadedDocument(doc_id=doc_id, title=title, source=meta.get("url") or str(path), text=text, meta=meta)


def _read_markdown(path: Path, data: bytes) -> LoadedDocument:
    meta, body = _split_front_matter(_decode_text(data))
    return _document(path, body, meta)


def _read_text(path: Path, data: bytes) -> LoadedDocument:
    meta, body = _split_front_matter(_decode_text(data))
    lines = drop_furniture(lines_from_text(body))
    mend_page_breaks(lines, wrap_width(lines))
    return _document(path, to_markdown(blocks_from_lines(lines, hyphenate=False)), meta)


def _read_pdf(path: Path, data: bytes) -> LoadedDocument:
    from pypdf import PdfReader  # deferred with pdfplumber: start-up need not pay for the PDF stack
    from pypdf.errors import PdfReadError

    from ingest.pdf import pdf_blocks

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(_ENCRYPTED_PDF)
        blocks = pdf_blocks(path, reader)
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(
            f"the PDF is corrupt or unreadable ({exc.__class__.__name__}): re-export it and try again"
        ) from exc
    except Exception as exc:  # pypdf and pdfminer raise many internal errors on damaged files
        if "crypt" in str(exc).lower() or "password" in str(exc).lower():
            raise LoadError(_ENCRYPTED_PDF) from exc
        raise LoadError(
            f"the PDF is corrupt or unreadable ({exc.__class__.__name__}): re-export it and try again"
        ) from exc
    info_title = None
    try:
        info_title = (reader.metadata or {}).get("/Title")
    except Exception:  # noqa: BLE001 - a broken info dictionary only loses the title
        info_title = None
    return _document(path, to_markdown(blocks) if blocks else "", {}, title=info_title)


def _read_docx(path: Path, data: bytes) -> LoadedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise LoadError(
            "the Word file is corrupt or not a .docx: open and re-save it as .docx, then try again"
        ) from exc
    except Exception as exc:  # zipfile.BadZipFile and lxml errors on damaged files
        raise LoadError(
            f"the Word file is corrupt ({exc.__class__.__name__}): re-save it as .docx and try again"
        ) from exc
    blocks = docx_blocks(document)
    return _document(path, to_markdown(blocks) if blocks else "", {}, title=document.core_properties.title)


def _read_html(path: Path, data: bytes) -> LoadedDocument:
    blocks, title = html_blocks(_decode_text(data))
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    return _document(path, to_markdown(blocks) if blocks else "", {}, title=title)


_READERS = {
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
    ".html": _read_html,
    ".htm": _read_html,
}
