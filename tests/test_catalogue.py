"""The corpus and its catalogue: the catalogue agrees with the Markdown, and the Markdown with the seed."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from assistant.catalogue import Catalogue, load_catalogue
from corpus import CORPUS_DIR

DOC_IDS = {
    "cipfa-ifac-good-governance",
    "oecd-public-sector-skills",
    "uk-public-value-framework",
    "social-value-principles",
    "social-value-act-and-model",
    "lga-national-toms",
}
FRONT_MATTER_KEYS = {"id", "title", "publisher", "year", "url", "licence"}
SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_PILLAR_HEADING = re.compile(r"^## (?P<name>.+?) \((?P<count>\d+) questions\)$")


def _split(doc_id: str) -> tuple[dict, str]:
    text = (CORPUS_DIR / f"{doc_id}.md").read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    assert match, f"{doc_id}.md has no YAML front matter"
    return yaml.safe_load(match.group(1)), text[match.end() :]


def _body(doc_id: str) -> str:
    return _split(doc_id)[1]


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


# --- the corpus files ---------------------------------------------------------------------------------------


def test_corpus_has_exactly_the_expected_documents() -> None:
    assert {p.stem for p in CORPUS_DIR.glob("*.md")} == DOC_IDS


@pytest.mark.parametrize("doc_id", sorted(DOC_IDS))
def test_front_matter(doc_id: str) -> None:
    meta, body = _split(doc_id)
    assert set(meta) == FRONT_MATTER_KEYS
    assert meta["id"] == doc_id
    assert meta["url"].startswith("https://")
    assert meta["year"] is None or isinstance(meta["year"], int)
    assert all(isinstance(meta[k], str) and meta[k].strip() for k in ("title", "publisher", "licence"))
    assert meta["licence"].startswith("Text reproduced from ")
    assert "as quoted on" in meta["licence"]
    assert body.lstrip().startswith("# "), "the body starts with the document's title heading"
    assert len(re.findall(r"^# ", body, re.MULTILINE)) == 1, "exactly one top-level heading"


# --- catalogue vs Markdown ----------------------------------------------------------------------------------


def test_every_section_names_a_corpus_document(catalogue: Catalogue) -> None:
    assert catalogue.doc_ids <= DOC_IDS


def test_social_value_model(catalogue: Catalogue) -> None:
    model = catalogue.social_value_model
    body = _body(model.doc_id)
    assert len(model.themes) == 5
    assert len(catalogue.all_outcomes()) == 8
    assert "There are 5 themes and 8 policy outcomes" in body
    ids = [t.id for t in model.themes] + [o.id for _, o in catalogue.all_outcomes()]
    assert len(ids) == len(set(ids)), "theme and outcome ids are unique"
    for theme in model.themes:
        # Each theme is a ### heading followed by its outcomes as list items, in order.
        section = body.split(f"\n### {theme.name}\n", 1)[1].split("\n#", 1)[0]
        items = re.findall(r"^- (.+)$", section, re.MULTILINE)
        assert items == [o.name for o in theme.outcomes]


def _markdown_pillars(body: str) -> list[tuple[str, int, list[tuple[str, list[str]]]]]:
    """(pillar name, stated count, [(group name, [questions])]) parsed from the PVF Markdown."""
    pillars: list[tuple[str, int, list[tuple[str, list[str]]]]] = []
    for line in body.splitlines():
        if m := _PILLAR_HEADING.match(line):
            pillars.append((m["name"], int(m["count"]), []))
        elif line.startswith("### ") and pillars:
            pillars[-1][2].append((line[4:], []))
        elif line.startswith("- ") and pillars:
            pillars[-1][2][-1][1].append(line[2:])
    return pillars


def test_public_value_framework(catalogue: Catalogue) -> None:
    pvf = catalogue.public_value_framework
    body = _body(pvf.doc_id)
    parsed = _markdown_pillars(body)
    assert len(parsed) == len(pvf.pillars) == 4
    for pillar, (name, stated, groups) in zip(pvf.pillars, parsed, strict=True):
        assert pillar.name == name
        assert pillar.question_count == stated
        assert sum(len(qs) for _, qs in groups) == stated, f"{name}: heading says {stated} questions"
        assert [(g.name, list(g.questions)) for g in pillar.question_groups] == groups
        for question in pillar.questions:
            assert f"\n- {question}\n" in body
    assert [p.question_count for p in pvf.pillars] == [6, 9, 6, 14]


def test_social_value_principles(catalogue: Catalogue) -> None:
    section = catalogue.social_value_principles
    body = _body(section.doc_id)
    assert len(section.principles) == 7
    for principle in section.principles:
        assert f"\n- {principle.name} – {principle.description}\n" in body


def test_governance_principles(catalogue: Catalogue) -> None:
    section = catalogue.governance_principles
    body = _body(section.doc_id)
    assert [p.letter for p in section.principles] == list("ABCDEFG")
    for principle in section.principles:
        assert f"\n- {principle.letter}. {principle.text}\n" in body


def test_social_value_categories(catalogue: Catalogue) -> None:
    section = catalogue.social_value_categories
    body = _body(section.doc_id)
    assert [c.name for c in section.categories] == ["social", "environmental", "economic"]
    for category in section.categories:
        assert f"\n- {category.name} (e.g. {category.example})\n" in body


def test_oecd_skill_areas(catalogue: Catalogue) -> None:
    section = catalogue.oecd_skill_areas
    body = _body(section.doc_id)
    assert "identifies four areas" in body
    assert len(section.areas) == 4
    headings = re.findall(r"^## \d\. (.+?):?$", body, re.MULTILINE)
    assert headings == [a.name for a in section.areas]
    for area in section.areas:
        text = _norm(body.split(f". {area.name}", 1)[1].split("\n## ", 1)[0])
        assert _norm(area.description) in text
        assert f"Professional skills: {_norm(area.skills.professional)}" in text
        assert f"Strategic skills: {_norm(area.skills.strategic)}" in text
        assert f"Innovation skills: {_norm(area.skills.innovation)}" in text


# --- lookups ------------------------------------------------------------------------------------------------


def test_outcome_lookup_by_id_and_name(catalogue: Catalogue) -> None:
    theme, outcome = catalogue.outcome("new-businesses-jobs-skills")
    assert theme.id == "tackling-economic-inequality"
    assert outcome.name == "Create new businesses, new jobs and new skills"
    assert catalogue.outcome("Create new businesses, new jobs and new skills") == (theme, outcome)
    assert catalogue.outcome("NEW-BUSINESSES-JOBS-SKILLS") == (theme, outcome)
    assert catalogue.outcome("improve community cohesion")[0].id == "wellbeing"
    for theme, outcome in catalogue.all_outcomes():
        assert catalogue.outcome(outcome.id) == (theme, outcome)
        assert catalogue.outcome(outcome.name) == (theme, outcome)


def test_unknown_outcome_raises_key_error_listing_choices(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError) as excinfo:
        catalogue.outcome("world peace")
    message = str(excinfo.value)
    assert "world peace" in message
    for _, outcome in catalogue.all_outcomes():
        assert outcome.id in message


def test_default_catalogue_is_cached_and_frozen(catalogue: Catalogue) -> None:
    assert load_catalogue() is catalogue
    assert load_catalogue(CORPUS_DIR / "catalogue.yaml") == catalogue
    with pytest.raises(ValidationError, match="frozen"):
        catalogue.themes[0].name = "changed"  # type: ignore[misc]


def test_stated_pillar_count_is_enforced(tmp_path: Path) -> None:
    data = yaml.safe_load((CORPUS_DIR / "catalogue.yaml").read_text(encoding="utf-8"))
    data["public_value_framework"]["pillars"][0]["question_count"] = 7
    broken = tmp_path / "catalogue.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="states 7"):
        load_catalogue(broken)


# --- Markdown vs seed ---------------------------------------------------------------------------------------


@cache
def _seed_texts() -> tuple[str, ...]:
    return tuple(_norm(p.read_text(encoding="utf-8")) for p in sorted(SEEDS_DIR.glob("*.txt")))


def _sentences(body: str) -> list[str]:
    """Sentences of a Markdown body, without heading markers or list bullets.

    Headings and list items are units of their own; other consecutive lines form one paragraph (so a
    hard-wrapped sentence is still checked whole).
    """
    units: list[str] = []
    paragraph: list[str] = []
    for raw in [*body.splitlines(), ""]:
        line = raw.strip()
        marker = re.match(r"^(?:#{1,6}|[-*+])\s+", line)
        if paragraph and (not line or marker):
            units.append(" ".join(paragraph))
            paragraph = []
        if marker:
            units.append(line[marker.end() :])
        elif line:
            paragraph.append(line)
    return [s for unit in units for s in re.split(r"(?<=[.?!:])\s+", unit) if s]


@pytest.mark.parametrize("doc_id", sorted(DOC_IDS))
def test_every_sentence_is_in_the_seed(doc_id: str) -> None:
    # The seeds live beside the repository (../shared/seeds), in CI too: missing, they are a broken checkout.
    assert SEEDS_DIR.is_dir() and _seed_texts(), f"seed texts not found at {SEEDS_DIR}"
    missing = [s for s in _sentences(_body(doc_id)) if not any(_norm(s) in seed for seed in _seed_texts())]
    assert not missing, f"{doc_id}.md has text not in the seed: {missing}"
