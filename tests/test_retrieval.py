"""Hybrid retrieval and follow-up rewriting, on a real Chroma with the real embedding model (no mocks).

Corpus questions run against the session's read-only ``corpus_settings`` index; tests that write use the
per-test ``settings`` data dir and ``ingest_paths``.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.followup import MAX_REWRITE_CHARS, is_followup, rewrite_followup
from assistant.index import bm25
from assistant.index import store as store_module
from assistant.index.bm25 import index_dir, tokenize_query
from assistant.index.store import bump_generation, read_generation
from assistant.retrieval import reciprocal_rank_fusion, search
from assistant.services import forget, get_services
from ingest import ingest_paths, remove_document

# question → the framework that answers it, and a phrase in the chunk (heading path or text) that does
CORPUS_CASES = [
    ("How does the public body use cost benchmarking?", "uk-public-value-framework", "Benchmarking"),
    ("What are the five themes of the Social Value Model?", "social-value-act-and-model", "5 themes"),
    ("What is principle F of good governance?", "cipfa-ifac-good-governance", "Managing risks and performance"),
    ("innovation skills for commissioning", "oecd-public-sector-skills", "Commissioning and contracting"),
    ("What does do not over-claim mean?", "social-value-principles", "Do not over-claim"),
    ("How many core measures do the National TOMs have?", "lga-national-toms", "48 Core Measures"),
    ("Which questions cover user and citizen engagement?", "uk-public-value-framework", "Pillar three"),
    ("How should a public body plan its workforce capacity?", "uk-public-value-framework", "Workforce capacity"),
    ("Who coined the term public value?", "oecd-public-sector-skills", "Mark H. Moore"),
    ("When was the Social Value Act introduced?", "social-value-act-and-model", "2012"),
    ("What is the Covid-19 Plug-in for the TOMs?", "lga-national-toms", "Covid-19 Plug-in"),
    ("What is the plan-do-check-act cycle?", "cipfa-ifac-good-governance", "Deming"),
    ("What are the three categories of social value?", "social-value-principles", "three categories"),
    ("skills for managing networks and partnerships", "oecd-public-sector-skills", "Managing networks"),
    ("reduce the disability employment gap", "social-value-act-and-model", "disability employment gap"),
    ("behaving with integrity and respecting the rule of law", "cipfa-ifac-good-governance", "integrity"),
]


def _hit(results, doc_id: str, phrase: str) -> bool:
    return any(r.doc_id == doc_id and phrase.lower() in f"{r.section}\n{r.text}".lower() for r in results)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _doc(doc_id: str, title: str, sections: dict[str, str]) -> str:
    body = "".join(f"## {heading}\n\n{text}\n\n" for heading, text in sections.items())
    return f"---\nid: {doc_id}\ntitle: {title}\n---\n# {title}\n\n{body}"


# Several sections, each with a look-alike form code: only one holds QZ-7781.
TRAVEL = {
    "Rail": "Use form QZ-7718 for season tickets. Staff travel standard class by rail for journeys under three "
    "hours. Railcards are reimbursed when they save money over the year.",
    "Air": "Flights need director approval on form QZ-7178. Economy class only, whatever the distance. Airport "
    "parking is reimbursed for the cheapest option.",
    "Hotels": "Hotel stays are capped per night (form QZ-1877) and must be booked through the approved agent. "
    "Minibar charges and room upgrades are personal costs.",
    "Expense claims": "Claims are submitted within thirty days with receipts attached, on form QZ-7781. Late "
    "claims need a written reason, and lost receipts need a signed declaration.",
    "Approvals": "Line managers approve travel in advance on form QZ-8177; directors approve anything abroad. "
    "Approval must be recorded before any booking is made.",
    "Safety": "Travellers abroad file form QZ-7871 and register their itinerary with the security team. Lone "
    "working on site visits needs a check-in call at the end of each day.",
}


@pytest.fixture
def small_chunks(settings: Settings) -> Settings:
    """The per-test data dir with a small chunk window, so each short section is its own chunk."""
    return settings.model_copy(update={"chunk_tokens": 64})


# --------------------------------------------------------------------------------------------- corpus


@pytest.mark.parametrize(("question", "doc_id", "phrase"), CORPUS_CASES)
def test_hybrid_finds_the_framework_that_answers(corpus_settings, question: str, doc_id: str, phrase: str) -> None:
    results = search(question, corpus_settings)
    assert len(results) == corpus_settings.top_k
    assert _hit(results, doc_id, phrase), [(r.doc_id, r.section) for r in results]


def test_hit_rate_by_mode(corpus_settings, capsys) -> None:
    """hit@1, hit@3 and hit@k of each mode on the table above; printed so every run shows the comparison."""
    k = corpus_settings.top_k
    depths = sorted({1, 3, k})
    rates: dict[str, dict[int, int]] = {}
    rankings: dict[str, list[list[str]]] = {}
    for mode in ("dense", "bm25", "hybrid"):
        runs = [(search(q, corpus_settings, k=k, mode=mode), d, p) for q, d, p in CORPUS_CASES]
        rates[mode] = {n: sum(_hit(results[:n], d, p) for results, d, p in runs) for n in depths}
        rankings[mode] = [[r.id for r in results] for results, _, _ in runs]
    with capsys.disabled():
        print(f"\nhits on {len(CORPUS_CASES)} corpus questions, by depth: {rates}")
    assert rates["hybrid"][k] == len(CORPUS_CASES)
    for n in depths:  # at every depth, not only at k where one side alone already finds them all
        assert rates["hybrid"][n] >= max(rates["dense"][n], rates["bm25"][n]), n
    # The fused ranking is neither side's ranking alone.
    for side in ("dense", "bm25"):
        assert rankings["hybrid"] != rankings[side], f"hybrid ranks every question exactly as {side} does"


def test_result_shape_and_scores(corpus_settings) -> None:
    results = search("How does the public body use cost benchmarking?", corpus_settings, k=4)
    assert len(results) == 4 and len({r.id for r in results}) == 4
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    for r in results:
        assert r.text and r.title and r.source and r.section
        assert r.id.startswith(f"{r.doc_id}::")
        assert r.dense is not None or r.bm25 is not None
        assert r.dense is None or 0.0 <= r.dense <= 1.0
        assert r.bm25 is None or r.bm25 > 0
        assert 0 <= r.start < r.end
    # Found by both sides: the fused score is the sum of two reciprocal ranks, at most 2 / 61.
    assert results[0].dense is not None and results[0].bm25 is not None
    assert 1 / 61 < results[0].score <= 2 / 61


@pytest.mark.parametrize(
    ("mode", "dense_set", "bm25_set"), [("dense", True, False), ("bm25", False, True), ("hybrid", True, True)]
)
def test_modes_report_only_their_sides(corpus_settings, mode: str, dense_set: bool, bm25_set: bool) -> None:
    results = search("social value themes and outcomes", corpus_settings, k=3, mode=mode)
    assert len(results) == 3
    assert any(r.dense is not None for r in results) is dense_set
    assert any(r.bm25 is not None for r in results) is bm25_set


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize(
    "doc_ids",
    [["lga-national-toms"], "lga-national-toms", ["lga-national-toms", "social-value-act-and-model"]],
)
def test_framework_filter_restricts_both_sides(corpus_settings, mode: str, doc_ids) -> None:
    allowed = {doc_ids} if isinstance(doc_ids, str) else set(doc_ids)
    # A question whose best answers are elsewhere (UK framework): the filter must still hold.
    question = "How does the public body use cost benchmarking and social value?"
    results = search(question, corpus_settings, k=5, mode=mode, doc_ids=doc_ids)
    assert results and {r.doc_id for r in results} <= allowed
    unfiltered = search("How does the public body use cost benchmarking?", corpus_settings, k=5, mode=mode)
    assert unfiltered[0].doc_id == "uk-public-value-framework"


def test_empty_filter_means_every_framework(corpus_settings) -> None:
    question = "What is principle F of good governance?"
    assert [r.id for r in search(question, corpus_settings, doc_ids=[])] == [
        r.id for r in search(question, corpus_settings)
    ]


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_is_refused(corpus_settings, query: str) -> None:
    with pytest.raises(ValueError, match="query is empty"):
        search(query, corpus_settings)


def test_bad_arguments_are_refused(corpus_settings) -> None:
    with pytest.raises(ValueError, match="mode"):
        search("governance", corpus_settings, mode="sparse")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be"):
        search("governance", corpus_settings, k=0)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_empty_store_returns_nothing(settings: Settings, mode: str) -> None:
    assert search("What is social value?", settings, mode=mode) == []


def test_k_larger_than_the_store(small_chunks: Settings, tmp_path: Path) -> None:
    ingest_paths([_write(tmp_path, "travel.md", _doc("travel", "Travel Policy", TRAVEL))], small_chunks)
    every = set(get_services(small_chunks).store.all_ids())
    assert len(every) == len(TRAVEL) + 1  # a chunk per section and the title's outline chunk
    for mode in ("hybrid", "dense", "bm25"):
        results = search("travel approval", small_chunks, k=len(every) + 10, mode=mode)
        assert len(results) == len({r.id for r in results}), f"{mode}: a chunk is returned twice"
        assert {r.id for r in results} <= every
    hybrid = search("travel approval", small_chunks, k=len(every) + 10)
    assert {r.id for r in hybrid} == every, "k beyond the store gives every chunk once"


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]])
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61) and fused["d"] == pytest.approx(1 / 62)
    assert max(fused, key=fused.get) == "b"


# --------------------------------------------------------------------------------------------- BM25 vs dense


def test_bm25_finds_an_exact_code_that_dense_misses(small_chunks: Settings, tmp_path: Path) -> None:
    ingest_paths([_write(tmp_path, "travel.md", _doc("travel", "Travel Policy", TRAVEL))], small_chunks)
    assert get_services(small_chunks).store.count() == len(TRAVEL) + 1  # sections and the title's outline
    query = "form QZ-7781"
    dense = search(query, small_chunks, k=3, mode="dense")
    keyword = search(query, small_chunks, k=3, mode="bm25")
    hybrid = search(query, small_chunks, k=3)
    assert keyword[0].section.endswith("Expense claims")
    assert not any(r.section.endswith("Expense claims") for r in dense), [r.section for r in dense]
    assert any(r.section.endswith("Expense claims") and r.bm25 for r in hybrid)


def test_stemming_and_stop_words() -> None:
    assert tokenize_query("The benchmarking of costs") == tokenize_query("benchmark cost")
    assert tokenize_query("the and of") == []
    assert "f" in tokenize_query("principle F")  # single letters and digits are identifiers here


# --------------------------------------------------------------------------------------------- freshness


def _bm25_ids(settings: Settings, query: str) -> set[str]:
    return {r.doc_id for r in search(query, settings, k=10, mode="bm25")}


def test_bm25_follows_ingest_and_remove(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    _write(folder, "alpha.md", _doc("alpha", "Alpha Note", {"Codes": "The alpha code word is quillbrook."}))
    ingest_paths([folder], settings)
    assert _bm25_ids(settings, "quillbrook") == {"alpha"}
    assert _bm25_ids(settings, "marrowfen") == set()

    _write(folder, "beta.md", _doc("beta", "Beta Note", {"Codes": "The beta code word is marrowfen."}))
    ingest_paths([folder / "beta.md"], settings)
    assert _bm25_ids(settings, "marrowfen") == {"beta"}

    _write(folder, "alpha.md", _doc("alpha", "Alpha Note", {"Codes": "The alpha code word is now thistledown."}))
    ingest_paths([folder / "alpha.md"], settings)  # same count: one chunk replaced by one
    assert _bm25_ids(settings, "quillbrook") == set()
    assert _bm25_ids(settings, "thistledown") == {"alpha"}

    remove_document("beta", settings)
    assert _bm25_ids(settings, "marrowfen") == set()
    assert {r.doc_id for r in search("marrowfen code word", settings, k=10)} == {"alpha"}


def _foreign_write(settings: Settings, doc_id: str, text: str, drop: list[str]) -> str:
    """Write the way another machine sharing a Chroma server would: straight to the collection, no marker."""
    store = get_services(settings).store
    chunk_id = f"{doc_id}::{abs(hash(text)):016x}"[:40]
    store.upsert(
        ids=[chunk_id],
        embeddings=get_services(settings).embeddings.embed_documents([text]),
        documents=[text],
        metadatas=[{"doc_id": doc_id, "title": doc_id, "source": "elsewhere", "section": doc_id, "position": 0}],
    )
    if drop:
        store.delete(drop)
    return chunk_id


def test_writes_by_another_process_are_noticed(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    ingest_paths([_write(tmp_path, "alpha.md", _doc("alpha", "Alpha", {"Codes": "Code word quillbrook."}))], settings)
    assert _bm25_ids(settings, "quillbrook") == {"alpha"}
    generation = read_generation(settings)

    # Count changes (a chunk added, none removed): without a marker, noticed once the cached count is older
    # than COUNT_MAX_AGE (a second by default; an hour here, then none).
    monkeypatch.setattr(store_module, "COUNT_MAX_AGE", 3600.0)
    _foreign_write(settings, "remote", "Remote code word lanternfish.", drop=[])
    assert read_generation(settings) == generation
    assert _bm25_ids(settings, "lanternfish") == set()
    monkeypatch.setattr(store_module, "COUNT_MAX_AGE", 0.0)
    assert _bm25_ids(settings, "lanternfish") == {"remote"}

    # One chunk replaced by one: marker and count unchanged. Until the periodic id check, the old index may
    # still score the deleted chunk, but it is never returned (results come from Chroma)...
    old = get_services(settings).store.all_ids(where={"doc_id": "alpha"})
    _foreign_write(settings, "alpha", "Replacement code word emberstone.", drop=old)
    assert "alpha" not in _bm25_ids(settings, "quillbrook")
    # ...and once the check is due, the index is rebuilt and finds the new chunk.
    monkeypatch.setattr(bm25, "VERIFY_SECONDS", 0.0)
    assert _bm25_ids(settings, "emberstone") == {"alpha"}


# --------------------------------------------------------------------------------------------- persistence


def test_index_is_saved_reused_and_rebuilt_when_the_collection_changes(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    _write(folder, "alpha.md", _doc("alpha", "Alpha", {"Codes": "Code word quillbrook."}))
    ingest_paths([folder], settings)
    forget("bm25")
    start = dict(bm25.stats)

    def delta(name: str) -> int:
        return bm25.stats[name] - start.get(name, 0)

    first = get_services(settings).bm25_index()
    assert (delta("built"), delta("loaded")) == (1, 0)
    assert get_services(settings).bm25_index() is first  # cached in memory
    saved = list(index_dir(settings).iterdir())
    assert len(saved) == 1 and saved[0].name.startswith(first.fingerprint)

    forget("bm25")  # a new process: loads from disk, no rebuild
    loaded = get_services(settings).bm25_index()
    assert (delta("built"), delta("loaded")) == (1, 1)
    assert loaded.ids == first.ids and _bm25_ids(settings, "quillbrook") == {"alpha"}

    bump_generation(settings)  # the marker moved but the chunks did not: revalidated by id, kept
    assert get_services(settings).bm25_index() is loaded and delta("built") == 1

    _write(folder, "beta.md", _doc("beta", "Beta", {"Codes": "Code word marrowfen."}))
    ingest_paths([folder / "beta.md"], settings)  # bumps the generation: rebuilt once, then cached
    rebuilt = get_services(settings).bm25_index()
    assert delta("built") == 2 and rebuilt.fingerprint != first.fingerprint and len(rebuilt) == 2
    assert get_services(settings).bm25_index() is rebuilt and delta("built") == 2
    assert [p.name for p in index_dir(settings).iterdir()] == [
        saved[0].name.replace(first.fingerprint, rebuilt.fingerprint)
    ]


def test_a_damaged_saved_index_is_rebuilt(settings: Settings, tmp_path: Path) -> None:
    ingest_paths([_write(tmp_path, "alpha.md", _doc("alpha", "Alpha", {"Codes": "Code word quillbrook."}))], settings)
    forget("bm25")
    index = get_services(settings).bm25_index()
    [folder] = index_dir(settings).iterdir()
    (folder / "chunks.json").write_text(json.dumps({"fingerprint": index.fingerprint, "ids": ["bogus"]}))
    forget("bm25")
    built = bm25.stats["built"]
    assert _bm25_ids(settings, "quillbrook") == {"alpha"}
    assert bm25.stats["built"] == built + 1


def test_concurrent_queries_build_once(small_chunks: Settings, tmp_path: Path) -> None:
    ingest_paths([_write(tmp_path, "travel.md", _doc("travel", "Travel Policy", TRAVEL))], small_chunks)
    forget("bm25")
    shutil.rmtree(index_dir(small_chunks), ignore_errors=True)  # nothing saved either: every thread must wait
    built = bm25.stats["built"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(pool.map(lambda _: [r.id for r in search("form QZ-7781", small_chunks, k=3)], range(16)))
    assert bm25.stats["built"] == built + 1
    assert all(run == runs[0] for run in runs)


# --------------------------------------------------------------------------------------------- follow-ups

PILLAR_TWO = "What questions does pillar two of the UK public value framework ask?"


def _history(*turns: str) -> list[dict]:
    """Alternating user / assistant messages in Gradio's "messages" format."""
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("and what about pillar three?", True),
        ("What about the National TOMs?", True),
        ("How is it measured?", True),
        ("What does that mean?", True),
        ("Which of those apply to councils?", True),
        ("pillar three?", True),
        ("Why?", True),
        ("Tell me more", True),
        ("Same for the Social Value Model", True),
        ("What is principle F of good governance?", False),
        ("How many core measures do the National TOMs have?", False),
        ("What principles ensure that stakeholders are involved?", False),
        ("How does the public body plan to manage its financial resources?", False),
        ("What are its themes?", True),
        ("How do councils use these measures?", True),
        ("Define social value", False),
        ("", False),
    ],
)
def test_followup_detection(question: str, expected: bool) -> None:
    assert is_followup(question) is expected


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        # a fragment replaces the matching words of the previous question
        (_history(PILLAR_TWO, "Pillar two asks …"), "and what about pillar three?",
         "What questions does pillar three of the UK public value framework ask?"),
        (_history("What is principle F of good governance?", "Principle F is …"), "And principle G?",
         "What is principle G of good governance?"),
        (_history("How many core measures do the National TOMs have?", "48."), "and core outcomes?",
         "How many core outcomes do the National TOMs have?"),
        # a chain of follow-ups is resolved turn by turn
        (_history(PILLAR_TWO, "…", "and pillar three?", "…"), "and pillar four?",
         "What questions does pillar four of the UK public value framework ask?"),
        # anything else keeps its words and gains the previous question's key terms
        (_history("What is social value?", "Social value is …"), "How is it measured?",
         "How is it measured (social value)?"),
        (_history("What are the five themes of the Social Value Model?", "…"), "what about the National TOMs?",
         "The National TOMs (five themes Social Value Model)?"),
        # the assistant's turns are not questions; multimodal content keeps its text parts
        ([{"role": "user", "content": [{"type": "text", "text": "What is social value?"}]},
          {"role": "assistant", "content": "It is …"}], "Why?", "Why (social value)?"),
    ],
)  # fmt: skip
def test_deterministic_rewrite(history: list[dict], question: str, expected: str) -> None:
    assert rewrite_followup(question, history) == expected


