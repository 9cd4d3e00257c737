"""Eval datasets: question cases and drafting cases, one JSON object per line, validated on load.

Gold evidence is stored as ``{"doc_id": ..., "contains": "a verbatim phrase"}`` rather than a chunk id,
because chunk ids change whenever the text or the chunking changes; a retrieved chunk counts as gold when
its document matches and its text (or heading path) contains the phrase. Key facts are a list of facts,
each a list of acceptable phrasings, matched case-insensitively after whitespace normalisation.

A question case::

    {"id": "fact-01", "kind": "fact", "question": "When was the Social Value Act introduced?",
     "gold": [{"doc_id": "social-value-act-and-model", "contains": "introduced in 2012"}],
     "key_facts": [["2012"]]}

Optional fields: ``history`` (Gradio messages, for follow-ups), ``expect`` (``answer`` / ``refuse`` /
``any``; by default ``refuse`` for out_of_scope and not_covered, ``any`` for injection and review, ``answer``
otherwise), ``forbidden`` (phrases that must not appear: an injection's payload), ``doc_ids`` (framework filter),
``min_coverage`` (this case's own key-fact bar) and ``notes``. A maintainer's own file in the same format
can be passed to ``pva eval --dataset``.

A set over documents a user uploads opens with a line naming them (see :class:`DocumentSpec`); its questions'
gold ``doc_id`` is the document's ``id``::

    {"documents": [{"id": "bzip2-manual", "path": "/usr/share/doc/bzip2/manual.pdf.gz", "package": "bzip2-doc"}]}
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DATASETS_DIR = Path(__file__).parent / "datasets"
QUESTIONS = DATASETS_DIR / "questions.jsonl"
DRAFTS = DATASETS_DIR / "drafts.jsonl"
DOCUMENTS = DATASETS_DIR / "documents.jsonl"

KINDS: tuple[str, ...] = (
    "fact",
    "list",
    "multi_part",
    "follow_up",
    "paraphrase",
    "colloquial",
    "out_of_scope",
    "injection",
    "review",
    "outline",
    "definition",
    "not_covered",
)
"""Question kinds; ``review`` marks draft cases made from thumbs-down feedback, to be triaged by a person.

``outline`` asks for a section's child headings, ``definition`` what a term or acronym means, ``not_covered``
a question near the documents' topics that they do not answer (a refusal is expected, as for out_of_scope).
"""
REFUSE_KINDS = ("out_of_scope", "not_covered")

Expect = Literal["answer", "refuse", "any"]


class Gold(BaseModel):
    """A piece of evidence that answers the question: a verbatim phrase of one document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    doc_id: str
    contains: str = Field(min_length=3)


class QuestionCase(BaseModel):
    """One question of the eval set and what a correct answer must (and must not) contain."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    kind: str
    question: str = Field(min_length=1)
    history: list[dict[str, Any]] = Field(default_factory=list)
    gold: list[Gold] = Field(default_factory=list)
    key_facts: list[list[str]] = Field(default_factory=list)
    expect: Expect | None = None
    forbidden: list[str] = Field(default_factory=list)
    doc_ids: list[str] | None = None
    min_coverage: float | None = Field(default=None, ge=0.0, le=1.0)
    notes: str = ""
    feedback: dict[str, Any] | None = None
    """For ``review`` cases made from app feedback: the rating, comment and the answer that was given."""

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
        return kind

    @field_validator("key_facts")
    @classmethod
    def _facts_have_alternatives(cls, facts: list[list[str]]) -> list[list[str]]:
        if any(not alternatives or not all(a.strip() for a in alternatives) for alternatives in facts):
            raise ValueError("every key fact needs at least one non-empty alternative")
        return facts

    @field_validator("history")
    @classmethod
    def _messages(cls, history: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for message in history:
            if message.get("role") not in ("user", "assistant") or not isinstance(message.get("content"), str):
                raise ValueError('history must be Gradio messages: [{"role": "user"|"assistant", "content": "..."}]')
        return history

    @model_validator(mode="after")
    def _default_expect(self) -> QuestionCase:
        if self.expect is None:
            defaults: dict[str, Expect] = {"injection": "any", "review": "any"}
            self.expect = "refuse" if self.kind in REFUSE_KINDS else defaults.get(self.kind, "answer")
        if self.kind == "follow_up" and not self.history:
            raise ValueError("a follow_up case needs a history")
        return self


class DraftCase(BaseModel):
    """One drafting case: the request as :class:`assistant.drafting.DraftRequest` takes it, plus expectations.

    ``request`` is passed through unchanged, so the dataset follows the drafting engine's own input format
    (the fields of ``examples/response.yaml``). ``outcomes`` lists the catalogue outcome ids the draft must
    give a section; ``flags`` the flag kinds it must raise (``no_commitment`` for an outcome without one);
    ``figures`` the numbers it may use beyond those in the request and its cited passages (anything else
    counts as an invented figure).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    kind: Literal["draft"] = "draft"
    request: dict[str, Any]
    outcomes: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    figures: list[str] = Field(default_factory=list)
    notes: str = ""


