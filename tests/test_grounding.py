"""Sentence-level answer verification, with the real bundled embedding model and real corpus passages.

The labelled pairs in ``evals/datasets/grounding_pairs.jsonl`` are split exactly as ``evals.calibrate`` splits
them; the checker's balanced accuracy on the held-out half is computed here, not copied from the calibration.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.grounding import (
    CrossEncoderChecker,
    EmbeddingChecker,
    GroundingChecker,
    SupportFeatures,
    best_quote,
    is_supported,
)
from assistant.services import get_services
from assistant.text import content_words, split_sentences, strip_citations
from evals.calibrate import DEFAULT_PAIRS, calibrate, load_pairs, metrics, split_pairs
from ingest.loaders import load_file

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
HARD_PAIRS = DEFAULT_PAIRS.with_name("grounding_pairs_hard.jsonl")

# The calibrated checker scores 0.921 balanced accuracy on the held-out half (see the constants' comment in
# assistant/grounding.py; 0.889 before the wording checks). Ablations before those, each recalibrated on the
# calibration half: cosine alone 0.66; cosine + overlap without the identifier and negation checks 0.73; without
# only the binding check 0.84, without only the negation check 0.84. A floor of 0.80 leaves room for new hard
# pairs and numeric drift between torch builds, and fails if the identifier checks break; the tables below pin
# the binding, negation and wording checks.
HELD_OUT_BALANCED_ACCURACY_FLOOR = 0.80


def _section(doc: str, start: str, end: str | None = None) -> str:
    """Real corpus text: from the line starting with ``start`` up to (not including) the one with ``end``."""
    text = load_file(CORPUS / f"{doc}.md").text
    begin = text.index(start)
    stop = text.index(end, begin) if end else len(text)
    return text[begin:stop].strip()


TOMS = _section("lga-national-toms", "The LGA have partnered", "To download TOM resources")
ACT = _section("social-value-act-and-model", "The Social Value Act was introduced", "### COVID-19 recovery")
COMMISSIONING = _section("oecd-public-sector-skills", "Not all public services", "### Professional skills:")
CIPFA_ABC = _section("cipfa-ifac-good-governance", "Good governance is seen", "- C. Defining")
CIPFA_CG = _section("cipfa-ifac-good-governance", "- C. Defining", "[1] The “Plan-Do-Check-Act Cycle,”")
MODEL = _section("social-value-act-and-model", "In support of this")  # sibling sections packed: ### headings inside
OECD_INTRO = _section("oecd-public-sector-skills", "Public value describes", "## 1. Policy advice")
CIPFA_ALL = _section("cipfa-ifac-good-governance", "Good governance is seen", "[1] The “Plan-Do-Check-Act Cycle,”")

# Guidance from outside the corpus, as text tools give it: the Debian Policy Manual 4.6.2 (debian-policy package),
# its plain-text edition (hard wraps, *emphasis*, "quoted" names split at a hyphen) and its PDF read by pypdf
# (hard wraps, hyphenated line ends).
POLICY_MAIN = """Every package in *main* must comply with the DFSG (Debian Free
Software Guidelines).  [3]

In addition, the packages in *main*

* must not require or recommend a package outside of *main* for
  compilation or execution (thus, the package must not declare a "Pre-
  Depends", "Depends", "Recommends", "Build-Depends", "Build-Depends-
  Indep", or "Build-Depends-Arch" relationship on a non-*main* package
  unless that package is only listed as a non-default alternative for
  a package in *main*),"""
POLICY_PDF_TERMS = """• The terms should and should not, and the adjective recommended, denote best practices.
Non-conformance with these guidelines will generally be considered a bug, but will not necessarily render a
package unsuitable for dis-
tribution. These statements correspond to bug severities of important, normal, and minor. They are collectively
called Policy recommendations."""
POLICY_PDF_ESSENTIAL = """Maintainers should take great care in adding any programs, interfaces, or functionality to
essential packages. Packages may assume that functionality provided by essential packages is al-
ways available without declaring explicit dependencies, which means that removing functionality from the
Essential set is very difficult and is almost never done."""
POLICY_CHECKLIST = """11.8.4
   When computing the priority for alternatives for "/usr/bin/x
   -window-manager", start with a priority of 40, not 20, and don’t
   increase the priority based on support for the (obsolete) Debian
   menu system."""
POLICY_GENCONTROL = """"dpkg-gencontrol" must be called after all the files which are to go
into the package have been placed in the temporary build directory, so
that its calculation of the installed size of a package is correct."""
POLICY_MAINTAINER = """Every package must have a maintainer, except for orphaned packages as
described below. The maintainer may be one person or a group of people
reachable from a common email address, such as a mailing list."""
POLICY_PRIORITY = """Most Debian packages will have a priority of "optional". Priority
levels other than "optional" are only used for packages that should be
included by default in a standard installation of Debian."""
POLICY_RELEASE = """The Release Team can, at their discretion, downgrade a Policy
requirement to a Policy recommendation for a given release of the
Debian distribution. This may be done for only a specific package or
for the archive as a whole.

