"""Turn a file of any supported format into Markdown-shaped text that keeps its headings.

Every loader returns a :class:`LoadedDocument` whose ``text`` uses ``#`` headings and ``- `` list items, so
one heading-aware splitter serves all formats. Each format is read by its own well-kept library: PyYAML
for Markdown front matter, pypdf, python-docx and BeautifulSoup. A file that cannot be read raises
:class:`LoadError` whose message says what is wrong and what to do next; the ingest reports it and goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

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
    match = re.search(r"^#\s+(.+?)\s*$", text, flags=re.MULTILINE)
    return match.group(1) if match else None


def _document(path: Path, text: str, meta: dict[str, str], title: str | None = None) -> LoadedDocument:
    doc_id = slugify(meta.get("id") or path.stem)
    title = meta.get("title") or title or _first_heading(text) or path.stem.replace("_", " ").replace("-", " ")
    return LoadedDocument(doc_id=doc_id, title=title, source=meta.get("url") or str(path), text=text, meta=meta)


def _read_markdown(path: Path, data: bytes) -> LoadedDocument:
    meta, body = _split_front_matter(_decode_text(data))
    return _document(path, body, meta)


def _read_text(path: Path, data: bytes) -> LoadedDocument:
    return _document(path, _decode_text(data), {})


def _read_pdf(path: Path, data: bytes) -> LoadedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(_ENCRYPTED_PDF)
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(
            f"the PDF is corrupt or unreadable ({exc.__class__.__name__}): re-export it and try again"
        ) from exc
    except Exception as exc:  # pypdf raises many internal errors on damaged files
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
    parts = [f"## Page {n}\n\n{text.strip()}\n" for n, text in enumerate(pages, start=1) if text.strip()]
    return _document(path, "\n".join(parts), {}, title=str(info_title) if info_title else None)


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
    lines: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        level = _docx_heading_level(style)
        if level:
            lines.append(f"\n{'#' * level} {text}\n")
        elif "List" in style:
            lines.append(f"- {text}")
        else:
            lines.append(f"\n{text}\n")
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells if cell.text.strip()]
            if cells:
                lines.append(f"- {' | '.join(cells)}")
    title = document.core_properties.title or None
    return _document(path, "\n".join(lines).strip() + "\n", {}, title=title)


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return min(int(match.group(1)), 6) if match else 0


_HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "th", "dt", "dd")


def _read_html(path: Path, data: bytes) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "svg"]):
        tag.decompose()
    lines: list[str] = []
    for element in soup.find_all(_HTML_BLOCKS):
        if element.find_parent(_HTML_BLOCKS):
            continue
        text = " ".join(element.get_text(" ", strip=True).split())
        if not text:
            continue
        if element.name[0] == "h" and element.name[1:].isdigit():
            lines.append(f"\n{'#' * int(element.name[1:])} {text}\n")
        elif element.name in ("li", "td", "th", "dt", "dd"):
            lines.append(f"- {text}")
        else:
            lines.append(f"\n{text}\n")
    title = soup.title.get_text(strip=True) if soup.title else None
    return _document(path, "\n".join(lines).strip() + "\n", {}, title=title or None)


_READERS = {
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
    ".html": _read_html,
    ".htm": _read_html,
}
