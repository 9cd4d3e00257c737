"""Typed access to ``corpus/catalogue.yaml``, the machine-readable index of the framework corpus.

The catalogue is derived strictly from the corpus Markdown files: every section names the file it comes from
(``doc_id``) and every name, question and description appears verbatim in that file. The models here are
frozen pydantic v2 models so the loaded catalogue can be shared (and cached) safely.

Typical use::

    from assistant.catalogue import load_catalogue

    catalogue = load_catalogue()
    theme, outcome = catalogue.outcome("new-businesses-jobs-skills")
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from corpus import CORPUS_DIR

__all__ = [
    "DEFAULT_CATALOGUE_PATH",
    "Catalogue",
    "GovernancePrinciple",
    "GovernancePrinciples",
    "OecdSkillArea",
    "OecdSkillAreas",
    "OecdSkills",
    "Outcome",
    "Pillar",
    "PublicValueFramework",
    "QuestionGroup",
    "SocialValueCategories",
    "SocialValueCategory",
    "SocialValueModel",
    "SocialValuePrinciple",
    "SocialValuePrinciples",
    "Theme",
    "clear_catalogue_cache",
    "load_catalogue",
]

DEFAULT_CATALOGUE_PATH = CORPUS_DIR / "catalogue.yaml"


class _Frozen(BaseModel):
    """Base for catalogue models: immutable, and unknown keys are an error (catches typos in the YAML)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class _Section(_Frozen):
    """A top-level catalogue section, tied to the corpus Markdown file it is derived from."""

    doc_id: str = Field(description="Id (file stem) of the corpus Markdown file this section comes from.")


# --- Social Value Model -------------------------------------------------------------------------------------


class Outcome(_Frozen):
    """A Social Value Model policy outcome, e.g. "Create new businesses, new jobs and new skills"."""

    id: str
    name: str


class Theme(_Frozen):
    """A Social Value Model theme and the policy outcomes that flow from it."""

    id: str
    name: str
    outcomes: tuple[Outcome, ...]


class SocialValueModel(_Section):
    """The Social Value Model: 5 themes and 8 policy outcomes."""

    themes: tuple[Theme, ...]


# --- UK Public Value Framework ------------------------------------------------------------------------------


class QuestionGroup(_Frozen):
    """A group of Public Value Framework questions under one heading, e.g. "Benchmarking & cost control"."""

    name: str
    questions: tuple[str, ...]


class Pillar(_Frozen):
    """A Public Value Framework pillar with its question groups.

    ``question_count`` is the number stated in the pillar's heading (e.g. "(6 questions)"); it is checked
    against the questions actually listed.
    """

    id: str
    name: str
    question_count: int
    question_groups: tuple[QuestionGroup, ...]

    @property
    def questions(self) -> tuple[str, ...]:
        """All questions of the pillar, in order, across its groups."""
        return tuple(q for group in self.question_groups for q in group.questions)

    @model_validator(mode="after")
    def _count_matches(self) -> Pillar:
        if len(self.questions) != self.question_count:
            raise ValueError(
                f"pillar {self.id!r} lists {len(self.questions)} questions but states {self.question_count}"
            )
        return self


class PublicValueFramework(_Section):
    """HM Treasury's Public Value Framework: four pillars of questions."""

    pillars: tuple[Pillar, ...]


# --- Principles, categories and skills ----------------------------------------------------------------------


class SocialValuePrinciple(_Frozen):
    """One of the Principles of Social Value, e.g. "Do not over-claim"."""

    name: str
    description: str


class SocialValuePrinciples(_Section):
    """The seven Principles of Social Value."""

    principles: tuple[SocialValuePrinciple, ...]


class GovernancePrinciple(_Frozen):
    """A CIPFA/IFAC good governance principle, lettered A to G."""

    letter: str = Field(pattern=r"^[A-Z]$")
    text: str