* The adjectives *encouraged* and *discouraged* denote places where
  Policy offers advice to maintainers, but maintainers are free to
  follow or not follow that advice."""


@pytest.fixture(scope="module")
def checker() -> GroundingChecker:
    checker = get_services(Settings()).checker
    if isinstance(checker, EmbeddingChecker):  # one batched encode for the whole dataset, not one per pair
        pairs = load_pairs(DEFAULT_PAIRS)
        checker.warm([p["sentence"] for p in pairs], sorted({p["passage"] for p in pairs}))
    return checker


# ---------------------------------------------------------------------------------------------- splitting


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One claim. Another claim.", ["One claim.", "Another claim."]),
        (
            "Good governance matters [1]. Principle A requires integrity.[2] Principle B needs openness. [3][4] End.",
            [
                "Good governance matters [1].",
                "Principle A requires integrity.[2]",
                "Principle B needs openness. [3][4]",
                "End.",
            ],
        ),
        (
            "The areas are:\n- Policy advice [1]\n- Service delivery. It engages people.\n* Commissioning\n1. Networks",
            [
                "The areas are:",
                "Policy advice [1]",
                "Service delivery.",
                "It engages people.",
                "Commissioning",
                "Networks",
            ],
        ),
        (
            "Skills include law, e.g. regulation, i.e. rules, statistics, etc. and more. Next one.",
            ["Skills include law, e.g. regulation, i.e. rules, statistics, etc. and more.", "Next one."],
        ),
        (
            "It lists economics, statistics, etc. Strategic skills follow.",
            ["It lists economics, statistics, etc.", "Strategic skills follow."],
        ),
        ("The term was coined by Mark H. Moore. It stuck.", ["The term was coined by Mark H. Moore.", "It stuck."]),
        (
            "See Sir Michael Barber's 2017 report. Dr. Smith agreed.",
            ["See Sir Michael Barber's 2017 report.", "Dr. Smith agreed."],
        ),
        ("The Act dates from 2012. It was amended in 2021.", ["The Act dates from 2012.", "It was amended in 2021."]),
        (
            "There are 4 areas: 1. Policy advice. 2. Service delivery.",
            ["There are 4 areas: 1. Policy advice.", "2. Service delivery."],
        ),
        (
            "It requires: A. Behaving with integrity. B. Ensuring openness.",
            ["It requires: A. Behaving with integrity.", "B. Ensuring openness."],
        ),
        (
            "In principles A and B. Principles C to G are linked.",
            ["In principles A and B.", "Principles C to G are linked."],
        ),
        (
            "## Summary\n\nA wrapped\nparagraph line. Is it? Yes!\n\n---\n",
            ["A wrapped paragraph line.", "Is it?", "Yes!"],
        ),
        ("The cost was 3.5 million. Fine.", ["The cost was 3.5 million.", "Fine."]),
        (
            "bzip2recover writes rec0001file.bz2 files. [1] bzip2recover searches for blocks. [3]",
            ["bzip2recover writes rec0001file.bz2 files. [1]", "bzip2recover searches for blocks. [3]"],
        ),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_keeps_sentences_as_substrings_of_a_one_line_answer() -> None:
    answer = "The Act was introduced in 2012 [1]. Central government must evaluate social value, e.g. in contracts [2]."
    assert all(sentence in answer for sentence in split_sentences(answer))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Principles C to G are linked [1].", "Principles C to G are linked."),
        ("A claim.[1][2]", "A claim."),
        ("A claim [1, 2] and more [3-4]", "A claim and more"),
        ("No markers here.", "No markers here."),
        ("It searches for blocks in .bz2 files [1].", "It searches for blocks in .bz2 files."),
        ("Packages ship no .pyc files. [2]", "Packages ship no .pyc files."),
    ],
)
def test_strip_citations(sentence: str, expected: str) -> None:
    assert strip_citations(sentence) == expected


def test_content_words_stem_drop_stopwords_keep_numbers_and_negation() -> None:
    words = content_words("The organisation's 48 Core Measures don't include four pillars [2].")
    assert {"48", "4", "core", "measur", "pillar", "not"} <= words
    assert not {"the", "2", "[2]"} & words  # stopwords and citation markers are gone
    assert content_words("organisation behaviour") == content_words("organization behavior")


# ---------------------------------------------------------------------------------------------- checking


@pytest.mark.parametrize(
    ("sentence", "passages", "expected"),
    [
        ("The National TOMs Framework has 48 core measures [1].", [TOMS], True),
        ("The National TOMs Framework has 50 core measures [1].", [TOMS], False),  # changed number
        ("The Social Value Act was introduced in 2012 [2].", [ACT], True),  # [2] is not a number of the claim
        ("The Social Value Act was introduced in 2010.", [ACT], False),
        ("The Social Value Model has 8 themes and 5 policy outcomes.", [ACT], False),  # numbers swapped
        (
            "Since 1 January 2021, major central government procurements must explicitly evaluate social value.",
            [ACT],
            True,
        ),
        ("Not all public services are delivered directly by public servants.", [COMMISSIONING], True),
        ("All public services are delivered directly by public servants.", [COMMISSIONING], False),  # negation dropped
        ("The OECD has 38 member countries.", [COMMISSIONING], False),  # general knowledge
        ("Principles C to G are linked via the plan-do-check-act cycle.", [CIPFA_CG], True),
        ("Principles C to G are linked via the plan-do-check-act cycle.", [CIPFA_ABC], False),  # other section
        ("Principle E is about developing the entity's capacity and leadership capability.", [CIPFA_CG], True),
        ("Principle B is about developing the entity's capacity and leadership capability.", [CIPFA_CG], False),
        # A chunk that packs sub-sections: an item is checked together with the heading it sits under.
        (
            "Under the tackling economic inequality theme, the model aims to create new jobs and new skills.",
            [MODEL],
            True,
        ),
        ("Improving community cohesion is one of the wellbeing outcomes.", [MODEL], True),
        ("The Social Value Model has 6 themes, including one on digital inclusion.", [MODEL], False),
        # One sentence citing two passages may join facts from both; one passage alone does not support it.
        (
            "The National TOMs Framework has 48 Core Measures, and the Social Value Model has 5 themes [1][2].",
            [TOMS, ACT],
            True,
        ),
        (
            "The National TOMs Framework has 48 Core Measures, and the Social Value Model has 5 themes [1][2].",
            [TOMS],
            False,
        ),
    ],
)
def test_clear_cut_cases(checker: GroundingChecker, sentence: str, passages: list[str], expected: bool) -> None:
    supported, score = is_supported(checker, sentence, passages)
    assert 0.0 <= score <= 1.0
    assert supported is expected, f"score {score:.3f} vs threshold {checker.threshold}"


def test_no_passage_supports_nothing(checker: GroundingChecker) -> None:
    assert is_supported(checker, "The Social Value Act was introduced in 2012.", []) == (False, 0.0)
    assert is_supported(checker, "[1]", [ACT]) == (False, 0.0)


def test_held_out_balanced_accuracy(checker: GroundingChecker) -> None:
    _, held_out = split_pairs(load_pairs(DEFAULT_PAIRS))
    assert len(held_out) >= 40 and {p["supported"] for p in held_out} == {True, False}
    predictions = [is_supported(checker, p["sentence"], [p["passage"]])[0] for p in held_out]
    result = metrics([p["supported"] for p in held_out], predictions)
    assert result["balanced_accuracy"] >= HELD_OUT_BALANCED_ACCURACY_FLOOR, result


def test_pairs_file_is_well_formed_and_balanced() -> None:
    pairs = load_pairs(DEFAULT_PAIRS)
    supported = sum(p["supported"] for p in pairs)
    assert len(pairs) >= 80
    assert 0.35 <= supported / len(pairs) <= 0.65
    corpus = " ".join(load_file(path).text for path in CORPUS.glob("*.md"))
    assert all(p["passage"] in corpus for p in pairs), "every passage is real corpus text"


def test_wrong_numbers_in_the_pairs_are_all_caught(checker: GroundingChecker) -> None:
    """The hallucination readers are least able to spot: every changed figure must be rejected."""
    wrong = [p for p in load_pairs(DEFAULT_PAIRS) if p.get("note", "").startswith(("wrong number", "wrong year"))]
    assert len(wrong) >= 8
    accepted = [p["sentence"] for p in wrong if is_supported(checker, p["sentence"], [p["passage"]])[0]]
    assert not accepted


# ---------------------------------------------------------------------------------------------- wording checks
# Each row: a faithful sentence, the same sentence with one mutation of the kind a generative backend makes, and
# the passage. The mutation must raise its own feature and fail; the faithful sentence must do neither.


def _check_mutation(
    checker: GroundingChecker, faithful: str, mutated: str, passage: str, feature: str
) -> tuple[SupportFeatures, SupportFeatures]:
    assert isinstance(checker, EmbeddingChecker)
    good, bad = checker.features(faithful, [passage]), checker.features(mutated, [passage])
    assert getattr(good, feature) == 0, good
    assert getattr(bad, feature) >= 1, bad
    assert is_supported(checker, faithful, [passage])[0], good
    supported, score = is_supported(checker, mutated, [passage])
    assert not supported, f"{mutated!r} scored {score:.3f}"
    return good, bad


@pytest.mark.parametrize(
    ("faithful", "mutated", "passage"),
    [
        (  # modality: must → need only
            "Major central government procurements must explicitly evaluate social value rather than just consider it.",
            "Major central government procurements need only consider social value rather than evaluate it.",
            ACT,
        ),
        (  # modality: obliged → may choose
            "Public bodies must consider how the services they procure might improve the well-being of their area.",
            "Public bodies may choose whether to consider how the services they procure might improve the well-being "
            "of their area.",
            ACT,
        ),
        (  # order: after → before
            "dpkg-gencontrol has to be called after all the files of the package are in the temporary build directory.",
            "dpkg-gencontrol has to be called before all the files of the package are in the temporary build "
            "directory.",
            POLICY_GENCONTROL,
        ),
        (  # direction: increasingly engaging → increasingly reducing
            "Central and local governments are increasingly engaging third parties to deliver services.",
            "Central and local governments are increasingly reducing their use of third parties to deliver services.",
            COMMISSIONING,
        ),
        (  # inclusion: except → including
            "Every package must have a maintainer, with the exception of orphaned packages.",
            "Every package must have a maintainer, including orphaned packages.",
            POLICY_MAINTAINER,
        ),
        (  # negation scope: both negate, each what the other asserts
            "Start with a priority of 40 for x-window-manager alternatives, not 20.",
            "Start with a priority of 20 for x-window-manager alternatives, not 40.",
            POLICY_CHECKLIST,
        ),
    ],
)
def test_reversals_are_caught(checker: GroundingChecker, faithful: str, mutated: str, passage: str) -> None:
    _check_mutation(checker, faithful, mutated, passage, "reversals")


@pytest.mark.parametrize(
    ("faithful", "mutated", "passage"),
    [
        (  # level and actor no passage has
            "Since 1st January 2021, central government has been required to go further than the 2012 Act.",
            "Since 1st January 2021, local councils have been required to go further than the 2012 Act.",
            ACT,
        ),
        (  # an actor of the passage swapped for another of it
            "The Release Team can downgrade a Policy requirement to a Policy recommendation for a given release.",
            "Package maintainers can downgrade a Policy requirement to a Policy recommendation for a given release.",
            POLICY_RELEASE,
        ),
        (  # most → all
            "Most Debian packages will have the priority optional.",
            "All Debian packages will have the priority optional.",
            POLICY_PRIORITY,
        ),
        (  # "all" bound to other words than in the passage
            "All major central government procurements must explicitly evaluate social value, where appropriate.",
            "All public procurements must explicitly evaluate social value, where appropriate.",
            ACT,
        ),
    ],
)
def test_scope_changes_are_caught(checker: GroundingChecker, faithful: str, mutated: str, passage: str) -> None:
    _check_mutation(checker, faithful, mutated, passage, "scope_changes")


@pytest.mark.parametrize(
    ("faithful", "mutated", "passage"),
    [
        (
            "Public bodies are obliged to consider how the services they commission might improve well-being.",
            "Above all other considerations, public bodies are obliged to consider how the services they commission "
            "might improve well-being.",
            ACT,
        ),
        (
            "Good governance is seen as critical to the ethical delivery of public services.",
            "Good governance is the most important factor in the ethical delivery of public services.",
            CIPFA_ABC,
        ),
        (
            "Public value describes the value that an organization contributes to society.",
            "Public value is the only measure of the value that an organization contributes to society.",
            OECD_INTRO,
        ),
        (  # "always" is in the passage, hyphenated across a line end
            "Packages may assume that what essential packages provide is always available without explicit "
            "dependencies.",
            "Packages may assume that what essential packages provide is the only functionality always available "
            "without explicit dependencies.",
            POLICY_PDF_ESSENTIAL,
        ),
        (  # a synonym of the passage's own strength is not invented: "always" for "at all times"
            "Entities should achieve their intended outcomes while always acting in the public interest.",
            "Entities should above all achieve their intended outcomes while always acting in the public interest.",
            CIPFA_ABC,
        ),
    ],
)
def test_invented_priority_is_caught(checker: GroundingChecker, faithful: str, mutated: str, passage: str) -> None:
    _check_mutation(checker, faithful, mutated, passage, "intensifiers")


@pytest.mark.parametrize(
    ("quote", "mutated", "passage"),
    [
        (  # PDF text: hard wraps and a word hyphenated across a line end
            "Non-conformance with these guidelines will generally be considered a bug, but will not necessarily "
            "render a package unsuitable for distribution.",
            "Non-conformance with these guidelines will not be considered a bug, and will render a package "
            "unsuitable for distribution.",
            POLICY_PDF_TERMS,
        ),
        (  # plain-text manual: *emphasis*, "quotes", names split at their hyphen, a list item
            "The package must not declare a Pre-Depends, Depends, Recommends, Build-Depends, Build-Depends-Indep, "
            "or Build-Depends-Arch relationship on a non-main package unless that package is only listed as a "
            "non-default alternative for a package in main.",
            "The package may declare a Pre-Depends, Depends, Recommends, Build-Depends, Build-Depends-Indep, "
            "or Build-Depends-Arch relationship on a non-main package even if that package is listed as the "
            "default alternative.",
            POLICY_MAIN,
        ),
        (  # PDF text: a word the checks look for ("always") hyphenated across a line end
            "Packages may assume that functionality provided by essential packages is always available without "
            "declaring explicit dependencies.",
            "Packages must assume that functionality provided by essential packages is always available without "
            "declaring explicit dependencies.",
            POLICY_PDF_ESSENTIAL,
        ),
        (  # a path split across two lines where it has a hyphen
            "When computing the priority for alternatives for /usr/bin/x-window-manager, start with a priority of "
            "40, not 20. [2]",
            "When computing the priority for alternatives for /usr/bin/x-window-manager, start with a priority of "
            "20, not 40. [2]",
            POLICY_CHECKLIST,
        ),
    ],
)
def test_verbatim_quotes_from_wrapped_text_pass(
    checker: GroundingChecker, quote: str, mutated: str, passage: str
) -> None:
    assert isinstance(checker, EmbeddingChecker)
    assert checker.features(quote, [passage]).quoted
    assert is_supported(checker, quote, [passage]) == (True, 1.0)
    assert not checker.features(mutated, [passage]).quoted
    assert not is_supported(checker, mutated, [passage])[0]


def test_a_quote_needs_enough_words_and_no_negation_before_it(checker: GroundingChecker) -> None:
    passage = "It is not necessary to list packages which are required merely because another package depends on them."
    assert isinstance(checker, EmbeddingChecker)
    assert checker.features("It is not necessary to list packages.", [passage]).quoted
    assert not checker.features("necessary to list packages which are required", [passage]).quoted  # "not" before
    assert not checker.features("It is not.", [passage]).quoted  # too short to count as a quote


def test_hard_pairs_file_is_well_formed_and_balanced() -> None:
    """The hard pairs (figures in docs/evaluation.md): every kind present, labels balanced, corpus passages real."""
    pairs = load_pairs(HARD_PAIRS)
    supported = sum(p["supported"] for p in pairs)
    assert len(pairs) >= 60
    assert 0.35 <= supported / len(pairs) <= 0.65
    kinds = {p["note"].split(":")[0].split()[0] for p in pairs}
    assert {
        "reversal",
        "scope",
        "actor",
        "priority",
        "strength",
        "wrong",
        "verbatim",
        "paraphrase",
        "shortened",
    } <= kinds
    corpus = " ".join(load_file(path).text for path in CORPUS.glob("*.md"))
    from_corpus = [p for p in pairs if p["source"] in {path.stem for path in CORPUS.glob("*.md")}]
    assert len(from_corpus) >= 20 and len(pairs) - len(from_corpus) >= 20, "corpus and outside guidance both"
    assert all(p["passage"] in corpus for p in from_corpus)


class _CountingEmbeddings:
    """The real model, counting how many texts each call embeds."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[int] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        return self.inner.embed_documents(texts)