def _format_of(path: str) -> str:
    return Path(path.removesuffix(".gz")).suffix.lower()


class DocumentSpec(BaseModel):
    """A document a dataset's questions are about, uploaded before they run (see :mod:`evals.documents`).

    ``path`` is the file as a package installs it (a ``.gz`` is decompressed first; a relative path is taken
    from the dataset's folder), ``id`` the name it is uploaded under and so its document id, ``package`` the
    Debian package that ships it (named when the file is missing).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    path: str = Field(min_length=1)
    package: str | None = None
    notes: str = ""

    @property
    def suffix(self) -> str:
        """The format of the file, from its name without a ``.gz``: ``.pdf``, ``.txt``, ``.html``…"""
        return _format_of(self.path)

    @field_validator("path")
    @classmethod
    def _uploadable(cls, path: str) -> str:
        from ingest.uploads import ALLOWED_SUFFIXES  # deferred: importing ingest loads Chroma and the embedder

        if _format_of(path) not in ALLOWED_SUFFIXES:
            raise ValueError(f"{path}: uploads accept {', '.join(ALLOWED_SUFFIXES)} (a .gz of one of them is fine)")
        return path


class DatasetError(ValueError):
    """A dataset file is missing or malformed; the message names the file and line."""


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.exists():
        raise DatasetError(f"dataset not found: {path}")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise DatasetError(f"{path}:{number}: each line must be a JSON object")
        rows.append((number, row))
    return rows


def _check_ids(path: Path, ids: list[str]) -> None:
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        raise DatasetError(f"{path}: duplicate case ids {', '.join(duplicates)}")


def load_questions(path: Path | str = QUESTIONS) -> list[QuestionCase]:
    """The question cases of a JSONL file, validated; raises :class:`DatasetError` naming the bad line."""
    path = Path(path)
    cases = []
    for number, row in _read_jsonl(path):
        if row.get("kind") == "draft" or "request" in row or "documents" in row:
            continue  # a mixed file: drafting cases are loaded by load_drafts, documents by load_documents
        try:
            cases.append(QuestionCase.model_validate(row))
        except ValidationError as exc:
            raise DatasetError(f"{path}:{number}: {_first_error(exc)}") from exc
    _check_ids(path, [c.id for c in cases])
    return cases


def load_drafts(path: Path | str = DRAFTS) -> list[DraftCase]:
    """The drafting cases of a JSONL file (lines without a ``request`` are skipped), validated."""
    path = Path(path)
    cases = []
    for number, row in _read_jsonl(path):
        if row.get("kind", "draft") != "draft" or "request" not in row:
            continue
        try:
            cases.append(DraftCase.model_validate(row))
        except ValidationError as exc:
            raise DatasetError(f"{path}:{number}: {_first_error(exc)}") from exc
    _check_ids(path, [c.id for c in cases])
    return cases


def load_documents(path: Path | str) -> list[DocumentSpec]:
    """The documents a dataset file names on its ``{"documents": [...]}`` line(s); relative paths made absolute."""
    path = Path(path)
    specs: list[DocumentSpec] = []
    for number, row in _read_jsonl(path):
        if "documents" not in row:
            continue
        if not isinstance(row["documents"], list) or set(row) != {"documents"}:
            raise DatasetError(f'{path}:{number}: a documents line is {{"documents": [{{"id": ..., "path": ...}}]}}')
        for entry in row["documents"]:
            try:
                spec = DocumentSpec.model_validate(entry)
            except ValidationError as exc:
                raise DatasetError(f"{path}:{number}: documents: {_first_error(exc)}") from exc
            if not Path(spec.path).is_absolute():
                spec = spec.model_copy(update={"path": str((path.parent / spec.path).resolve())})
            specs.append(spec)
    _check_ids(path, [s.id for s in specs])
    return specs


def resolve_dataset(name: Path | str) -> Path:
    """A dataset path as given, or the bundled ``evals/datasets/<name>.jsonl`` for a bare name (``documents``)."""
    path = Path(name)
    bundled = DATASETS_DIR / f"{path.name}.jsonl"
    if not path.exists() and path.suffix == "" and len(path.parts) == 1 and bundled.exists():
        return bundled
    return path


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ())) or "case"
    return f"{where}: {error.get('msg', 'invalid')}"


def stratified_subset(cases: list[QuestionCase], limit: int | None) -> list[QuestionCase]:
    """At most ``limit`` cases, taken round-robin over kinds in file order, so a subset still covers every kind.

    Deterministic: the same file and limit always give the same cases, so a subset run compares cleanly with
    a baseline made from the same subset.
    """
    if limit is None or limit >= len(cases):
        return list(cases)
    by_kind: dict[str, list[QuestionCase]] = {}
    for case in cases:
        by_kind.setdefault(case.kind, []).append(case)
    chosen: set[str] = set()
    queues = [list(group) for group in by_kind.values()]
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.add(queue.pop(0).id)
    return [case for case in cases if case.id in chosen]
