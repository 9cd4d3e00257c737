"""The README and the pages under docs/: every link resolves, every page is reachable, the figures are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evals.figures import figures_table

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("#")}


def _local_links(page: Path) -> list[tuple[str, str]]:
    """(path, anchor) of each link to a file of this repository (web links left out)."""
    links = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        links.append((path, anchor))
    return links


def test_slug_matches_github() -> None:
    assert _slug(" Chat backends (`PVA_CHAT_BACKEND`)") == "chat-backends-pva_chat_backend"
    assert _slug("The answer format (`--json`, `--jsonl`): a public contract") == (
        "the-answer-format---json---jsonl-a-public-contract"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(page: Path) -> None:
    broken = []
    for path, anchor in _local_links(page):
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(path)
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
            broken.append(f"{path}#{anchor}")
    assert broken == [], f"{page.name} links to what does not exist"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(ROOT / path).resolve() for path, _ in _local_links(ROOT / "README.md") if path}
    pages = set(DOCS.glob("*.md"))
    assert len(pages) >= 9
    assert sorted(p.name for p in pages if p.resolve() not in linked) == []


def test_the_readme_is_a_front_door() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme and "docs/screenshots/chat.png" in readme
    assert len(readme.split()) < 2000, "long explanations belong in docs/, the README links to them"


def test_figures_table_matches_the_baselines() -> None:
    """The table in docs/evaluation.md is what ``python -m evals.figures`` prints (its header aside)."""
    page = (DOCS / "evaluation.md").read_text(encoding="utf-8")
    documented = page.split("<!-- eval-figures -->\n", 1)[1].split("<!-- /eval-figures -->", 1)[0].splitlines()
    generated = figures_table().splitlines()
    assert len(documented) > 10
    assert documented[1:] == generated[1:], "run `python -m evals.figures` and paste its table"
