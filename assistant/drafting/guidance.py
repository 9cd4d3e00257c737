"""The guidance a draft cites: found by retrieval, so every citation points at a retrieved chunk, and quoted."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.catalogue import load_catalogue
from assistant.config import Settings
from assistant.drafting.request import DraftRequest
from assistant.retrieval import search
from assistant.text import split_sentences
from assistant.types import RetrievedChunk

__all__ = ["LGA_DOC_ID", "Guidance", "norm", "quote_from", "retrieve"]

LGA_DOC_ID = "lga-national-toms"
"""The corpus document describing the LGA Social Value Statement template and the National TOMs."""


def norm(text: str) -> str:
    """``text`` folded for containment tests: case, curly apostrophes and runs of space ignored."""
    return " ".join(text.replace("’", "'").casefold().split())


@dataclass
class Guidance:
    """The corpus chunks a draft cites, and every chunk retrieval returned while finding them."""

    outcomes: dict[str, RetrievedChunk | None] = field(default_factory=dict)
    model_intro: RetrievedChunk | None = None
    principles: RetrievedChunk | None = None
    categories: RetrievedChunk | None = None
    statement: RetrievedChunk | None = None
    bearing: dict[str, list[RetrievedChunk]] = field(default_factory=dict)
    """Outcome id → social value passages retrieved for its commitments, to quote what bears on them."""
    retrieved: dict[str, RetrievedChunk] = field(default_factory=dict)

    def find(self, query: str, settings: Settings, doc_id: str, needle: str, k: int = 4) -> RetrievedChunk | None:
        """Search ``doc_id`` for ``query`` and keep the best hit that contains ``needle`` (the text to quote)."""
        hits = search(query, settings, k=k, doc_ids=[doc_id])
        for hit in hits:
            self.retrieved.setdefault(hit.id, hit)
        wanted = norm(needle)
        return next((hit for hit in hits if wanted in norm(hit.text)), None)

    def for_outcome(self, outcome_id: str) -> list[RetrievedChunk]:
        """The chunks a chat model is given for one outcome: its wording, the principles, the categories."""
        out: list[RetrievedChunk] = []
        for chunk in (self.outcomes.get(outcome_id), self.principles, self.categories):
            if chunk is not None and chunk.id not in {c.id for c in out}:
                out.append(chunk)
        return out


def retrieve(request: DraftRequest, settings: Settings) -> Guidance:
    """Find the guidance ``request`` needs: each outcome's wording, the model's intro, principles, categories."""
    catalogue = load_catalogue()
    model_doc = catalogue.social_value_model.doc_id
    guidance = Guidance()
    for theme, outcome in request.outcome_pairs():
        guidance.outcomes[outcome.id] = guidance.find(
            f"{outcome.name} ({theme.name})", settings, model_doc, outcome.name
        )
    guidance.model_intro = guidance.find(
        "Social Value Model themes and policy outcomes", settings, model_doc, "policy outcomes which flow from"
    )
    guidance.principles = guidance.find(
        "principles of social value: involve stakeholders, understand what changes, do not over-claim, "
        "verify the result",
        settings,
        catalogue.social_value_principles.doc_id,
        "Do not over-claim",
    )
    guidance.categories = guidance.find(
        "three categories of social value: social, environmental, economic",
        settings,
        catalogue.social_value_categories.doc_id,
        "categories of social value",
    )
    social_docs = [model_doc, catalogue.social_value_principles.doc_id, LGA_DOC_ID]
    for theme, outcome in request.outcome_pairs():
        lines = request.commitments.get(outcome.id, ())
        if request.kind == "response" and lines:
            hits = search(f"{outcome.name} ({theme.name}): {'; '.join(lines)}", settings, k=6, doc_ids=social_docs)
            for hit in hits:
                guidance.retrieved.setdefault(hit.id, hit)
            guidance.bearing[outcome.id] = hits
    if request.kind == "statement":
        guidance.statement = guidance.find(
            "Social Value Statement template: key areas of focus, operational procedures, successes and "
            "resources available; National TOMs themes, outcomes and measures",
            settings,
            LGA_DOC_ID,
            "Social Value Statement template",
        )
    return guidance


def quote_from(chunk: RetrievedChunk, needle: str) -> str:
    """The sentence or list item of ``chunk`` that contains ``needle``: the exact text a citation quotes."""
    wanted = norm(needle)
    for unit in split_sentences(chunk.text):
        if wanted in norm(unit):
            return unit
    return needle