def test_passage_embeddings_are_cached_and_batched() -> None:
    embeddings = _CountingEmbeddings(get_services(Settings()).embeddings)
    checker = EmbeddingChecker(embeddings)  # type: ignore[arg-type]
    checker.score("The Social Value Act was introduced in 2012.", [ACT])
    checker.score("The Social Value Model has 5 themes.", [ACT])
    assert len(embeddings.calls) == 2  # one batched encode per call
    assert embeddings.calls[0] > 1 and embeddings.calls[1] == 1  # the passage's windows only the first time


# ---------------------------------------------------------------------------------------------- configuration


def test_get_checker_default_and_threshold_override(checker: GroundingChecker) -> None:
    default = get_services(Settings()).checker
    assert isinstance(default, EmbeddingChecker) and default is checker
    # The default is what calibration picks on the calibration half of the labelled pairs, not just the
    # module's constant: a hand-edited constant fails here (the tolerance allows numeric drift between builds).
    calibrated = calibrate(embeddings=default.embeddings)  # the pairs' vectors are cached by the fixture
    assert default.name == "embedding" and default.weight == calibrated["weight"]
    assert default.threshold == pytest.approx(calibrated["threshold"], abs=0.01)
    assert get_services(Settings()).checker is default  # built once, so its cache is shared
    assert get_services(Settings(grounding_threshold=0.42)).checker.threshold == 0.42


