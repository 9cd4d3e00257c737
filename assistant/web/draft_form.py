"""The Draft tab's logic: the form's choices and fields, form → draft request, the draft, its files and flags."""

from __future__ import annotations

import re
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.catalogue import load_catalogue
from assistant.config import Settings, get_settings
from assistant.web.errors import user_error_message

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

    from assistant.drafting import Draft

FORM_FIELDS = (
    "kind",
    "title",
    "buyer",
    "supplier",
    "description",
    "question",
    "themes",
    "outcomes",
    "evidence",
    "resources",
    "reporting",
    "word_limit",
    "tone",
)
"""The form's fields, in the order of the ``/draft`` endpoint's parameters (the commitment boxes follow)."""

EXAMPLE_REQUEST = Path(__file__).resolve().parents[2] / "examples" / "response.yaml"
"""The request the “Fill in the example” button fills the form from."""

DRAFT_MAX_AGE_S = 24 * 3600
"""Draft files are downloads, not records: they are deleted a day after they were made."""


# ----------------------------------------------------------------------------------------------- choices


def outcome_choices() -> list[tuple[str, str]]:
    """(label, outcome id) of every Social Value Model outcome, labelled with its theme."""
    return [(f"{o.name} ({t.name})", o.id) for t, o in load_catalogue().all_outcomes()]


def theme_choices() -> list[tuple[str, str]]:
    """(name, theme id) of every Social Value Model theme."""
    return [(t.name, t.id) for t in load_catalogue().themes]


def outcomes_for_themes(themes: Sequence[str] | None) -> list[tuple[str, str]]:
    """The outcome choices under the chosen themes (all of them when no theme is chosen)."""
    choices = outcome_choices()
    if not themes:
        return choices
    allowed = {o.id for t in load_catalogue().themes if t.id in themes for o in t.outcomes}
    return [c for c in choices if c[1] in allowed]


def filter_outcomes(
    themes: Sequence[str] | None, outcomes: Sequence[str] | None
) -> tuple[list[tuple[str, str]], list[str] | None]:
    """The outcome choices under the chosen themes, and the ticked outcomes still offered (``None`` when no theme
    is chosen: every outcome is offered and the ticks stay as they are)."""
    choices = outcomes_for_themes(themes)
    if not themes:
        return choices, None
    allowed = {outcome_id for _, outcome_id in choices}
    return choices, [o for o in outcomes or [] if o in allowed]


def commitment_boxes_shown(outcomes: Sequence[str] | None) -> list[bool]:
    """Whether each outcome's commitments box shows (in :func:`outcome_choices` order): only for ticked outcomes."""
    return [outcome_id in (outcomes or []) for _, outcome_id in outcome_choices()]


# ----------------------------------------------------------------------------------------------- fields


def commitment_field(outcome_id: str) -> str:
    """The field (and ``/draft`` parameter) holding an outcome's commitments: ``commitments_<id, _ for ->``."""
    return f"commitments_{outcome_id.replace('-', '_')}"


def field_names() -> list[str]:
    """Every field of the form, in order: :data:`FORM_FIELDS`, then one commitments box per outcome."""
    return [*FORM_FIELDS, *(commitment_field(outcome_id) for _, outcome_id in outcome_choices())]


def split_lines(text: str | None) -> list[str]:
    """Non-empty lines of a multi-line box, list markers removed ("- 6 apprenticeships" → "6 apprenticeships")."""
    from assistant.text import strip_list_marker  # deferred: loads LangChain (importing app stays cheap)

    return [line for line in (strip_list_marker(raw).strip() for raw in (text or "").splitlines()) if line]


def draft_form_to_request(
    *,
    kind: str,
    title: str,
    buyer: str,
    supplier: str,
    description: str,
    question: str,
    themes: Sequence[str] | None,
    outcomes: Sequence[str] | None,
    commitments: Mapping[str, str],
    evidence: str,
    resources: str,
    reporting: str,
    word_limit: Any,
    tone: str,
) -> dict[str, Any]:
    """The drafting form's fields as the mapping :func:`assistant.drafting.draft.parse_request` validates.

    Commitments typed for an outcome that is no longer ticked are ignored (the box is hidden then), so
    unticking an outcome never produces a confusing "commitments for an unchosen outcome" error.
    """
    chosen = [o for o in outcomes or [] if o]
    return {
        "kind": kind or "response",
        "title": title or "",
        "buyer": buyer or "",
        "supplier": supplier or None,
        "description": description or "",
        "question": question or None,
        "themes": [t for t in themes or [] if t],
        "outcomes": chosen,
        "commitments": {o: split_lines(commitments.get(o)) for o in chosen if split_lines(commitments.get(o))},
        "evidence": split_lines(evidence),
        "resources": split_lines(resources),
        "reporting": (reporting or "").strip() or None,
        "word_limit": int(word_limit) if isinstance(word_limit, float) and word_limit.is_integer() else word_limit,
        "tone": tone or "formal",
    }


