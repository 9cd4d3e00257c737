"""What a draft is built from: the bidder's request, read from YAML/JSON or the app's form and validated."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.catalogue import Outcome, Theme, load_catalogue
from assistant.drafting.types import Kind, Tone

__all__ = [
    "DEFAULT_WORD_LIMIT",
    "MAX_WORD_LIMIT",
    "MIN_WORD_LIMIT",
    "DraftError",
    "DraftInputError",
    "DraftRequest",
    "load_request",
    "parse_request",
]

MIN_WORD_LIMIT = 50
MAX_WORD_LIMIT = 5000
DEFAULT_WORD_LIMIT = 500


class DraftError(ValueError):
    """A draft cannot be made as asked; the message says why and what to do."""


class DraftInputError(DraftError):
    """The draft input is invalid: a missing file, bad YAML, an unknown outcome, no commitments, a bad limit."""


def _valid_outcomes() -> str:
    return "; ".join(f"{o.id} ({o.name!r})" for _, o in load_catalogue().all_outcomes())


def _outcome_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"an outcome must be a Social Value Model outcome id or name, got {value!r}")
    try:
        return load_catalogue().outcome(value)[1].id
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None


def _texts(value: Any, what: str) -> list[str]:
    """A list of non-empty strings from a string, a number or a list of them (YAML reads ``- 6`` as a number)."""
    if value is None:
        return []
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError(f"{what} must be a list of text lines, got {type(value).__name__}")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ValueError(f"{what} must be text lines, got {item!r}")
        text = " ".join(str(item).split())
        if text:
            out.append(text)
    return out


class DraftRequest(BaseModel):
    """What a draft is built from: the bidder's own words. The app's form builds the same model.

    ``commitments`` maps an outcome (id or name) to the commitment lines behind it, e.g.
    ``{"new-businesses-jobs-skills": ["6 apprenticeships for local residents over 3 years"]}``. With a single
    outcome a plain list is accepted too, and so is a list of ``{outcome, text}`` entries.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    kind: Kind = "response"
    """``response`` (an answer to a tender question) or ``statement`` (an organisation's social value statement)."""
    title: str
    """The tender or contract title (or the statement's title)."""
    buyer: str = ""
    """The public body running the tender; required for a response."""
    supplier: str | None = None
    """The organisation writing (the bidder, or the council for a statement); optional."""
    description: str = ""
    """A short description of the contract."""
    question: str | None = None
    """The evaluation question text, when there is one."""
    themes: tuple[str, ...] = ()
    """Optional Social Value Model themes (ids or names), checked against the outcomes' themes."""
    outcomes: tuple[str, ...] = ()
    """The chosen Social Value Model policy outcomes (ids or names; stored as ids)."""
    commitments: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Outcome id → the organisation's concrete commitments for it."""
    evidence: tuple[str, ...] = ()
    """Evidence or case studies (a statement's successes)."""
    resources: tuple[str, ...] = ()
    """Resources available (used by statements)."""
    reporting: str | None = None
    """How progress is reported, in the bidder's words (e.g. "quarterly to the contract manager")."""
    word_limit: int = DEFAULT_WORD_LIMIT
    tone: Tone = "formal"

    @model_validator(mode="before")
    @classmethod
    def _plain_commitments(cls, data: Any) -> Any:
        """A plain list of commitment lines belongs to the only outcome, when there is only one."""
        if isinstance(data, Mapping):
            commitments, outcomes = data.get("commitments"), data.get("outcomes")
            if isinstance(outcomes, str):
                outcomes = [outcomes]
            if (
                isinstance(commitments, list | tuple)
                and commitments
                and all(isinstance(c, str | int | float) for c in commitments)
                and isinstance(outcomes, list | tuple)
                and len(outcomes) == 1
            ):
                return {**data, "commitments": {outcomes[0]: list(commitments)}}
        return data

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value:
            raise ValueError("give the tender or contract title (or the statement's title)")
        return value

    @field_validator("outcomes", mode="before")
    @classmethod
    def _outcomes(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise ValueError("outcomes must be a list of Social Value Model outcome ids or names")
        return tuple(dict.fromkeys(_outcome_id(v) for v in value))

    @field_validator("themes", mode="before")
    @classmethod
    def _themes(cls, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        ids = []
        for item in value or ():
            try:
                ids.append(load_catalogue().theme(str(item)).id)
            except KeyError as exc:
                raise ValueError(str(exc.args[0])) from None
        return tuple(dict.fromkeys(ids))

    @field_validator("commitments", mode="before")
    @classmethod
    def _commitments(cls, value: Any) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        if value is None:
            return {}
        if isinstance(value, Mapping):
            for key, lines in value.items():
                out.setdefault(_outcome_id(str(key)), []).extend(_texts(lines, f"commitments for {key!r}"))
        elif isinstance(value, list | tuple):
            for entry in value:
                if not isinstance(entry, Mapping):
                    raise ValueError(
                        "with more than one outcome, give commitments by outcome, e.g. "
                        '`commitments: {new-businesses-jobs-skills: ["6 apprenticeships for local residents"]}`, '
                        "or as a list of {outcome: ..., text: ...} entries"
                    )
                if "outcome" not in entry or not ({"text", "commitment"} & set(entry)):
                    raise ValueError(f"a commitment entry needs `outcome` and `text`, got {dict(entry)!r}")
                key = _outcome_id(entry["outcome"])
                out.setdefault(key, []).extend(_texts(entry.get("text", entry.get("commitment")), "commitment text"))
        else:
            raise ValueError("commitments must map each outcome to a list of commitment lines")
        return {key: tuple(dict.fromkeys(lines)) for key, lines in out.items()}

    @field_validator("evidence", "resources", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> tuple[str, ...]:
        return tuple(_texts(value, "this field"))

    @field_validator("word_limit", mode="before")
    @classmethod
    def _word_limit(cls, value: Any) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().replace(",", "").isdigit():
            number = int(value.strip().replace(",", ""))
        if number is None:
            raise ValueError(
                f"word_limit must be a whole number of words from {MIN_WORD_LIMIT} to {MAX_WORD_LIMIT}, got {value!r}"
            )
        if not MIN_WORD_LIMIT <= number <= MAX_WORD_LIMIT:
            raise ValueError(
                f"word_limit {number} is outside {MIN_WORD_LIMIT}..{MAX_WORD_LIMIT} words: fewer than "
                f"{MIN_WORD_LIMIT} cannot hold a commitment with its measures, and tender questions do not ask "
                f"for more than {MAX_WORD_LIMIT} (check for a typo, e.g. a character limit given as words)"
            )
        return number

    @model_validator(mode="after")
    def _consistent(self) -> DraftRequest:
        catalogue = load_catalogue()
        if not self.outcomes:
            raise ValueError(
                f"choose at least one Social Value Model outcome under `outcomes`; valid choices: {_valid_outcomes()}"
            )
        stray = [key for key in self.commitments if key not in self.outcomes]
        if stray:
            raise ValueError(
                f"commitments are given for {', '.join(stray)}, which is not among the chosen outcomes "
                f"({', '.join(self.outcomes)}): add it to `outcomes` or move the commitments"
            )
        if not any(self.commitments.values()):
            raise ValueError(
                "no commitments given: list the organisation's concrete commitments under `commitments`, by "
                'outcome, e.g. `new-businesses-jobs-skills: ["6 apprenticeships for local residents over 3 years"]`;'
                " the draft is built from them and never invents any"
            )
        if self.themes:
            for outcome_id in self.outcomes:
                theme, outcome = catalogue.outcome(outcome_id)
                if theme.id not in self.themes:
                    raise ValueError(
                        f"outcome {outcome.id!r} belongs to the theme {theme.id!r} ({theme.name!r}), which is not in "
                        f"`themes` ({', '.join(self.themes)}): add the theme or leave `themes` out"
                    )
            chosen = {catalogue.outcome(o)[0].id for o in self.outcomes}
            for theme_id in self.themes:
                if theme_id not in chosen:
                    theme = catalogue.theme(theme_id)
                    raise ValueError(
                        f"theme {theme_id!r} has no chosen outcome: add one of "
                        f"{', '.join(o.id for o in theme.outcomes)} to `outcomes`, or remove the theme"
                    )
        if self.kind == "response" and not self.buyer:
            raise ValueError("give the `buyer`: the public body running the tender")
        return self

    def outcome_pairs(self) -> list[tuple[Theme, Outcome]]:
        """The chosen outcomes with their themes, in the order given."""
        catalogue = load_catalogue()
        return [catalogue.outcome(o) for o in self.outcomes]

    def texts(self) -> list[str]:
        """Every piece of text the bidder gave: the only place a figure or a name may come from."""
        texts = [self.title, self.buyer, self.description, self.question or "", self.supplier or ""]
        texts += [c for items in self.commitments.values() for c in items]
        texts += list(self.evidence) + list(self.resources) + [self.reporting or ""]
        return [t for t in texts if t and t.strip()]


def _explain(exc: ValidationError) -> str:
    # One problem found under several fields (an unknown outcome named in outcomes and in commitments) is
    # said once, naming every field: the list of valid outcomes is long.
    fields_by_message: dict[str, list[str]] = {}
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown field; the fields are: {', '.join(DraftRequest.model_fields)}"
        elif error["type"] == "missing":
            message = "missing: this field is required"
        fields_by_message.setdefault(message, []).append(where)
    messages = [
        f"{', '.join(w for w in wheres if w)}: {message}" if any(wheres) else message
        for message, wheres in fields_by_message.items()
    ]
    return "invalid draft input: " + "; ".join(messages)


def parse_request(data: Mapping[str, Any] | DraftRequest) -> DraftRequest:
    """Validate a draft request given as a mapping (the app's form, parsed JSON/YAML); clear errors only.

    Raises:
        DraftInputError: with every problem, each naming its field and how to fix it.
    """
    if isinstance(data, DraftRequest):
        return data
    if not isinstance(data, Mapping):
        raise DraftInputError(
            "the draft input must be a mapping of fields (title, buyer, outcomes, commitments, word_limit, ...), "
            f"not {type(data).__name__}"
        )
    try:
        return DraftRequest.model_validate(dict(data))
    except ValidationError as exc:
        raise DraftInputError(_explain(exc)) from None


def load_request(path: str | Path) -> DraftRequest:
    """Read a draft request from a YAML or JSON file (see ``examples/response.yaml``).

    Raises:
        DraftInputError: the file is missing, is not YAML/JSON, is not a mapping, or its fields are invalid.
    """
    path = Path(path)
    if not path.is_file():
        raise DraftInputError(f"input file not found: {path} (see examples/response.yaml for the format)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DraftInputError(f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise DraftInputError(f"{path} is not valid {kind}: {exc}") from None
    if not isinstance(data, Mapping):
        raise DraftInputError(
            f"{path} must hold a mapping of fields (title, buyer, outcomes, commitments, ...), "
            f"not {type(data).__name__ if data is not None else 'nothing'}"
        )
    return parse_request(data)