class GovernancePrinciples(_Section):
    """The CIPFA/IFAC International Framework's principles A-G."""

    principles: tuple[GovernancePrinciple, ...]


class SocialValueCategory(_Frozen):
    """A category of social value (social, environmental, economic) with the source's example."""

    name: str
    example: str


class SocialValueCategories(_Section):
    """The three categories of social value."""

    categories: tuple[SocialValueCategory, ...]


class OecdSkills(_Frozen):
    """The professional, strategic and innovation skills of one OECD skill area."""

    professional: str
    strategic: str
    innovation: str


class OecdSkillArea(_Frozen):
    """One of the four areas of the OECD public sector skills framework."""

    name: str
    description: str
    skills: OecdSkills


class OecdSkillAreas(_Section):
    """The OECD framework's four areas of public value focussed tasks and skills."""

    areas: tuple[OecdSkillArea, ...]


# --- The catalogue ------------------------------------------------------------------------------------------


class Catalogue(_Frozen):
    """The whole catalogue, as loaded from ``corpus/catalogue.yaml``."""

    social_value_model: SocialValueModel
    public_value_framework: PublicValueFramework
    social_value_principles: SocialValuePrinciples
    governance_principles: GovernancePrinciples
    social_value_categories: SocialValueCategories
    oecd_skill_areas: OecdSkillAreas

    @property
    def themes(self) -> tuple[Theme, ...]:
        """The Social Value Model themes."""
        return self.social_value_model.themes

    def all_outcomes(self) -> list[tuple[Theme, Outcome]]:
        """Every Social Value Model outcome with its theme, in catalogue order."""
        return [(theme, outcome) for theme in self.themes for outcome in theme.outcomes]

    def outcome(self, id_or_name: str) -> tuple[Theme, Outcome]:
        """Find a Social Value Model outcome by id or by its full name (both matched case-insensitively).

        Raises:
            KeyError: if nothing matches; the message lists the valid ids and names.
        """
        wanted = id_or_name.strip().casefold()
        for theme, outcome in self.all_outcomes():
            if wanted in (outcome.id.casefold(), outcome.name.casefold()):
                return theme, outcome
        choices = "; ".join(f"{o.id} ({o.name!r})" for _, o in self.all_outcomes())
        raise KeyError(f"unknown Social Value Model outcome {id_or_name!r}; valid choices: {choices}")

    def theme(self, id_or_name: str) -> Theme:
        """Find a Social Value Model theme by id or name (case-insensitive); a ``KeyError`` lists choices."""
        wanted = id_or_name.strip().casefold()
        for theme in self.themes:
            if wanted in (theme.id.casefold(), theme.name.casefold()):
                return theme
        choices = "; ".join(f"{t.id} ({t.name!r})" for t in self.themes)
        raise KeyError(f"unknown Social Value Model theme {id_or_name!r}; valid choices: {choices}")

    @property
    def doc_ids(self) -> frozenset[str]:
        """The ids of the corpus documents the catalogue draws on."""
        sections = (
            self.social_value_model,
            self.public_value_framework,
            self.social_value_principles,
            self.governance_principles,
            self.social_value_categories,
            self.oecd_skill_areas,
        )
        return frozenset(section.doc_id for section in sections)


def _read(path: Path) -> Catalogue:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return Catalogue.model_validate(data)


@lru_cache(maxsize=1)
def _load_default() -> Catalogue:
    return _read(DEFAULT_CATALOGUE_PATH)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and validate the catalogue.

    Args:
        path: a catalogue YAML file; ``None`` (the default) loads ``corpus/catalogue.yaml``, cached after the
            first call (see :func:`clear_catalogue_cache`).

    Raises:
        pydantic.ValidationError: if the file does not match the catalogue schema.
    """
    if path is None:
        return _load_default()
    return _read(Path(path))


def clear_catalogue_cache() -> None:
    """Forget the cached default catalogue, so the next ``load_catalogue()`` re-reads the file."""
    _load_default.cache_clear()
