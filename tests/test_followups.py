"""Follow-ups resolved against the conversation, and the local model's put-back, over a made-up document.

The rewrite rules are checked on their own (pure text); the answers run on real Chroma in the test's data dir with
the real embedding model, the local backend's contract with the scripted fake chat model.
"""

from __future__ import annotations

import pytest

from assistant.answer import ask
from assistant.config import Settings
from assistant.followup import asks_to_read_on, rewrite_followup
from assistant.types import SentenceCheck
from assistant.unit_prompt import with_units

HANDBOOK = """# Northvale Housing Handbook

## 1. About this handbook

The handbook was written by Priya Natarajan, the Head of Tenancy Services. Her email address is \
tenancy.office@northvale.example. The handbook was last reviewed in June 2024.

## 2. Licence terms

Each licence has a short name used in tenancy records:

- ST-A | Secure tenancy with a fixed rent review date.
- ST-AS | Secure tenancy with a shared ownership option.
- FT-B | Flexible tenancy for five years.

## 3. Partner schemes

The council also links its lettings to other regional housing schemes and programmes. Examples include the \
Homes for Key Workers scheme, the Riverside Downsizing Programme and the Warm Homes Grant.

The council reviews every partnership every two years.
"""


def _turn(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        (_turn("Who wrote the handbook?", "It was written by Priya Natarajan, the Head of Tenancy Services. [1]"),
         "What is her email address?", "What is Priya Natarajan's email address?"),
        (_turn("Who coined the term?", "The term was coined by Harvard professor Jane Q. Roe. [1]"),
         "When did he retire?", "When did Jane Q. Roe retire?"),
        (_turn("What does the licence short name ST-A mean?", "Secure tenancy with a fixed rent review date. [1]"),
         "And ST-AS?", "What does the licence short name ST-AS mean?"),
        (_turn("What does the principle 'Be open' mean?", "Be open – publish the reasons. [1]"),
         "And 'Be fair'?", "What does the principle 'Be fair' mean?"),
        # no person in the answer: "it" keeps the bracketed context, the ask is unchanged
        (_turn("What is the handbook?", "A guide to tenancies. [1]"), "Who wrote it?", "Who wrote it (handbook)?"),
    ],
)  # fmt: skip
def test_the_rewrite_keeps_the_ask_and_takes_the_subject(history, question: str, expected: str) -> None:
    assert rewrite_followup(question, history) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Give some examples of those.", True),
        ("Which ones?", True),
        ("Can you name them?", True),
        ("What's an example of the environmental one?", False),
        ("What examples does the handbook give of secure tenancies?", False),
    ],
)
def test_asks_to_read_on(question: str, expected: bool) -> None:
    assert asks_to_read_on(question) is expected


def _check(text: str, supported: bool = True) -> SentenceCheck:
    return SentenceCheck(text=text, citations=[1], supported=supported, score=0.9)


def test_a_unit_the_model_shortened_away_is_put_back_in_its_place() -> None:
    units = [_check("The scheme was adopted in March 2023 by the Cabinet."), _check("It covers 40 estates.")]
    model = [_check("The scheme was adopted in 2023."), _check("It covers 40 estates.")]
    shown = with_units(model, units)
    assert [s.text for s in shown] == [units[0].text, "It covers 40 estates."]


def test_a_unit_whose_word_the_model_changed_in_form_replaces_the_models_copy() -> None:
    units = [_check("C. Ensuring openness and fair treatment of tenants."), _check("It covers 40 estates.")]
    model = [_check("The answer is: C. Ensuring open and fair treatment of tenants."), _check("It covers 40 estates.")]
    shown = with_units(model, units)
    assert [s.text for s in shown] == [units[0].text, "It covers 40 estates."]


def test_a_model_sentence_holding_every_fact_of_a_unit_stays() -> None:
    units = [_check("The scheme was adopted in March 2023.")]
    model = [_check("In March 2023, the scheme was adopted by the council.")]
    assert with_units(model, units) == model


def test_units_are_put_back_after_model_text_that_says_something_else() -> None:
    units = [_check("Rents are reviewed every April.")]
    model = [_check("The handbook covers tenancies."), _check("Made-up claim.", supported=False)]
    assert [s.text for s in with_units(model, units)] == [*(s.text for s in model), units[0].text]


@pytest.fixture
def handbook(ingest_document) -> Settings:
    return ingest_document("northvale-housing-handbook.md", HANDBOOK)


@pytest.mark.parametrize(
    ("history", "question", "present", "absent"),
    [
        pytest.param(
            _turn("What does the licence short name ST-A mean?", "Secure tenancy with a fixed rent review date. [1]"),
            "And ST-AS?", ["shared ownership"], ["As above"], id="And X? → the previous question about X",
        ),
        pytest.param(
            _turn(
                "Which other schemes does the council link its lettings to?",
                "The council also links its lettings to other regional housing schemes and programmes. [1]",
            ),
            "Give some examples of those.", ["Homes for Key Workers", "Warm Homes Grant"], ["As above"],
            id="examples of those → read on",
        ),
    ],
)  # fmt: skip
def test_follow_up_answers(handbook, history, question: str, present: list[str], absent: list[str]) -> None:
    answer = ask(question, history, settings=handbook, backend="extractive")
    assert not answer.refused, answer.answer
    for text in present:
        assert text in answer.answer, answer.answer
    for text in absent:
        assert text not in answer.answer, answer.answer


def test_the_local_model_declining_leaves_the_units(handbook, fake_chat) -> None:
    model = fake_chat("NOT_COVERED")
    answer = ask("When was the Northvale handbook last reviewed?", settings=handbook, backend="local", llm=model)
    assert not answer.refused and "June 2024" in answer.answer


def test_the_local_model_is_not_asked_to_rewrite_a_follow_up(handbook, fake_chat) -> None:
    model = fake_chat("What is the weather?", "The handbook was last reviewed in June 2024 [1].")
    history = _turn("Who wrote the Northvale housing handbook?", "The handbook was written by Priya Natarajan. [1]")
    answer = ask("When did she last review it?", history, settings=handbook, backend="local", llm=model)
    assert model.calls == 1 and answer.standalone_question and "weather" not in answer.standalone_question