@pytest.mark.parametrize(
    ("checker_name", "threshold", "message"),
    [
        ("keywords", None, "unknown grounding checker"),
        ("nli:/no/such/folder", None, "no cross-encoder folder"),
        ("nli:", None, "no cross-encoder folder"),
        ("embedding", 1.5, "within 0..1"),
    ],
)
def test_get_checker_errors(checker_name: str, threshold: float | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _ = get_services(Settings(grounding_checker=checker_name, grounding_threshold=threshold)).checker


def test_nli_checker_loads_a_local_cross_encoder(tmp_path: Path) -> None:
    """A tiny random cross-encoder built on the spot (nothing downloaded): the plumbing, not the judgement."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from assistant.models.embeddings import bundled_embedding_path

    tokenizer = AutoTokenizer.from_pretrained(str(bundled_embedding_path()), local_files_only=True)
    labels = {0: "contradiction", 1: "entailment", 2: "neutral"}
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=3,
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    BertForSequenceClassification(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)

    checker = get_services(Settings(grounding_checker=f"nli:{tmp_path}", grounding_threshold=0.3)).checker
    assert isinstance(checker, CrossEncoderChecker) and checker.name == f"nli:{tmp_path}"
    assert checker.threshold == 0.3
    score = checker.score("The Social Value Act was introduced in 2012 [1].", [ACT, TOMS])
    assert 0.0 <= score <= 1.0
    assert checker._entailment_index(3) == 1
    assert checker.score("anything", []) == 0.0


# ---------------------------------------------------------------------------------------------- quotes


@pytest.mark.parametrize(
    ("claim", "passage", "must_contain"),
    [
        ("Principles C to G are linked via the plan-do-check-act cycle", CIPFA_CG, ["plan-do-check-act", "C to G"]),
        ("The TOMs have 48 core measures", TOMS, ["48 Core Measures"]),
        ("Principle E covers developing the entity's capacity", CIPFA_CG, ["E. Developing the entity"]),
        # A claim spanning two adjacent sentences gets both, as one exact span of the passage.
        (
            "Since 2021 central government must go further than the 2012 Act: major procurements must explicitly "
            "evaluate social value",
            ACT,
            ["From 1st January 2021", "explicitly evaluate social value"],
        ),
    ],
)
def test_best_quote(claim: str, passage: str, must_contain: list[str]) -> None:
    quote = best_quote(claim, passage, get_services(Settings()).embeddings)
    assert quote in passage
    assert len(quote) < len(passage)
    for phrase in must_contain:
        assert phrase in quote


def test_best_quote_of_a_list_item_drops_the_marker() -> None:
    quote = best_quote(
        "Reducing the disability employment gap",
        "- Reduce the disability employment gap\n- Tackle x",
        get_services(Settings()).embeddings,
    )
    assert quote == "Reduce the disability employment gap"
