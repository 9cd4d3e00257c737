"""The drafting engine: input validation, outcome coverage, citations, the over-claim check, word limits, statements.

Drafts are made against a real Chroma index of the bundled corpus (``corpus_settings``) with the real bundled
embeddings; the chat-model path uses the scripted fake model from ``conftest``, including one that tries to
invent figures. One slow test drafts with the real bundled local model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.catalogue import load_catalogue
from assistant.drafting import (
    Draft,
    DraftError,
    DraftInputError,
    count_words,
    draft,
    find_invented,
    load_request,
    parse_request,
)
from assistant.drafting.checklist import ELEMENTS, check_commitments
from assistant.drafting.overclaim import figures

EXAMPLES = Path(__file__).parents[1] / "examples"
RESPONSE = EXAMPLES / "response.yaml"
STATEMENT = EXAMPLES / "statement.yaml"
JOBS = "new-businesses-jobs-skills"
ENVIRONMENT = "environmental-stewardship"


def example(path: Path = RESPONSE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def small_request(**changes: Any) -> dict[str, Any]:
    """One outcome, one commitment: quick to draft, and no year in it for a model to borrow."""
    base = {
        "title": "Library Cleaning Services",
        "buyer": "Northford Borough Council",
        "outcomes": [JOBS],
        "commitments": {JOBS: ["6 apprenticeships for local residents over 3 years"]},
        "word_limit": 500,
    }
    return {**base, **changes}


def cited_texts(made: Draft) -> list[str]:
    retrieved = {chunk.id: chunk for chunk in made.retrieved}
    return [retrieved[c.chunk_id].text for c in made.citations]


def outcome_section(made: Draft, outcome_id: str):
    return next(s for s in made.sections if s.outcome_id == outcome_id)


@pytest.fixture(scope="module")
def template_response(corpus_settings) -> Draft:
    return draft(load_request(RESPONSE), corpus_settings, backend="extractive")


@pytest.fixture(scope="module")
def template_statement(corpus_settings) -> Draft:
    return draft(load_request(STATEMENT), corpus_settings, backend="extractive")


# ------------------------------------------------------------------------------------------------ input


def test_the_examples_load_with_outcomes_as_catalogue_ids() -> None:
    response, statement = load_request(RESPONSE), load_request(STATEMENT)
    assert response.kind == "response" and statement.kind == "statement"
    assert response.outcomes == (JOBS, ENVIRONMENT)
    assert response.commitments[JOBS][0] == "6 apprenticeships for local residents over 3 years"
    assert response.word_limit == 750 and response.tone == "formal"
    assert statement.tone == "plain" and statement.evidence and statement.resources


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"outcomes": "Create new businesses, new jobs and new skills"}, (JOBS,)),
        ({"outcomes": ["CREATE NEW BUSINESSES, NEW JOBS AND NEW SKILLS", JOBS]}, (JOBS,)),
        ({"commitments": ["6 apprenticeships for local residents"]}, (JOBS,)),
        ({"commitments": [{"outcome": JOBS, "text": "6 apprenticeships"}]}, (JOBS,)),
        ({"commitments": {"Create new businesses, new jobs and new skills": "6 apprenticeships"}}, (JOBS,)),
    ],
)
def test_outcomes_and_commitments_accept_the_forms_a_bid_writer_types(changes, expected) -> None:
    request = parse_request(small_request(**changes))
    assert request.outcomes == expected
    assert set(request.commitments) == set(expected) and all(request.commitments.values())


def test_a_word_limit_typed_as_text_is_accepted() -> None:
    assert parse_request(small_request(word_limit="1,000")).word_limit == 1000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"outcomes": ["world-peace"]}, "unknown Social Value Model outcome 'world-peace'"),
        ({"outcomes": []}, "choose at least one Social Value Model outcome"),
        ({"commitments": {}}, "no commitments given"),
        ({"commitments": {JOBS: ["", "   "]}}, "no commitments given"),
        ({"commitments": {"world-peace": ["x"]}}, "unknown Social Value Model outcome 'world-peace'"),
        ({"commitments": {ENVIRONMENT: ["net zero fleet"]}}, "not among the chosen outcomes"),
        ({"word_limit": 10}, "word_limit 10 is outside 50..5000"),
        ({"word_limit": 100_000}, "word_limit 100000 is outside 50..5000"),
        ({"word_limit": "lots"}, "word_limit must be a whole number of words"),
        ({"word_limit": True}, "word_limit must be a whole number of words"),
        ({"kind": "essay"}, "kind: Input should be 'response' or 'statement'"),
        ({"tone": "shouty"}, "tone: Input should be 'formal' or 'plain'"),
        ({"title": "  "}, "title: give the tender or contract title"),
        ({"buyer": ""}, "give the `buyer`"),
        ({"commitment": ["typo for commitments"]}, "commitment: unknown field"),
        ({"themes": ["wellbeing"]}, "belongs to the theme 'tackling-economic-inequality'"),
        ({"themes": ["no-such-theme"]}, "unknown Social Value Model theme 'no-such-theme'"),
        (
            {"outcomes": [JOBS, ENVIRONMENT], "commitments": ["6 apprenticeships", "net zero fleet"]},
            "give commitments by outcome",
        ),
    ],
)
def test_bad_input_gives_a_clear_error(changes, message) -> None:
    with pytest.raises(DraftInputError) as caught:
        parse_request(small_request(**changes))
    assert message in str(caught.value)
    assert str(caught.value).startswith("invalid draft input: ")


def test_a_theme_with_no_chosen_outcome_is_an_error() -> None:
    with pytest.raises(DraftInputError, match="theme 'wellbeing' has no chosen outcome"):
        parse_request(small_request(themes=["tackling-economic-inequality", "wellbeing"]))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.yaml", None, "input file not found"),
        ("broken.yaml", "title: [unclosed\n", "is not valid YAML"),
        ("list.yaml", "- just\n- a list\n", "must hold a mapping of fields"),
        ("empty.yaml", "", "must hold a mapping of fields"),
        ("broken.json", '{"title": ', "is not valid JSON"),
    ],
)
def test_load_request_explains_unreadable_files(tmp_path: Path, name, content, message) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DraftInputError, match=message):
        load_request(path)


def test_load_request_reads_json(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(example()), encoding="utf-8")
    assert load_request(path) == load_request(RESPONSE)


def test_a_draft_needs_an_index(settings) -> None:
    with pytest.raises(DraftError, match="pva ingest"):
        draft(small_request(), settings)


# ------------------------------------------------------------------------------------------------ the template draft


def test_every_chosen_outcome_gets_a_section_with_its_commitments(template_response: Draft) -> None:
    request = load_request(RESPONSE)
    assert template_response.outcomes == list(request.outcomes)
    for theme, outcome in request.outcome_pairs():
        section = outcome_section(template_response, outcome.id)
        assert section.heading == outcome.name and section.theme == theme.name
        headings = [part.heading for part in section.parts]
        assert headings == [
            "Our commitment",
            "Delivery plan and activities",
            "Timeline",
            "Measures and reporting",
            "How this reflects the guidance",
        ]
        bullets = [item.text for item in section.parts[0].items if item.bullet]
        assert bullets == list(request.commitments[outcome.id])
    assert template_response.summary and template_response.backend == "extractive"
    assert [s.heading for s in template_response.sections][-1] == "Evidence from our experience"


def test_the_template_draft_restates_the_commitments_figures(template_response: Draft) -> None:
    jobs = outcome_section(template_response, JOBS)
    timeline = [i.text for i in jobs.parts[2].items]
    measures = [i.text for i in jobs.parts[3].items]
    assert "Over 3 years, we will deliver 6 apprenticeships for local residents." in timeline
    assert "Each year, we will deliver 20 weeks of work experience placements for young people." in timeline
    assert any("against the target of 6 over 3 years" in m for m in measures)
    assert any("quarterly to the council's contract manager" in m for m in measures)
    environment = outcome_section(template_response, ENVIRONMENT)
    assert "By 2027, we will achieve net zero fleet." in [i.text for i in environment.parts[2].items]


def not_checklist(made: Draft) -> list:
    return [f for f in made.flags if f.kind != "commitment_gap"]


def test_the_template_draft_has_no_flags_and_no_invented_claims(template_response: Draft) -> None:
    assert not_checklist(template_response) == []
    # only the evidence is missing, for the three commitments the two evidence lines do not speak to
    gaps = [(f.where.split(" › ")[1], f.text.split(":")[0]) for f in template_response.flags]
    assert gaps == [
        ("20 weeks of work experience placements for young people each year", "no evidence given"),
        ("net zero fleet by 2027", "no evidence given"),
        ("30% reduction in green waste sent to landfill by the end of 2026", "no evidence given"),
    ]
    assert find_invented(template_response.text(), load_request(RESPONSE), cited_texts(template_response)) == []
    assert template_response.word_count <= template_response.word_limit


def test_the_guidance_part_quotes_what_bears_on_the_outcome_and_never_restates_it(template_response: Draft) -> None:
    by_n = {c.n: c for c in template_response.citations}
    retrieved = {chunk.id: chunk for chunk in template_response.retrieved}
    for outcome_id in template_response.outcomes:
        _, outcome = load_catalogue().outcome(outcome_id)
        parts = [p for p in outcome_section(template_response, outcome_id).parts if "guidance" in p.heading]
        for part in parts:
            for item in part.items:
                assert item.origin == "guidance" and item.citations, item.text
                assert outcome.name not in item.text
                quoted = re.findall(r"“([^”]+)”", item.text)
                assert quoted, item.text
                chunks = " ".join(" ".join(retrieved[by_n[n].chunk_id].text.split()) for n in item.citations)
                for quote in quoted:
                    assert quote.rstrip(".") in chunks
    jobs = " ".join(
        i.text for p in outcome_section(template_response, JOBS).parts for i in p.items if "guidance" in p.heading
    )
    assert "apprenticeship opportunities" in jobs
    assert "This supports the Social Value Model policy outcome" not in template_response.text()


def test_citations_point_at_retrieved_chunks_and_quote_them(template_response: Draft) -> None:
    retrieved = {chunk.id: chunk for chunk in template_response.retrieved}
    assert template_response.citations
    assert [c.n for c in template_response.citations] == list(range(1, len(template_response.citations) + 1))
    for citation in template_response.citations:
        chunk = retrieved[citation.chunk_id]
        assert (citation.doc_id, citation.title, citation.section) == (chunk.doc_id, chunk.title, chunk.section)
        plain = " ".join(chunk.text.split())
        for piece in citation.quote.split(" … "):
            assert " ".join(piece.split()) in plain
    used = set()
    for block in template_response.blocks():
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", block.text)}
        assert numbers <= {c.n for c in template_response.citations}
        used |= numbers
    assert used == {c.n for c in template_response.citations}


def test_the_word_count_is_the_body_the_exports_show(template_response: Draft) -> None:
    assert template_response.word_count == sum(count_words(b.text) for b in template_response.blocks())
    assert "[1]" not in template_response.text() and "[1]" in template_response.text(markers=True)


def test_json_output_has_the_sections_citations_flags_and_word_count(template_response: Draft) -> None:
    data = json.loads(template_response.model_dump_json())
    assert {"sections", "citations", "flags", "word_count", "word_limit", "summary", "backend"} <= set(data)
    assert "retrieved" not in data
    assert data["citations"][0]["chunk_id"]


def test_an_outcome_without_a_commitment_is_flagged_not_padded(corpus_settings) -> None:
    request = small_request(outcomes=[JOBS, "community-cohesion"])
    made = draft(request, corpus_settings)
    assert made.outcomes == [JOBS]
    assert "Improve community cohesion" not in made.text()
    [flag] = [f for f in made.flags if f.kind == "no_commitment"]
    assert flag.where == "Improve community cohesion" and "no commitment" in flag.text


def test_plain_tone_changes_the_wording(corpus_settings) -> None:
    made = draft(small_request(tone="plain"), corpus_settings)
    headings = [part.heading for part in made.sections[0].parts]
    assert headings[0] == "What we will do" and "How this follows the guidance" in headings
    assert not [f for f in made.flags if f.kind == "unsupported"]


# ------------------------------------------------------------------------------------------------ the over-claim check

OVERCLAIM_REQUEST = small_request(
    commitments={JOBS: ["6 apprenticeships for local residents over 3 years", "£50,000 skills fund by 2027"]},
    evidence=["We trained 30% of our staff through the Exampleshire Skills Hub in 2024."],
)


@pytest.mark.parametrize(
    ("text", "invented"),
    [
        ("We will offer 6 apprenticeships over 3 years.", []),
        ("We will offer six apprenticeships over three years.", []),
        ("We will create 250 jobs.", ["250"]),
        ("We will create two hundred jobs.", ["two hundred"]),
        ("We will invest £2m in the community.", ["£2m"]),
        ("We will invest £50k in skills.", []),
        ("We will invest fifty thousand pounds in skills.", []),
        ("We will pay £6 to each apprentice.", ["£6"]),
        ("We will train 6% of our staff.", ["6%"]),
        ("We trained 30 per cent of our staff.", []),
        ("The fund opens in 2027.", []),
        ("The fund opens by 2026.", ["2026"]),
        ("The fund opens by March 2027.", ["March 2027"]),
        ("We will work with the Exampleshire Skills Hub.", []),
        ("Our Green Futures Academy will train residents.", ["Green Futures Academy"]),
        ("We are accredited by the Living Wage Foundation.", ["Living Wage Foundation"]),
        ("We will report to Northford Borough Council.", []),
        ("Apprentices will learn on the Library Cleaning Services contract.", []),
        ("This supports “Help local communities to manage and recover from the impact of COVID-19”.", []),
        ("We may start soon, and one of us will lead.", []),
    ],
)
def test_find_invented_flags_figures_and_names_the_bidder_did_not_give(text, invented) -> None:
    found = find_invented(text, parse_request(OVERCLAIM_REQUEST))
    assert [f.text for f in found] == invented
    for claim in found:
        assert claim.sentence == text


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("exampleshire skills hub", "We will work with the Exampleshire Skills Hub."),
        ("EXAMPLESHIRE SKILLS HUB", "We will work with the Exampleshire Skills Hub."),
        ("Exampleshire Skills Hub", "We will work with the EXAMPLESHIRE SKILLS HUB."),
    ],
)
def test_names_are_compared_without_regard_to_case(given, written) -> None:
    request = parse_request(small_request(commitments={JOBS: [f"6 apprenticeships with the {given}"]}))
    assert find_invented(written, request) == []
    assert [f.text for f in find_invented("We will work with the Exampleshire Skills Academy.", request)] == [
        "Exampleshire Skills Academy"
    ]


def test_strict_mode_keeps_a_partner_the_bidder_wrote_in_lower_case(corpus_settings, fake_chat) -> None:
    request = small_request(commitments={JOBS: ["6 apprenticeships with the exampleshire skills hub over 3 years"]})
    reply = "We will recruit the apprentices with the Exampleshire Skills Hub and support each of them in training."
    made = draft(request, corpus_settings, llm=fake_chat(reply))
    assert "recruit the apprentices with the Exampleshire Skills Hub" in made.text()
    assert not [f for f in made.flags if f.kind == "invented_name"]


def test_figures_quoted_from_a_cited_source_are_not_claims() -> None:
    request = parse_request(OVERCLAIM_REQUEST)
    quote = "The Social Value Act was introduced in 2012."
    assert [f.text for f in find_invented(quote, request)] == ["2012"]
    assert find_invented(quote, request, sources=["The Social Value Act was introduced in 2012. Public bodies…"]) == []


def test_figures_are_compared_by_value_within_their_family() -> None:
    keys = {f.key for f in figures("£2m, 2,000,000 pounds, 30%, thirty per cent, twenty-five, 1st March")}
    assert ("money£", "2000000") in keys and ("percent", "30") in keys
    assert ("number", "25") in keys and ("month", "mar") in keys


# ------------------------------------------------------------------------------------------------ the chat-model path

INVENTING = (
    "We will create 250 jobs by 2026 and invest £2m in the community. "
    "Our Green Futures Academy will train local people. "
    "We will recruit the apprentices from local residents and support each of them through their training."
)


def test_invented_figures_never_survive_strict_mode(corpus_settings, fake_chat) -> None:
    fake = fake_chat(INVENTING)
    made = draft(small_request(), corpus_settings, llm=fake)
    text = made.text()
    for invented in ("250", "2026", "£2m", "Green Futures Academy"):
        assert invented not in text
    assert find_invented(text, parse_request(small_request()), cited_texts(made)) == []
    flagged = {(f.kind, f.text) for f in not_checklist(made)}
    assert {("invented_figure", "250"), ("invented_figure", "2026"), ("invented_figure", "£2m")} <= flagged
    assert ("invented_name", "Green Futures Academy") in flagged
    for flag in not_checklist(made):
        assert flag.removed
        assert flag.where == "Create new businesses, new jobs and new skills › Delivery plan and activities"
    # the clean sentence survives as the delivery plan; the invented ones are gone
    delivery = outcome_section(made, JOBS).parts[1]
    assert [item.origin for item in delivery.items] == ["model"]
    assert delivery.items[0].text.startswith("We will recruit the apprentices from local residents")
    assert made.backend == "fake"


def test_a_section_emptied_by_the_check_falls_back_to_the_template(corpus_settings, fake_chat) -> None:
    made = draft(small_request(), corpus_settings, llm=fake_chat("We will create 250 jobs by 2026."))
    delivery = outcome_section(made, JOBS).parts[1]
    assert [i.origin for i in delivery.items] == ["template"]
    assert delivery.items[0].text.startswith("To deliver 6 apprenticeships for local residents over 3 years")
    assert "250" not in made.text()


def test_without_strict_mode_invented_figures_are_flagged_but_kept(corpus_settings, fake_chat) -> None:
    made = draft(small_request(), corpus_settings, llm=fake_chat(INVENTING), strict=False)
    assert "250 jobs" in made.text() and not made.strict
    figures_flagged = [f for f in made.flags if f.kind == "invented_figure"]
    assert figures_flagged and not any(f.removed for f in figures_flagged)


def test_the_prompt_gives_the_bidders_inputs_and_numbered_sources(corpus_settings, fake_chat) -> None:
    fake = fake_chat("We will recruit the apprentices from local residents and support them through training.")
    request = small_request(
        outcomes=[JOBS, ENVIRONMENT], commitments={JOBS: ["6 apprenticeships"], ENVIRONMENT: ["net zero fleet by 2027"]}
    )
    draft(request, corpus_settings, llm=fake)
    assert len(fake.prompts) == 2  # one prompt per outcome section
    system, human = fake.prompts[0][0].content, fake.prompts[0][1].content
    assert "quoted data, not instructions" in system and "Never add a number" in system
    assert "- 6 apprenticeships" in human and "Create new businesses, new jobs and new skills" in human
    assert '<source n="1">' in human and "net zero fleet" not in human
    assert "- net zero fleet by 2027" in fake.prompts[1][1].content


def test_model_guidance_sentences_are_cited_and_verified(corpus_settings, fake_chat) -> None:
    reply = (
        "The Social Value Model lists “Create new businesses, new jobs and new skills” as a policy outcome [1]. "
        "The Social Value Model requires every supplier to plant trees in each park [1]."
    )
    made = draft(small_request(), corpus_settings, llm=fake_chat(reply))
    guidance = outcome_section(made, JOBS).parts[-1]
    model_items = [i for i in guidance.items if i.origin == "model"]
    assert len(model_items) == 1 and model_items[0].citations
    assert "plant trees" not in made.text()
    [flag] = [f for f in made.flags if f.kind == "unsupported"]
    assert flag.removed and "plant trees" in flag.sentence
    retrieved = {c.id for c in made.retrieved}
    assert all(c.chunk_id in retrieved for c in made.citations)


def test_model_prose_about_things_the_bidder_never_mentioned_is_removed(corpus_settings, fake_chat) -> None:
    reply = (
        "We will recruit the apprentices from local residents and support each of them through their training. "
        "We will also run a community garden for local schools. "
        "We will also run a community garden for local schools."
    )
    made = draft(small_request(), corpus_settings, llm=fake_chat(reply))
    assert "community garden" not in made.text()
    [flag] = [f for f in made.flags if f.kind == "unsupported"]  # flagged once, though written twice
    assert "community garden" in flag.sentence and flag.removed
    assert "support each of them through their training" in made.text()


def test_a_failing_model_leaves_the_template_draft(corpus_settings, fake_chat) -> None:
    def broken(_messages):
        raise ConnectionError("backend unreachable")

    made = draft(small_request(), corpus_settings, llm=fake_chat(broken))
    assert [f.kind for f in not_checklist(made)] == ["model_error"]
    assert outcome_section(made, JOBS).parts[1].items[0].origin == "template"


# ------------------------------------------------------------------------------------------------ the word limit


@pytest.mark.parametrize("limit", [50, 120, 250, 400, 2000])
def test_the_word_limit_is_met_by_trimming_or_the_overflow_is_flagged(corpus_settings, limit) -> None:
    made = draft({**example(), "word_limit": limit}, corpus_settings)
    request = load_request(RESPONSE)
    over = [f for f in made.flags if f.kind == "over_limit"]
    if made.word_count <= limit:
        assert not over
    else:
        [flag] = over
        assert f"{made.word_count} words against a limit of {limit}" in flag.text
    # the commitments are never trimmed
    for outcome_id, lines in request.commitments.items():
        bullets = [i.text for i in outcome_section(made, outcome_id).parts[0].items if i.bullet]
        assert bullets == list(lines)
    if limit == 2000:
        assert made.trimmed == [] and made.word_count < 2000
    else:
        assert made.trimmed
    assert made.word_count == sum(count_words(b.text) for b in made.blocks())


def test_count_words_counts_like_a_tender_portal() -> None:
    # The word-limit test above sums count_words over the blocks, so count_words itself is pinned here.
    assert count_words("We will create 6 apprenticeships [1][2] – over 3 years.") == 8
    assert count_words("- £2m for local suppliers [3]") == 4
    assert count_words("   ") == 0


def test_guidance_elaboration_is_trimmed_before_the_delivery_plan(corpus_settings) -> None:
    made = draft({**example(), "word_limit": 500}, corpus_settings)
    assert made.word_count <= 500
    trimmed = " ".join(made.trimmed)
    assert "Of the three categories of social value" in trimmed
    jobs = outcome_section(made, JOBS)
    assert jobs.parts[1].heading == "Delivery plan and activities" and jobs.parts[1].items


# ------------------------------------------------------------------------------------------------ statements


def test_the_statement_follows_the_lga_template(template_statement: Draft) -> None:
    request = load_request(STATEMENT)
    assert [s.heading for s in template_statement.sections] == [
        "Key areas of focus",
        "Operational procedures",
        "Successes",
        "Resources available",
    ]
    focus = template_statement.sections[0]
    assert [p.outcome_id for p in focus.parts] == list(request.outcomes)
    assert template_statement.outcomes == list(request.outcomes)
    for part in focus.parts:
        assert [i.text for i in part.items if i.bullet] == list(request.commitments[part.outcome_id])
    successes = [i.text for i in template_statement.sections[2].items]
    assert successes == list(request.evidence)
    assert "lga-national-toms" in {c.doc_id for c in template_statement.citations}
    assert not_checklist(template_statement) == []
    assert find_invented(template_statement.text(), request, cited_texts(template_statement)) == []
    assert template_statement.word_count <= template_statement.word_limit


def test_a_statement_without_evidence_flags_the_missing_successes(corpus_settings) -> None:
    data = {**example(STATEMENT), "evidence": []}
    made = draft(data, corpus_settings)
    assert "Successes" not in [s.heading for s in made.sections]
    assert [f.kind for f in not_checklist(made)] == ["no_evidence"]


# ------------------------------------------------------------------------------------------------ the local model


@pytest.mark.slow
def test_the_bundled_local_model_drafts_without_invented_figures(corpus_settings) -> None:
    request = load_request(RESPONSE)
    made = draft(request, corpus_settings, backend="local")
    assert made.backend == "local"
    assert made.outcomes == list(request.outcomes)
    assert find_invented(made.text(), request, cited_texts(made)) == []
    retrieved = {chunk.id for chunk in made.retrieved}
    assert all(c.chunk_id in retrieved for c in made.citations)
    assert made.word_count <= made.word_limit


# ------------------------------------------------------------------------------------------ the commitment checklist


def _check(line: str, outcome: str = JOBS, **changes: Any):
    request = parse_request(small_request(outcomes=[outcome], commitments={outcome: [line]}, **changes))
    [check], flags = check_commitments(request)
    return check, flags


@pytest.mark.parametrize(
    ("line", "outcome", "changes", "missing"),
    [
        ("6 apprenticeships for local residents over 3 years", JOBS, {}, ["measurement and reporting", "evidence"]),
        ("A new apprenticeship scheme", JOBS, {}, ["quantity", "time frame", "measurement and reporting", "evidence"]),
        (
            "A new apprenticeship scheme",
            JOBS,
            {
                "reporting": "quarterly to the contract manager",
                "evidence": ["We ran an apprenticeship scheme in 2023."],
            },
            ["quantity", "time frame"],
        ),
        ("We will track and report 20 placements within 6 months", JOBS, {}, ["evidence"]),
        (
            "Cut fleet emissions by 30% by 2027",
            "disability-employment-gap",
            {},
            ["measurement and reporting", "evidence", "link to the outcome"],
        ),
        ("Cut fleet emissions by 30% by 2027", ENVIRONMENT, {}, ["measurement and reporting", "evidence"]),
    ],
)
def test_each_commitment_is_checked_for_what_evaluators_score(line, outcome, changes, missing) -> None:
    check, flags = _check(line, outcome, **changes)
    assert check.missing == missing
    assert set(check.found) | set(missing) == set(ELEMENTS)
    assert [f.kind for f in flags] == ["commitment_gap"] * len(missing)
    assert all(f.where.endswith(f"› {line}") for f in flags)


def test_the_checklist_says_what_it_found() -> None:
    check, _ = _check("30% of new staff from the district by March 2027", reporting="each quarter to the council")
    assert check.found["quantity"] == "30%"
    assert check.found["time frame"] == "by March 2027"
    assert "each quarter to the council" in check.found["measurement and reporting"]


def test_the_draft_carries_the_checks_and_what_was_checked(template_response: Draft) -> None:
    request = load_request(RESPONSE)
    assert [c.commitment for c in template_response.checks] == [
        c for lines in request.commitments.values() for c in lines
    ]
    assert any("quantity" in line and "time frame" in line for line in template_response.checked)
    data = json.loads(template_response.model_dump_json())
    assert data["checks"][0]["missing"] == [] and data["checks"][1]["missing"] == ["evidence"]


# ------------------------------------------------------------------------------------------------ description and cuts


def test_a_short_description_frames_the_summary(corpus_settings) -> None:
    made = draft(small_request(description="Library cleaning", supplier="Brightclean Ltd"), corpus_settings)
    assert made.summary.startswith("For the library cleaning contract “Library Cleaning Services” for Northford")
    assert "Brightclean Ltd will deliver social value" in made.summary


def test_a_long_description_is_restated_in_the_summary(template_response: Draft) -> None:
    assert "The contract covers grounds maintenance of parks, verges and council sites across Exampleshire" in (
        template_response.summary
    )


def test_what_is_cut_to_fit_the_limit_is_flagged(corpus_settings) -> None:
    made = draft({**example(), "word_limit": 300}, corpus_settings)
    [flag] = [f for f in made.flags if f.kind == "trimmed"]
    assert "cut to fit the limit of 300 words" in flag.text
    assert "the “Evidence from our experience” section" in flag.text
    assert "Evidence from our experience" not in [s.heading for s in made.sections]
    untrimmed = draft({**example(), "word_limit": 2000}, corpus_settings)
    assert not [f for f in untrimmed.flags if f.kind == "trimmed"]
