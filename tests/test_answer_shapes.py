"""Answer shapes over a made-up council policy (not the corpus), so the rules are shown to hold for any document.

Real Chroma on the test's data dir and the real embedding model; the extractive backend, and the local backend's
contract with a scripted fake chat model.
"""

from __future__ import annotations

import pytest

from assistant.answer import ask
from assistant.config import Settings
from assistant.services import get_services

CRITERIA = [
    "Whole-life cost, including maintenance, energy use, disposal and any training the council's own staff will need",
    "Quality of the method statement, judged on how clearly it sets out staffing, timetable, risks and mitigations",
    "Local employment, measured as the share of new jobs filled by residents of the borough during the contract",
    "Carbon reduction, shown through a costed plan to cut emissions from fleet vehicles, buildings and deliveries",
    "Accessibility of the service for disabled residents, including easy-read material and step-free premises",
    "Data protection arrangements, including where data is held, who may see it and how breaches are reported",
    "Fair payment of subcontractors within thirty days, evidenced by invoices sampled at each quarterly review",
    "Community benefit such as volunteering days, school visits and work placements for care leavers each year",
    "Financial standing of the bidder, tested against audited accounts for the last three completed financial years",
    "Social value commitments, priced and timetabled, with a named manager who reports on them twice a year",
    "Innovation, meaning new ways of delivering the service that cut cost or improve outcomes for residents",
    "Continuity plans covering staff absence, severe weather, supplier failure and loss of computer systems",
    "Equality of opportunity in recruitment, with the bidder's own workforce data published every year",
]

POLICY = f"""# Riverton Council Procurement Policy

## 1. Purpose

Riverton Council buys goods and services worth about £40 million each year. The policy was adopted by the Cabinet \
in March 2023. It was written by the Corporate Procurement Unit with the Finance Directorate.

## 2. Key responsibilities

The policy gives duties to three groups of people:

### Budget holders

Budget holders approve the need to buy and keep within their approved budget at all times.

### The procurement team

The procurement team runs every tender above £25,000 and keeps the contracts register up to date.

### Suppliers

Suppliers must meet the council's code of conduct and report any conflict of interest straight away.

## 3. Evaluation criteria

The council scores every tender against the following criteria:

{chr(10).join(f"- {c}." for c in CRITERIA)}

## 4. Local suppliers

The Local Supplier Register (LSR) lists firms based in the borough that have passed basic checks. Officers must \
invite at least one firm from the register to quote for any purchase below £25,000.
"""


@pytest.fixture
def policy(ingest_document) -> Settings:
    return ingest_document("riverton-procurement-policy.md", POLICY)


def _chunks(settings: Settings) -> list[tuple[int, str, str]]:
    got = get_services(settings).store.get(include=["documents", "metadatas"])
    return sorted((m["position"], m["section"], d) for d, m in zip(got.documents, got.metadatas, strict=True))


def test_the_evaluation_list_is_split_across_chunks(policy) -> None:
    """The premise of the continued-list case: the lead-in and the last criteria sit in different chunks."""
    chunks = _chunks(policy)
    holding_lead = [text for _, _, text in chunks if "following criteria:" in text]
    assert len(holding_lead) == 1 and CRITERIA[-1] not in holding_lead[0]
    assert any(CRITERIA[-1] in text for _, _, text in chunks)


@pytest.mark.parametrize(
    ("question", "history", "present", "absent"),
    [
        pytest.param(
            "What are the evaluation criteria?",
            None,
            ["following criteria", CRITERIA[0][:40], CRITERIA[4][:40], CRITERIA[-1][:40]],
            [],
            id="list continued in the next chunk",
        ),
        pytest.param(
            "What are the key responsibilities?",
            None,
            ["Budget holders", "The procurement team", "Suppliers"],
            [],
            id="outline: child headings",
        ),
        pytest.param(
            "What does LSR stand for?", None, ["Local Supplier Register (LSR)"], ["Cabinet"], id="acronym expansion"
        ),
        pytest.param(
            "When was the policy adopted, and who wrote it?",
            None,
            ["March 2023", "Corporate Procurement Unit"],
            [],
            id="multi-part",
        ),
        pytest.param(
            "Who wrote it?",
            [
                {"role": "user", "content": "When was the Riverton procurement policy adopted?"},
                {"role": "assistant", "content": "The policy was adopted by the Cabinet in March 2023. [1]"},
            ],
            ["Corporate Procurement Unit"],
            ["adopted by the Cabinet"],
            id="follow-up: new information, not a repeat",
        ),
        pytest.param(
            "How much does Riverton Council spend each year?", None, ["£40 million"], [], id="how much: the figure"
        ),
    ],
)
def test_answer_shapes(policy, question, history, present, absent) -> None:
    answer = ask(question, history, settings=policy, backend="extractive")
    assert not answer.refused, answer.answer
    for text in present:
        assert text in answer.answer, answer.answer
    for text in absent:
        assert text not in answer.answer, answer.answer
    assert answer.grounding.supported == answer.grounding.total > 0
    assert not any(line.rstrip().endswith(":") for line in answer.answer.splitlines())  # no bare lead-in


