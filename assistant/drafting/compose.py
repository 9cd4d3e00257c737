"""The template draft: a response's or statement's sections built from the bidder's inputs and the retrieved
guidance, with nothing added that the inputs or the guidance do not say."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.catalogue import Outcome, Theme, load_catalogue
from assistant.drafting.clause import lower_first
from assistant.drafting.commitments import Commitment, delivery_sentence, measure_sentence, timeline_sentence
from assistant.drafting.guidance import Guidance, norm, quote_from
from assistant.drafting.outline import Item, Part, Section
from assistant.drafting.request import DraftRequest
from assistant.drafting.types import DraftFlag
from assistant.text import content_words, split_sentences
from assistant.types import RetrievedChunk

__all__ = ["PARTS", "Composer"]

# Which of the three categories of social value a Social Value Model theme's outcomes mostly create.
_THEME_CATEGORY = {
    "covid-19-recovery": "social",
    "tackling-economic-inequality": "economic",
    "fighting-climate-change": "environmental",
    "equal-opportunity": "economic",
    "wellbeing": "social",
}

# Words every social value passage and commitment uses: sharing them shows no bearing on a commitment.
_GENERIC = content_words(
    "social value model policy outcome theme local new will contract council public government procurement create "
    "deliver provide support help make work people year each all increase improve reduce change base staff"
)

# The part headings of a response's outcome section, by tone.
PARTS = {
    "formal": {
        "commitment": "Our commitment",
        "delivery": "Delivery plan and activities",
        "timeline": "Timeline",
        "measures": "Measures and reporting",
        "guidance": "How this reflects the guidance",
    },
    "plain": {
        "commitment": "What we will do",
        "delivery": "How we will deliver it",
        "timeline": "When",
        "measures": "How we will measure and report it",
        "guidance": "How this follows the guidance",
    },
}


def _cited(text: str, chunk: RetrievedChunk | None, quote: str, priority: int) -> Item | None:
    """A guidance sentence citing ``chunk`` (quoting ``quote``); ``None`` when the chunk was not found."""
    if chunk is None:
        return None
    return Item(text, priority, refs=[chunk.id], quotes={chunk.id: quote_from(chunk, quote)}, origin="guidance")


class Composer:
    """Builds the template draft for one request from its inputs and the retrieved guidance."""

    def __init__(self, request: DraftRequest, guidance: Guidance) -> None:
        self.request = request
        self.guidance = guidance
        self.formal = request.tone == "formal"
        self.parts = PARTS[request.tone]
        self.flags: list[DraftFlag] = []
        self.us = [request.supplier] if request.supplier else []
        """Names that mean "we" in a commitment ("Greenway Grounds Ltd will …")."""
        self.has_guidance = False
        """Whether any outcome section has guidance to quote (set by :meth:`response`)."""
        self.quoted: set[str] = set()
        """Guidance sentences already quoted, so no two outcomes quote the same one."""

    # --- shared sentences ---------------------------------------------------------------------------------

    def outcome_sentence(self, theme: Theme, outcome: Outcome, priority: int) -> Item | None:
        """The sentence naming the outcome and its theme, citing the model's wording (flagged when not found)."""
        chunk = self.guidance.outcomes.get(outcome.id)
        if chunk is None:
            self.flags.append(
                DraftFlag(
                    kind="missing_guidance",
                    text=f"the Social Value Model's wording of “{outcome.name}” was not found in the index; "
                    "run `pva ingest` to index the bundled corpus",
                    where=outcome.name,
                )
            )
            return None
        if self.formal:
            text = (
                f"This supports the Social Value Model policy outcome “{outcome.name}”, under the theme “{theme.name}”."
            )
        else:
            text = f"This is the Social Value Model outcome “{outcome.name}”, under the theme “{theme.name}”."
        item = _cited(text, chunk, outcome.name, priority)
        assert item is not None
        intro = self.guidance.model_intro
        if intro is not None and intro.id != chunk.id:
            item.refs.append(intro.id)
            item.quotes[intro.id] = quote_from(intro, "policy outcomes which flow from")
        return item

    def principle_items(self, base: int) -> list[Item]:
        """Two sentences on following the Principles of Social Value, citing them."""
        chunk = self.guidance.principles
        if chunk is None:
            return []
        # Worded close to the principles themselves, so sentence-level grounding can confirm them.
        if self.formal:
            involve = (
                "Following the Principles of Social Value, we will involve stakeholders in what gets measured and "
                "evaluate how change is created through the evidence gathered."
            )
            claim = (
                "In line with the principles “Do not over-claim” and “Verify the result”, we will claim only the "
                "value that our activities are responsible for creating and support independent assurance of the "
                "result."
            )
        else:
            involve = (
                "As the Principles of Social Value ask, we will involve stakeholders in what gets measured and "
                "evaluate the changes through the evidence gathered."
            )
            claim = (
                "As the principles “Do not over-claim” and “Verify the result” ask, we will claim only the value "
                "our activities are responsible for creating and support independent assurance of the result."
            )
        quote = {
            chunk.id: " … ".join(quote_from(chunk, n) for n in ("Involve stakeholders", "Understand what changes"))
        }
        first = Item(involve, base, refs=[chunk.id], quotes=quote, origin="guidance")
        quote = {chunk.id: " … ".join(quote_from(chunk, n) for n in ("Do not over-claim", "Verify the result"))}
        second = Item(claim, base + 1, refs=[chunk.id], quotes=quote, origin="guidance")
        return [first, second]

    def category_item(self, theme: Theme, priority: int) -> Item | None:
        """Which of the three categories of social value the theme creates, citing them."""
        category = _THEME_CATEGORY.get(theme.id)
        catalogue = load_catalogue()
        example = next((c.example for c in catalogue.social_value_categories.categories if c.name == category), None)
        if not category or not example:
            return None
        article = "an" if category[0] in "aeiou" else "a"
        text = f"Of the three categories of social value, this is {article} {category} one, such as “{example}”."
        return _cited(text, self.guidance.categories, f"{category} (e.g. {example})", priority)

    def bearing_item(self, theme: Theme, outcome: Outcome, lines: Sequence[str], priority: int) -> Item | None:
        """A quote of the retrieved sentence that bears most on the commitments (or the outcome), if one does.

        A sentence bears on them when it shares a word with the commitments or two with the outcome and theme,
        beyond the words every social value text uses; list lines and headings (the outcome's own name) are not
        quoted, so the paragraph never just restates the outcome.
        """
        own = content_words(" ".join(lines)) - _GENERIC
        named = content_words(f"{outcome.name} {theme.name}") - _GENERIC
        best: tuple[int, RetrievedChunk, str] | None = None
        for chunk in self.guidance.bearing.get(outcome.id, ()):
            for sentence in split_sentences(chunk.text):
                if len(sentence.split()) < 8 or not sentence[:1].isupper() or sentence.rstrip().endswith(":"):
                    continue
                if norm(sentence) in self.quoted or any(norm(name) in norm(sentence) for name in _names()):
                    continue
                words = content_words(sentence)
                score = 2 * len(words & own) + len(words & named)
                if score >= 2 and (best is None or score > best[0]):
                    best = (score, chunk, sentence)
        if best is None:
            return None
        _, chunk, sentence = best
        self.quoted.add(norm(sentence))
        quote = sentence.strip().rstrip(".")
        return _cited(f"The guidance states: “{quote}”.", chunk, sentence, priority)

    def measures(self, commitments: Sequence[Commitment]) -> list[Item]:
        """One measure per commitment, then how progress is reported."""
        items = [Item(measure_sentence(c), 1, bullet=True) for c in commitments]
        reporting = (self.request.reporting or "").rstrip(". ")
        separate = bool(reporting) and not reporting[:1].islower()  # a whole sentence: keep it as written
        how = reporting if reporting and not separate else f"to {self.request.buyer or 'our stakeholders'}"
        if self.formal:
            text = "We will record progress against each measure, with the evidence behind each figure, and report it "
            text += f"{how}."
        else:
            text = f"We will track each measure, keep the evidence for each figure and report progress {how}."
        items.append(Item(text, 1))
        if separate:
            items.append(Item(f"{reporting}.", 1, origin="input"))
        return items

    def summary(self) -> list[Item]:
        """The summary's two sentences: who delivers what for whom, and how the draft is laid out."""
        request = self.request
        names = [outcome.name for _, outcome in request.outcome_pairs() if request.commitments.get(outcome.id)]
        listed = _join([f"“{n}”" for n in names])
        plural = "outcome" if len(names) == 1 else "outcomes"
        if request.kind == "statement":
            owner = f"{request.supplier}’s" if request.supplier else "Our"
            first = (
                f"{owner} social value statement sets out our key areas of focus, operational procedures, successes "
                f"and resources available, structured by the Social Value Model policy {plural} {listed}."
            )
            second = "Each area of focus follows a policy outcome of the Social Value Model."
        else:
            return self.response_summary(listed, plural)
        return [Item(first, 1), Item(second, 5)]

    def response_summary(self, listed: str, plural: str) -> list[Item]:
        """A response's summary, framed by the contract description when there is one."""
        request = self.request
        description = " ".join(request.description.split()).rstrip(".")
        sentence_like = re.match(r"^(?:the|this|our|it|we)\b", description, re.I) or re.search(
            r"\b(?:is|are|will|covers|includes|provides)\b", description
        )
        short = bool(description) and not sentence_like and len(description.split()) <= 8 and "," not in description
        against = f"against the Social Value Model policy {plural} {listed}"
        if short:
            who = request.supplier or "we"
            first = f"For the {lower_first(description)} contract “{request.title}” for {request.buyer}, {who} will "
            first += f"deliver social value {against}."
        else:
            first = f"{request.supplier or 'We'} will deliver social value through the contract “{request.title}” "
            first += f"for {request.buyer}, {against}."
        items = [Item(first, 1)]
        if description and not short:
            text = f"{description}." if sentence_like else f"The contract covers {lower_first(description)}."
            items.append(Item(text, 4, origin="input" if sentence_like else "template"))
        parts = ["our commitment", "how and when we will deliver it", "how we will measure and report progress"]
        if self.has_guidance:
            parts.append("how it reflects the guidance")
        second = f"For each outcome, this response sets out {_join(parts, ', ')}."
        items.append(Item(second, 5))
        return items

    # --- a response -------------------------------------------------------------------------------------------

    def response(self) -> list[Section]:
        """A response: one section per outcome with a commitment, then the evidence."""
        sections: list[Section] = []
        p = self.parts
        for theme, outcome in self.request.outcome_pairs():
            lines = self.request.commitments.get(outcome.id, ())
            if not lines:
                self.flags.append(
                    DraftFlag(
                        kind="no_commitment",
                        text=f"no commitment is given for “{outcome.name}”, so the response has no section for it: "
                        "add a commitment for it, or remove the outcome",
                        where=outcome.name,
                    )
                )
                continue
            commitments = [Commitment.parse(line, self.us) for line in lines]
            section = Section(outcome.name, outcome_id=outcome.id, theme=theme.name)
            lead = "For this outcome, we commit to:" if self.formal else "We will deliver:"
            section.parts.append(
                Part(
                    p["commitment"],
                    [Item(lead, 3)] + [Item(c.text, 0, bullet=True, origin="commitment") for c in commitments],
                )
            )
            section.parts.append(Part(p["delivery"], [Item(delivery_sentence(c), 3, bullet=True) for c in commitments]))
            section.parts.append(Part(p["timeline"], [Item(timeline_sentence(c), 3, bullet=True) for c in commitments]))
            section.parts.append(Part(p["measures"], self.measures(commitments)))
            # Only what the framework texts say that bears on this outcome and its commitments: no restating.
            guidance = [self.category_item(theme, 6), self.bearing_item(theme, outcome, lines, 5)]
            found = [g for g in guidance if g is not None]
            if found:
                section.parts.append(Part(p["guidance"], found))
                self.has_guidance = True
            sections.append(section)
        if self.request.evidence:
            heading = "Evidence from our experience" if self.formal else "What we have done before"
            sections.append(
                Section(heading, items=[Item(e, 4, bullet=True, origin="input") for e in self.request.evidence])
            )
        return sections

    # --- a statement ------------------------------------------------------------------------------------------

    def statement(self) -> list[Section]:
        """A statement in the LGA template's shape: focus areas, procedures, successes, resources."""
        request = self.request
        focus = Section("Key areas of focus")
        template = _cited(
            "The Social Value Statement template developed for councils sets out key areas of focus, operational "
            "procedures, successes and resources available.",
            self.guidance.statement,
            "Social Value Statement template",
            5,
        )
        if template is not None:
            focus.items.append(template)
        all_commitments: list[Commitment] = []
        for theme, outcome in request.outcome_pairs():
            lines = request.commitments.get(outcome.id, ())
            part = Part(outcome.name, outcome_id=outcome.id)
            sentence = self.outcome_sentence(theme, outcome, 2)
            if sentence is not None:
                part.items.append(sentence)
            if not lines:
                self.flags.append(
                    DraftFlag(
                        kind="no_commitment",
                        text=f"no commitment is given for the focus area “{outcome.name}”: add one, or remove it",
                        where=f"Key areas of focus › {outcome.name}",
                    )
                )
            commitments = [Commitment.parse(line, self.us) for line in lines]
            all_commitments += commitments
            part.items += [Item(c.text, 0, bullet=True, origin="commitment") for c in commitments]
            focus.parts.append(part)
        procedures = Section("Operational procedures")
        procedures.parts = [
            Part("Delivery", [Item(delivery_sentence(c), 3, bullet=True) for c in all_commitments]),
            Part("Timeline", [Item(timeline_sentence(c), 3, bullet=True) for c in all_commitments]),
            Part("Measures and reporting", self.measures(all_commitments)),
            Part("Principles we follow", self.principle_items(4)),
        ]
        sections = [focus, procedures]
        if request.evidence:
            sections.append(
                Section("Successes", items=[Item(e, 1, bullet=True, origin="input") for e in request.evidence])
            )
        else:
            self.flags.append(
                DraftFlag(
                    kind="no_evidence",
                    text="no evidence or case studies were given, so the statement has no Successes section: "
                    "add them under `evidence`",
                    where="Successes",
                )
            )
        resources = Section("Resources available")
        resources.items = [Item(r, 1, bullet=True, origin="input") for r in request.resources]
        toms = _cited(
            "The National TOMs Framework from the LGA and the Social Value Portal offers Themes, Outcomes and "
            "Measures to help councils measure the value they are achieving.",
            self.guidance.statement,
            "Themes, Outcomes and Measures",
            4,
        )
        if toms is not None:
            resources.items.append(toms)
        if resources.items:
            sections.append(resources)
        return sections


def _names() -> list[str]:
    """Every theme and outcome name: lines that only name them are headings, not guidance to quote."""
    catalogue = load_catalogue()
    return [t.name for t in catalogue.themes] + [o.name for _, o in catalogue.all_outcomes()]


def _join(items: Sequence[str], last: str = " ") -> str:
    """``a, b and c``; ``last=", "`` gives the serial comma (``a, b, and c``)."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])}{last.rstrip()} and {items[-1]}"