@pytest.mark.parametrize(
    ("history", "question"),
    [
        (None, "and pillar three?"),
        ([], "How is it measured?"),
        (_history(PILLAR_TWO, "…"), "What is principle F of good governance?"),
        ([{"role": "assistant", "content": "Hello! Ask me about public value."}], "and pillar three?"),
    ],
)
def test_question_is_returned_unchanged(history, question: str) -> None:
    assert rewrite_followup(question, history) == question


def test_rewritten_question_retrieves_the_right_pillar(corpus_settings) -> None:
    standalone = rewrite_followup("and what about pillar three?", _history(PILLAR_TWO, "…"))
    assert "Pillar three" in search(standalone, corpus_settings, k=1)[0].section


def test_llm_rewrite_sees_the_conversation(fake_chat) -> None:
    llm = fake_chat("What questions does pillar three of the UK public value framework ask?")
    history = _history(PILLAR_TWO, "Pillar two asks how the public body manages its financial resources.")
    assert (
        rewrite_followup("and pillar three?", history, llm)
        == "What questions does pillar three of the UK public value framework ask?"
    )
    assert llm.calls == 1
    prompt = "\n".join(str(m.content) for m in llm.prompts[0])
    assert PILLAR_TWO in prompt and "manages its financial resources" in prompt and "and pillar three?" in prompt


def test_llm_is_not_asked_about_a_standalone_question(fake_chat) -> None:
    llm = fake_chat("should not be used")
    question = "What is principle F of good governance?"
    assert rewrite_followup(question, _history(PILLAR_TWO, "…"), llm) == question
    assert llm.calls == 0


def _raise(_messages):
    raise ConnectionError("backend down")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Standalone question: What does pillar three ask?", "What does pillar three ask?"),
        ('"What does pillar three ask?"', "What does pillar three ask?"),
        ("<think>they mean pillar three</think>\nWhat does pillar three ask?", "What does pillar three ask?"),
        ("", None),
        ("   \n  ", None),
        ("x" * (MAX_REWRITE_CHARS + 1), None),
        ("?!", None),
        (_raise, None),
    ],
)
def test_llm_reply_is_cleaned_or_replaced_by_the_fallback(fake_chat, reply, expected: str | None) -> None:
    history = _history(PILLAR_TWO, "…")
    fallback = rewrite_followup("and pillar three?", history)
    assert rewrite_followup("and pillar three?", history, fake_chat(reply)) == (expected or fallback)