SCHEME = """# Riverton Winter Support Scheme

## 1. About the scheme

In response to rising energy prices, the council has launched a Winter Support Scheme for residents over 70. \
While the existing hardship grants stay the same, this scheme adds free boiler checks and a one-off heating \
payment of £150 per household. The latest revision of the heating payment raised it for households with a \
disabled member. The revision was agreed on 4 February 2024.

The scheme's budget was approved by the Health and Wellbeing Board after a public consultation.

## 2. Applying

Residents should apply through the portal at https://winter.riverton.example/apply. The old address of the \
scheme, http://help.riverton.example/winter, was the address for applications in its first year. Both are valid \
and lead to the same form, though the new address is preferred.

## 3. Making a complaint

Complaints about the scheme are handled by the Customer Relations Team within twenty working days. A complaint \
must give, at the very least:

Your full name.
Your home address.
The date of the visit.
The name of the officer involved.

Complaints without these details are returned to the sender.

## 4. Take-up

Take-up of the scheme is low in the north of the borough. Take-up is often low because many eligible residents do \
not know they qualify.
"""


@pytest.fixture
def scheme(ingest_document) -> Settings:
    return ingest_document("riverton-winter-support.md", SCHEME)


@pytest.mark.parametrize(
    ("question", "present", "absent"),
    [
        pytest.param(
            "What does the Winter Support Scheme add?",
            ["free boiler checks"],
            [],
            id="what does X add: the next sentence, which refers back to X",
        ),
        pytest.param(
            "What must a complaint give at the very least?",
            ["Your full name", "Your home address", "The date of the visit", "The name of the officer"],
            [],
            id="a list set as short lines without bullets",
        ),
        pytest.param(
            "What is the date of the latest revision of the heating payment?",
            ["4 February 2024"],
            [],
            id="what is the date of: the sentence holding a date",
        ),
        pytest.param(
            "Who approved the scheme's budget?",
            ["Health and Wellbeing Board"],
            ["Customer Relations Team"],
            id="who: the name that did it",
        ),
        pytest.param(
            "Why is take-up of the scheme low?",
            ["do not know they qualify"],
            [],
            id="why: the sentence that gives a reason",
        ),
        pytest.param(
            "Which address should residents apply through, and is the old address still valid?",
            ["https://winter.riverton.example/apply", "Both are valid"],
            [],
            id="yes/no part: the sentence that says whether",
        ),
    ],
)
def test_fact_and_list_selection(scheme, question, present, absent) -> None:
    answer = ask(question, settings=scheme, backend="extractive")
    assert not answer.refused, answer.answer
    for text in present:
        assert text in answer.answer, answer.answer
    for text in absent:
        assert text not in answer.answer, answer.answer
    assert answer.grounding.supported == answer.grounding.total > 0


def test_asking_again_for_what_was_said_says_so(policy) -> None:
    question = "What does LSR stand for?"
    first = ask(question, settings=policy, backend="extractive")
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": first.answer}]
    again = ask(question, history, settings=policy, backend="extractive")
    assert "Local Supplier Register" in first.answer and not first.answer.startswith("As above")
    assert again.answer == f"As above: {first.answer}"


def test_related_text_without_what_is_named_is_not_covered(policy) -> None:
    answer = ask("What is the procurement threshold in Scotland in 2025?", settings=policy, backend="extractive")
    assert answer.refused
    assert "Scotland" in answer.answer and "£25,000" not in answer.answer
    assert len(answer.answer) < 200 and "\n" not in answer.answer


def test_the_local_model_sees_only_the_units_and_unsupported_sentences_fall_back(policy, fake_chat) -> None:
    model = fake_chat("The council was founded by Vikings in 1066 [1].")
    answer = ask("When was the policy adopted?", settings=policy, backend="local", llm=model)
    prompt = model.prompts[0][-1].content
    assert "March 2023" in prompt
    assert "code of conduct" not in prompt and "£40 million" not in prompt  # not the whole chunks
    assert "Vikings" not in answer.answer and "March 2023" in answer.answer
    assert answer.grounding.unsupported


def test_the_local_model_may_shorten_but_not_drop_a_fact(policy, fake_chat) -> None:
    question = "When was the policy adopted, and who wrote it?"
    shortened = fake_chat("The policy was adopted by the Cabinet in March 2023 [1].")
    answer = ask(question, settings=policy, backend="local", llm=shortened)
    assert "March 2023" in answer.answer and "Corporate Procurement Unit" in answer.answer
    assert answer.answer.count("March 2023") == 1  # the model's sentence carries that unit: not repeated