def fields_to_request(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values by field name (as :func:`field_names` names them) → :func:`draft_form_to_request`."""
    commitments = {o: fields.get(commitment_field(o)) or "" for _, o in outcome_choices()}
    return draft_form_to_request(**{name: fields.get(name) for name in FORM_FIELDS}, commitments=commitments)


def example_fields(path: Path) -> dict[str, Any]:
    """The form filled in from an example request file, by field name (lists as one line per item)."""
    from assistant.drafting import load_request  # deferred: loads LangChain (importing app stays cheap)

    request = load_request(path)
    values: dict[str, Any] = {
        "kind": request.kind,
        "title": request.title,
        "buyer": request.buyer,
        "supplier": request.supplier or "",
        "description": request.description,
        "question": request.question or "",
        "themes": list(request.themes),
        "outcomes": list(request.outcomes),
        "evidence": "\n".join(request.evidence),
        "resources": "\n".join(request.resources),
        "reporting": request.reporting or "",
        "word_limit": request.word_limit,
        "tone": request.tone,
    }
    for _, outcome_id in outcome_choices():
        values[commitment_field(outcome_id)] = "\n".join(request.commitments.get(outcome_id, ()))
    return values


def example_form(path: Path = EXAMPLE_REQUEST) -> tuple[list[Any], list[tuple[str, bool]]]:
    """The example in the form: the values of :data:`FORM_FIELDS` in order, then (text, shown) of each outcome's
    commitments box, in :func:`outcome_choices` order."""
    values = example_fields(path)
    shown = commitment_boxes_shown(values["outcomes"])
    boxes = [values[commitment_field(outcome_id)] for _, outcome_id in outcome_choices()]
    return [values[name] for name in FORM_FIELDS], list(zip(boxes, shown, strict=True))


# ----------------------------------------------------------------------------------------------- the draft


@dataclass
class DraftView:
    """What the Draft tab shows: the draft, its word count against the limit, flags and the two files."""

    markdown: str
    word_count: str
    flags: str
    docx_path: str | None = None
    md_path: str | None = None
    ok: bool = True

    @property
    def files(self) -> list[str]:
        return [p for p in (self.docx_path, self.md_path) if p]


def word_count_line(draft: Draft) -> str:
    """“412 / 500 words ✓” or “620 / 500 words — 120 over the limit”."""
    if draft.over_limit:
        over = draft.word_count - draft.word_limit
        return f"⚠ **{draft.word_count} / {draft.word_limit} words** — {over} over the limit"
    return f"✓ **{draft.word_count} / {draft.word_limit} words**"


def render_flags(draft: Draft) -> str:
    """What a bid writer works through before submitting: the flags (or what was checked and found clean), then
    the checklist of each commitment."""
    from assistant.drafting.checklist import checked_line, notes  # deferred: loads LangChain (cheap app import)

    flags = notes(draft.flags)
    checked = checked_line(draft.checked)
    if not flags:
        lines = [f"✓ Nothing to fix in the wording. {checked}".strip()]
    else:
        lines = ["**Check before submitting:**", ""]
        for flag in flags:
            state = " — *removed from the draft*" if flag.removed else ""
            sentence = f" (in: “{flag.sentence}”)" if flag.sentence and flag.sentence != flag.text else ""
            kind = flag.kind.replace("_", " ")
            lines.append(f"- ⚠ **{kind}**: {flag.text} [{flag.where}]{state}{sentence}")
        lines += ["", f"*{checked}*"] if checked else []
    return "\n".join([*lines, *checklist_lines(draft)])


def checklist_lines(draft: Draft) -> list[str]:
    """Each commitment as a Markdown checklist: ☑ an element and what showed it, ☐ a missing one and what to add."""
    from assistant.drafting.checklist import box_line, check_lines  # deferred: loads LangChain (cheap app import)

    if not draft.checks:
        return []
    gaps = sum(len(check.missing) for check in draft.checks)
    summary = f"{gaps} thing{'s' if gaps != 1 else ''} to add" if gaps else "every element found"
    lines = ["", f"**Commitment checklist** ({summary}):"]
    for check in draft.checks:
        lines += ["", f"**{check.outcome} › {check.commitment}**", ""]
        lines += [f"- {box_line(found, text)}" for found, text in check_lines(check)]
    return lines


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "draft"


def prune_old_drafts(out_dir: Path, max_age_s: float = DRAFT_MAX_AGE_S) -> int:
    """Delete draft folders older than ``max_age_s`` under ``out_dir``; return how many were deleted."""
    if not out_dir.is_dir():
        return 0
    cutoff = time.time() - max_age_s
    removed = 0
    for folder in out_dir.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def run_draft(
    form: Mapping[str, Any],
    out_dir: Path,
    *,
    settings: Settings | None = None,
    backend: str | None = None,
    llm: BaseChatModel | None = None,
) -> DraftView:
    """Draft from the form, write the .docx and .md under ``out_dir/<random>/``, and return what to show.

    Form errors come back as a message in ``markdown`` with ``ok=False`` (never an exception).
    """
    from assistant.drafting import DraftError, draft, to_docx, to_markdown  # deferred: loads LangChain

    try:
        result = draft(form, settings=settings or get_settings(), backend=backend, llm=llm)
    except DraftError as exc:
        return DraftView(markdown=f"⚠ {exc}", word_count="", flags="", ok=False)
    except Exception as exc:
        return DraftView(markdown=user_error_message(exc), word_count="", flags="", ok=False)
    prune_old_drafts(Path(out_dir))
    folder = Path(out_dir) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    name = _slug(result.title)
    markdown = to_markdown(result)
    md_path = folder / f"{name}.md"
    md_path.write_text(markdown, encoding="utf-8")
    docx_path = to_docx(result, folder / f"{name}.docx")
    return DraftView(
        markdown=markdown,
        word_count=word_count_line(result),
        flags=render_flags(result),
        docx_path=str(docx_path),
        md_path=str(md_path),
    )
